"""MkDocs hook: turn the LaTeX that pymdownx.arithmatex marks into MathML at build time.

arithmatex (``generic: true``) leaves ``<span class="arithmatex">\\(...\\)</span>`` and
``<div class="arithmatex">\\[...\\]</div>``; latex2mathml converts each to MathML, which
browsers render natively, so the site needs no MathJax or KaTeX script and no CDN. A formula
that latex2mathml cannot read fails the build (an unknown command would otherwise show as text).
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.DOTALL)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.DOTALL)
_UNKNOWN = re.compile(r"<mi>\\[A-Za-z]+</mi>|<mi>\\</mi>")


def _mathml(latex: str, display: str, where: str) -> str:
    source = html.unescape(latex).strip()
    try:
        result = convert(source, display=display)
    except Exception as exc:  # latex2mathml raises several exception types
        raise PluginError(f"{where}: cannot convert formula {source!r}: {exc}") from exc
    if _UNKNOWN.search(result) or "<mo>&amp;</mo>" in result:
        raise PluginError(f"{where}: LaTeX that latex2mathml cannot render in {source!r}")
    return result


def on_page_content(html_text: str, page, config, files) -> str:
    where = page.file.src_path
    html_text = _BLOCK.sub(
        lambda m: f'<div class="math">{_mathml(m.group(1), "block", where)}</div>', html_text
    )
    return _INLINE.sub(lambda m: _mathml(m.group(1), "inline", where), html_text)
