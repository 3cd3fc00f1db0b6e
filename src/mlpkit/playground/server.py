"""The playground's web server: one page, its static files, and one WebSocket per tab.

Safe by default: :func:`serve` binds 127.0.0.1, and every HTTP and WebSocket request must name
the server itself in its ``Host`` header (no DNS rebinding) and, when it has an ``Origin``
(a WebSocket always has), come from the server's own page (no cross-site control).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import threading
import webbrowser
from collections.abc import Iterable
from importlib import resources

try:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import FileResponse, PlainTextResponse
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the playground needs the optional extra 'playground' (Starlette, uvicorn, websockets): "
        "pip install 'mlpkit[playground]'"
    ) from error

from . import protocol
from .session import Session

__all__ = ["HostGuard", "create_app", "serve"]

log = logging.getLogger("mlpkit.playground")
STATIC = resources.files("mlpkit.playground") / "static"
MAX_SESSIONS = 32  # tabs served at once
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class HostGuard:
    """Which ``Host`` values (``name:port``) and origins the server answers.

    ``allowed`` lists host:port values; with ``any_ip_port`` set (a server bound to every
    address) a Host that is an IP address literal with that port is accepted too; host
    names outside ``allowed`` never are, which is what defeats DNS rebinding.
    """

    def __init__(self, allowed: Iterable[str], any_ip_port: int | None = None) -> None:
        self.allowed = {host.lower() for host in allowed}
        self.any_ip_port = any_ip_port

    def host_ok(self, host: str) -> bool:
        host = host.lower()
        if host in self.allowed:
            return True
        if self.any_ip_port is None:
            return False
        name, _, port = host.rpartition(":")
        return port == str(self.any_ip_port) and _is_ip_literal(name)

    def check(self, headers: dict[str, str], websocket: bool) -> str | None:
        """None when the request may go on, else why not."""
        host = headers.get("host", "")
        if not self.host_ok(host):
            return f"Host {host!r:.80} is not this server"
        origin = headers.get("origin")
        if origin is None:
            return "a WebSocket needs an Origin header" if websocket else None
        if origin.lower() != f"http://{host.lower()}":
            return f"Origin {origin!r:.80} is not this server's page"
        return None


class _Guarded:
    """ASGI middleware: refuse (403) every request the :class:`HostGuard` does not allow."""

    def __init__(self, app, guard: HostGuard) -> None:
        self.app, self.guard = app, guard

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            reason = self.guard.check(headers, scope["type"] == "websocket")
            if reason is not None:
                log.warning("refused %s request: %s", scope["type"], reason)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                else:
                    await PlainTextResponse(f"403 Forbidden: {reason}", 403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _index(request):
    return FileResponse(str(STATIC / "index.html"), headers=SECURITY_HEADERS)


async def _play(websocket: WebSocket) -> None:
    """One tab: its own :class:`Session`, messages answered one after the other."""
    sessions = websocket.app.state.sessions
    if len(sessions) >= MAX_SESSIONS:
        await websocket.close(code=1013)
        return
    await websocket.accept()
    session = Session()
    sessions[id(session)] = session
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            try:  # training runs in a worker thread: other tabs are served meanwhile
                answer = await run_in_threadpool(protocol.handle, session, text)
            except Exception as error:  # a bug must not take the server down
                log.exception("error answering a message")
                answer = {"type": "error", "message": f"internal error: {type(error).__name__}"}
            await websocket.send_text(protocol.encode(answer))
    except WebSocketDisconnect:
        pass
    finally:
        sessions.pop(id(session), None)
        session.close()


def create_app(allowed_hosts: Iterable[str] = ("127.0.0.1:8765", "localhost:8765"),
               any_ip_port: int | None = None):
    """The ASGI application: ``/`` the page, ``/static/`` its files, ``/ws`` the WebSocket.

    Parameters
    ----------
    allowed_hosts : iterable of str
        ``Host`` header values (``name:port``) the server answers to.
    any_ip_port : int or None
        Also accept any IP address literal with this port as Host (for ``--host 0.0.0.0``).

    ``app.state.sessions`` maps an id to each open tab's :class:`Session`.
    """
    routes = [
        Route("/", _index),
        WebSocketRoute("/ws", _play),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.sessions = {}
    app.add_middleware(_Guarded, guard=HostGuard(allowed_hosts, any_ip_port))
    return app


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}; choose "
                      "another --port (0 picks a free one)") from None
    return sock


def warm_up() -> None:
    """Train one epoch of a default session, so that the optional compiled kernels (numba,
    compiled on first use: seconds) are ready before the first press of play."""
    session = Session()
    session.train(1)
    session.close()


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> None:
    """Run the playground until Ctrl-C: print the URL, open a browser unless told not to."""
    import uvicorn

    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an integer in [0, 65535], got {port!r}")
    sock = _bind(host, port)
    port = sock.getsockname()[1]
    wildcard = host in ("0.0.0.0", "::", "")
    shown = "127.0.0.1" if wildcard else (f"[{host}]" if ":" in host else host)
    names = {shown, "localhost", "127.0.0.1", "[::1]"} if wildcard or shown in (
        "127.0.0.1", "localhost", "[::1]") else {shown}
    app = create_app({f"{name}:{port}" for name in names}, port if wildcard else None)
    config = uvicorn.Config(app, log_level="warning", ws_max_size=1 << 20, lifespan="off",
                            timeout_graceful_shutdown=2)
    url = f"http://{shown}:{port}/"
    print(f"mlpkit playground: {url}  (Ctrl-C stops it)", flush=True)
    if wildcard:
        print("mlpkit playground: listening on every address; anyone who can reach this "
              "machine can use it", file=sys.stderr, flush=True)
    threading.Thread(target=warm_up, name="playground-warm-up", daemon=True).start()
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    try:  # uvicorn stops on Ctrl-C, then raises the signal again: that is our normal end
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("mlpkit playground: stopped", flush=True)
