"""Fuzz target for the playground's messages (:func:`mlpkit.playground.protocol.handle`).

An input is up to four messages, one per line, sent in order to a fresh session, as the page
sends them over the WebSocket (a line starting with a NUL byte is sent as a binary frame).
"""

from __future__ import annotations

import json
import sys

from _common import main

from mlpkit.playground import Session
from mlpkit.playground.config import CHOICES, LIMITS
from mlpkit.playground.protocol import encode, handle

CONTRACT = (
    "handle(session, text) never raises; it answers a JSON-encodable object of a known type "
    "(state, frame, trace, file, pong or error), echoes a valid id, and after an error answer "
    "the session's settings are unchanged"
)
INSTRUMENT = ["mlpkit.playground.protocol", "mlpkit.playground.config"]
ANSWERS = {"state", "frame", "trace", "file", "pong", "error"}
MAX_MESSAGES = 4


def messages(data: bytes) -> list[str | bytes]:
    out: list[str | bytes] = []
    for line in data.split(b"\n")[:MAX_MESSAGES]:
        out.append(line[1:] if line[:1] == b"\0" else line.decode("utf-8", "replace"))
    return out


def test_one_input(data: bytes) -> None:
    session = Session()
    try:
        _send_all(session, data)
    finally:
        session.close()  # its kept-alive training thread


def _send_all(session: Session, data: bytes) -> None:
    for text in messages(data):
        before = session.config
        answer = handle(session, text)
        if not isinstance(answer, dict) or answer.get("type") not in ANSWERS:
            raise AssertionError(f"unknown answer {answer!r:.200}")
        json.loads(encode(answer))  # the server sends encode(answer): it must be JSON
        if answer["type"] == "error" and session.config != before:
            raise AssertionError(f"error {answer['message']!r} changed the settings")


def prepare() -> None:
    """Compile what training needs (numba) before -timeout counts.

    numba compiles the online kernel once per network depth and preset (each is its own
    specialisation, cached on disk afterwards): the campaign's one timeout was such a
    compilation, 2 s on a quiet machine, 15 s under a load of 10 (corpus
    ``regression-timeout-first-compile``). So every depth and every preset trains once here.
    """
    configs = [{"hidden": [2] * depth} for depth in range(LIMITS["hidden_layers"][1] + 1)]
    configs += [{"preset": name} for name in CHOICES["preset"] if name]
    for config in configs:
        setup = json.dumps({"type": "config", "config": config})
        test_one_input(f'{setup}\n{{"type":"train","epochs":1}}\n'
                       '{"type":"sample","index":0}'.encode())


if __name__ == "__main__":
    main(sys.modules[__name__])
