"""The playground: the lecture's network live in the browser, trained by mlpkit itself.

``mlpkit playground`` starts a local web server (the optional extra ``playground``:
Starlette, uvicorn, websockets) whose page is the TensorFlow Playground's picture, with every
step computed by :func:`mlpkit.train` and :func:`mlpkit.trace_step`.

Modules: ``datasets`` (the Playground's data sets and features, NumPy only), ``config``
(the settings, checked), ``presets`` (the lectures' worked examples), ``session`` (one tab's
network), ``script`` (the reproduction script), ``protocol`` (the page's messages, checked),
``server`` (the web app), ``cli`` (the subcommand). Only ``server`` needs the extra.
"""

from .config import PlaygroundConfig
from .session import Session

__all__ = ["PlaygroundConfig", "Session", "create_app"]


def create_app(*args, **kwargs):
    """The Starlette application (see :func:`mlpkit.playground.server.create_app`)."""
    from .server import create_app as create

    return create(*args, **kwargs)
