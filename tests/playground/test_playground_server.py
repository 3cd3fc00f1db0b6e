"""The playground's web server: the page and its files, the Host/Origin guard, the WebSocket
(1,000 malformed messages, one network per tab) and the command (needs the 'playground'
extra and httpx2 for Starlette's TestClient; skipped without them)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("starlette", reason="needs the 'playground' extra")
pytest.importorskip("uvicorn", reason="needs the 'playground' extra")
pytest.importorskip("httpx2", reason="starlette's TestClient needs httpx2")
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from test_playground import malformed_messages

from mlpkit.playground.server import HostGuard, create_app

HOST = "testserver"
OWN = {"origin": "http://testserver"}


@pytest.fixture
def client():
    app = create_app(allowed_hosts=[HOST])
    with TestClient(app) as c:
        yield c


def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="play"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("playground.js", "playground.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert "http" not in client.get("/static/index.html").text.split("<body>")[0].replace(
        "http-equiv", "")  # nothing loaded from elsewhere


def test_a_foreign_origin_or_host_is_refused(client):
    assert client.get("/", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.get("/", headers={"host": "evil.example:8765"}).status_code == 403
    for headers in ({"origin": "http://evil.example"}, {}, {"host": "rebound.example",
                                                          **OWN}):
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws", headers=headers):
            pass


def test_the_host_guard_accepts_ip_literals_only_on_a_wildcard_bind():
    guard = HostGuard(["127.0.0.1:8765"], any_ip_port=8765)
    assert guard.host_ok("127.0.0.1:8765") and guard.host_ok("192.168.1.5:8765")
    assert not guard.host_ok("attacker.example:8765") and not guard.host_ok("192.168.1.5:80")
    assert not HostGuard(["127.0.0.1:8765"]).host_ok("192.168.1.5:8765")


def test_the_websocket_answers_every_message_and_keeps_running(client):
    with client.websocket_connect("/ws", headers=OWN) as ws:
        ws.send_text(json.dumps({"type": "config", "config": {"hidden": [3]}, "id": 1}))
        state = json.loads(ws.receive_text())
        assert state["type"] == "state" and state["sizes"] == [2, 3, 1] and state["id"] == 1
        for text in malformed_messages(1000):
            if isinstance(text, bytes):
                ws.send_bytes(text)
            else:
                ws.send_text(text if text is not None else "null")
            assert json.loads(ws.receive_text())["type"] == "error"
        ws.send_text('{"type": "train", "epochs": 3}')
        frame = json.loads(ws.receive_text())
        assert frame["type"] == "frame" and frame["epoch"] == 3
        assert frame["test_loss"] < state["frame"]["test_loss"]
        ws.send_text('{"type": "sample", "index": 0}')
        assert json.loads(ws.receive_text())["trace"]["applied"]


def test_each_tab_has_its_own_network(client):
    sessions = client.app.state.sessions
    with client.websocket_connect("/ws", headers=OWN) as one, \
            client.websocket_connect("/ws", headers=OWN) as two:
        one.send_text('{"type": "config", "config": {"hidden": [5, 5]}}')
        two.send_text('{"type": "train", "epochs": 1}')
        assert json.loads(one.receive_text())["sizes"] == [2, 5, 5, 1]
        assert json.loads(two.receive_text())["epoch"] == 1
        assert sorted(s.network.sizes for s in sessions.values()) == [[2, 4, 2, 1],
                                                                      [2, 5, 5, 1]]
    assert not sessions


# -- the command ---------------------------------------------------------------------------
def get(url: str, **headers) -> int:
    """The HTTP status of GET ``url`` (urllib: no client library needed)."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_command_prints_the_url_serves_the_page_and_stops_on_ctrl_c():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "MLPKIT_NUMBA": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpkit", "playground", "--port", "0", "--no-browser"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline()
        assert line.startswith("mlpkit playground: http://127.0.0.1:"), line
        url = line.split()[2]
        status = None
        for _ in range(100):
            try:
                status = get(url)
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        assert status == 200
        assert get(url, Origin="http://evil.example") == 403
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out


def test_the_command_refuses_a_bad_port(capsys):
    from mlpkit.cli import main

    assert main(["playground", "--port", "70000"]) == 2
    assert "--port must be in [0, 65535]" in capsys.readouterr().err
