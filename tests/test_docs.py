"""The documentation cannot drift from the code: every ```python block of README.md and of the
pages under docs/ is run, and its output compared with the block that follows it.

A Markdown page states what each Python block is, with an HTML comment on the line before it
(invisible on the rendered page):

* no comment: an example. The blocks of one page run in order in one namespace (a later block
  may use an earlier block's names), in a temporary working folder. If the block is followed
  (blank lines aside) by a ```text block (or a bare ``` block), what the example prints must
  equal it, line by line (trailing spaces ignored; ``...`` in the shown output matches
  anything, as in doctest).
* ``<!-- docs-test: quote src/mlpkit/FILE.py -->``: a quote of the source. Every line of it
  (comments after ``#`` left out) must appear in FILE, in the same order.
* ``<!-- docs-test: skip REASON -->``: not run, for the reason given (it needs a dataset, a
  cluster or a long run); the test report lists it as skipped with that reason.

Shell blocks (```sh) are not run; the commands they show are tested in tests/cli/test_cli.py.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import itertools
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import mlpkit

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").rglob("*.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
_FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)\s*$")
_MARKER = re.compile(r"^<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*-->\s*$")


@dataclass
class Block:
    """One fenced code block: its language, text, first line and the marker before it."""

    lang: str
    code: str
    line: int
    marker: str = ""
    argument: str = ""
    output: str | None = None  # the ```text block right after an example


def parse_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with markers and following output blocks."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, lang, start = match.group(1), match.group(2).lower(), i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence), None)
        if end is None:
            raise ValueError(f"line {i + 1}: code block is never closed")
        block = Block(lang, "\n".join(lines[i + 1 : end]) + "\n", start + 1)
        before = start - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        marker = _MARKER.match(lines[before]) if before >= 0 else None
        if marker:
            block.marker, block.argument = marker.group(1), marker.group(2)
        blocks.append(block)
        i = end + 1
    for previous, block in itertools.pairwise(blocks):
        if previous.lang == "python" and block.lang in ("", "text") and not block.marker:
            gap = text.splitlines()[previous.line + previous.code.count("\n") : block.line - 1]
            if all(not line.strip() for line in gap[1:]):
                previous.output = block.code
    return blocks


def _page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _python_blocks(path: Path) -> list[Block]:
    return [b for b in parse_blocks(path.read_text(encoding="utf-8")) if b.lang == "python"]


PAGES_WITH_CODE = [page for page in PAGES if _python_blocks(page)]


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines()) + "\n"


def _same_output(want: str, got: str) -> bool:
    checker = doctest.OutputChecker()
    return checker.check_output(_normalise(want), _normalise(got), doctest.ELLIPSIS)


def _run_example(block: Block, namespace: dict, where: str) -> None:
    buffer = io.StringIO()
    code = compile(block.code, where, "exec")
    with contextlib.redirect_stdout(buffer), np.printoptions(), warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(code, namespace)
    if block.output is not None and not _same_output(block.output, buffer.getvalue()):
        pytest.fail(
            f"{where}: the example prints\n{buffer.getvalue()}\nbut the page shows\n"
            f"{block.output}"
        )


def _check_quote(block: Block, where: str) -> None:
    source_path = ROOT / block.argument
    assert source_path.is_file(), f"{where}: quotes {block.argument}, which does not exist"
    source = [line.split("  #")[0].strip() for line in source_path.read_text().splitlines()]
    position = 0
    for line in block.code.splitlines():
        wanted = line.split("  #")[0].strip()
        if not wanted or wanted.startswith("#"):
            continue
        try:
            position = source.index(wanted, position) + 1
        except ValueError:
            pytest.fail(f"{where}: the quoted line {wanted!r} is not in {block.argument} "
                        "(after the lines quoted before it): update the page")


@pytest.mark.parametrize("path", PAGES_WITH_CODE, ids=_page_id)
def test_python_blocks_run_and_print_what_the_page_shows(path, tmp_path, monkeypatch):
    blocks = _python_blocks(path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__main__"}
    skipped = []
    for block in blocks:
        where = f"{_page_id(path)}:{block.line}"
        if block.marker == "quote":
            _check_quote(block, where)
        elif block.marker == "skip":
            assert block.argument, f"{where}: a skipped block must say why"
            skipped.append(f"{where} ({block.argument})")
        elif block.marker:
            pytest.fail(f"{where}: unknown marker docs-test: {block.marker}")
        else:
            _run_example(block, namespace, where)
    if skipped and len(skipped) == len(blocks):
        pytest.skip("; ".join(skipped))


@pytest.mark.parametrize("path", PAGES_WITH_CODE, ids=_page_id)
def test_every_skipped_block_says_why(path):
    for block in _python_blocks(path):
        if block.marker == "skip":
            assert len(block.argument) > 10, f"{_page_id(path)}:{block.line}: give a reason"


def test_parser_reads_markers_and_outputs():
    page = (
        "text\n\n```python\nprint(1)\n```\n\n```text\n1\n```\n\n"
        "<!-- docs-test: skip needs the MNIST files -->\n```python\nload()\n```\n"
        "<!-- docs-test: quote src/mlpkit/network.py -->\n\n```python\nx = 1\n```\n"
    )
    blocks = parse_blocks(page)
    assert [(b.lang, b.marker) for b in blocks] == [
        ("python", ""), ("text", ""), ("python", "skip"), ("python", "quote")]
    assert blocks[0].output == "1\n"
    assert blocks[2].argument == "needs the MNIST files"
    assert blocks[3].argument == "src/mlpkit/network.py"


def test_output_check_fails_on_a_changed_number(tmp_path):
    block = Block("python", "print(round(2 / 3, 3))\n", 1, output="0.667\n")
    _run_example(block, {}, "good")
    block.output = "0.666\n"
    with pytest.raises(pytest.fail.Exception, match="the page shows"):
        _run_example(block, {}, "bad")
    block.output = "0.6...\n"
    _run_example(block, {}, "ellipsis")


def test_quote_check_fails_on_a_line_not_in_the_source():
    good = Block("python", "def mlp(\n", 1, "quote", "src/mlpkit/network.py")
    _check_quote(good, "good")
    bad = Block("python", "def mlp_that_does_not_exist(\n", 1, "quote", "src/mlpkit/network.py")
    with pytest.raises(pytest.fail.Exception, match=r"not in src/mlpkit/network\.py"):
        _check_quote(bad, "bad")


def test_api_reference_lists_every_public_name():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    documented = re.findall(r"^::: mlpkit\.(\w+)\s*$", text, flags=re.MULTILINE)
    missing = [n for n in mlpkit.__all__ if n not in documented and n != "__version__"]
    assert not missing, f"docs/api.md lacks ::: mlpkit.NAME for {missing}"
    assert "mlpkit.__version__" in text
    stale = [n for n in documented if n not in mlpkit.__all__]
    assert not stale, f"docs/api.md documents names not in mlpkit.__all__: {stale}"
    assert len(documented) == len(set(documented)), "a name is documented twice"


def test_site_nav_lists_every_page():
    mkdocs_yml = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    missing = [p for p in pages if p not in mkdocs_yml]
    assert not missing, f"mkdocs.yml's nav lacks {missing}"


# -- documented defaults and names: change one in the code and the page must follow ----------


def _section(path: Path, start: str, end: str) -> str:
    text = path.read_text(encoding="utf-8")
    return text[text.index(start) : text.index(end, text.index(start))]


def test_cli_page_lists_every_subcommand():
    from mlpkit.cli import build_parser

    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)
    page = ROOT / "docs" / "cli.md"
    table = _section(page, "| command | does |", "`mlpkit COMMAND --help`")
    assert set(re.findall(r"^\| `mlpkit (\w+)", table, flags=re.MULTILINE)) == commands
    words = {4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
    assert f"It has {words.get(len(commands), len(commands))} subcommands" in page.read_text()


def test_cli_page_states_the_recipes_defaults():
    from mlpkit.cli import RECIPES

    table = _section(ROOT / "docs" / "cli.md", "| option | `--recipe lecture`", "\n\n")
    rows = {m.group(1): (m.group(2), m.group(3))
            for m in re.finditer(r"^\| `(--[\w-]+)` \| (.*?) \| (.*?) \|$", table, re.MULTILINE)}
    for recipe, column in (("lecture", 0), ("fast", 1)):
        values = RECIPES[recipe]
        assert rows["--hidden"][column] == " ".join(map(str, values["hidden"]))
        assert int(rows["--batch-size"][column]) == values["batch_size"]
        assert int(rows["--epochs"][column].split()[0]) == values["epochs"]
        assert rows["--init"][column].split()[0] == values["init"]
    optimizer = re.search(r"^\| `--optimizer`, `--learning-rate` \| (.*?) \|", table, re.MULTILINE)
    assert f"η = {RECIPES['lecture']['learning_rate']}" in optimizer.group(1)


def test_sklearn_page_states_the_estimators_defaults():
    import inspect
    from ast import literal_eval

    sklearn_estimators = pytest.importorskip("mlpkit.sklearn")
    page = ROOT / "docs" / "sklearn.md"
    listed = _section(page, "with the same meaning and default:", "They are checked in")
    table = _section(page, "The lecture's own parameters:", "\n\n`fit(")
    documented = dict(re.findall(r"`(\w+)=([^`]+)`", listed))
    documented |= dict(re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", table, re.MULTILINE))
    signature = inspect.signature(sklearn_estimators.MLPClassifier).parameters
    checked = 0
    for name, shown in documented.items():
        if name not in signature:
            continue
        try:
            value = literal_eval(shown)
        except (ValueError, SyntaxError):
            continue  # e.g. "log_loss" / "squared_error": one default per estimator
        assert signature[name].default == value, f"docs/sklearn.md: {name}={shown}"
        checked += 1
    assert checked >= 20, f"only {checked} defaults were found on the page"


_REPO_PATH = re.compile(r"`((?:src|tests|examples|benchmarks|docs|notebooks|fuzz)/[\w./-]+)")


@pytest.mark.parametrize("path", PAGES, ids=_page_id)
def test_files_the_page_names_exist(path):
    text = path.read_text(encoding="utf-8")
    missing = []
    for name in sorted(set(_REPO_PATH.findall(text))):
        name = name.split("::")[0].rstrip(".")
        if not (ROOT / name).exists():
            missing.append(name)
    for name in sorted(set(re.findall(r"`([\w-]+\.md)`", text))):
        if not list(ROOT.rglob(name)):
            missing.append(name)
    assert not missing, f"{_page_id(path)} names files not in the repository: {missing}"
