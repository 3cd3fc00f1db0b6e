"""The page's messages and the answers, as plain functions of a :class:`Session` and a text.

Every message is one JSON object of at most :data:`MAX_MESSAGE` characters with a ``type``
and an optional ``id`` (echoed in the answer). Anything wrong (not JSON, unknown type, a field
out of bounds, a network that cannot be trained) is answered with
``{"type": "error", "message": ...}``; the session stays as it was and the server keeps running.

===========  ==============================  =================================================
type         fields                          answer
===========  ==============================  =================================================
config       config: {field: value, ...}     state (settings, points, frame)
reset                                        state
train        epochs: 1..MAX_EPOCHS           frame
sample       index: a training point         frame with ``trace`` (one online update)
trace        index: a training point         trace (nothing changes)
download     what: "model" or "script"       file (name, mime, base64 data)
ping                                         pong
===========  ==============================  =================================================

A "train" message without ``epochs`` trains the configuration's ``epochs_per_update`` epochs
(the page's setting, which is in its URL like every other).
"""

from __future__ import annotations

import base64
import json

from ..training import TrainingDivergedError
from .config import LIMITS, PlaygroundConfig
from .session import Session

__all__ = ["MAX_EPOCHS", "MAX_MESSAGE", "handle"]

MAX_MESSAGE = 16_384  # characters of one message
MAX_EPOCHS = LIMITS["epochs_per_update"][1]  # epochs of one "train" message
_FIELDS = {
    "config": {"config"}, "reset": set(), "train": {"epochs"}, "sample": {"index"},
    "trace": {"index"}, "download": {"what"}, "ping": set(),
}  # fmt: skip


class ProtocolError(ValueError):
    """A message that cannot be carried out; its text goes back to the page."""


def _int_field(message: dict, name: str, low: int, high: int, default: int | None = None) -> int:
    value = message.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError(f"{message['type']}: {name} must be an integer in [{low}, {high}], "
                            f"got {value!r:.40}")
    return value


def parse(text) -> dict:
    """The message in ``text``, checked for size, shape, type and fields."""
    if not isinstance(text, str):
        raise ProtocolError("messages must be JSON text, got binary data")
    if len(text) > MAX_MESSAGE:
        raise ProtocolError(f"message too long: at most {MAX_MESSAGE} characters, got "
                            f"{len(text)}")
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"message is not valid JSON: {str(error)[:80]}") from None
    if not isinstance(message, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(message).__name__}")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in _FIELDS:
        raise ProtocolError(f"type must be one of {sorted(_FIELDS)}, got {kind!r:.40}")
    extra = set(message) - _FIELDS[kind] - {"type", "id"}
    if extra:
        raise ProtocolError(f"{kind}: unexpected field(s) {sorted(extra)[:5]}")
    ident = message.get("id")
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, int | str)
                              or len(str(ident)) > 32):
        raise ProtocolError("id must be an integer or a string of at most 32 characters")
    return message


def _download(session: Session, what) -> dict:
    if what == "model":
        data, name, mime = session.model_bytes(), "playground.mlpk", "application/octet-stream"
    elif what == "script":
        data, name, mime = session.script().encode(), "playground_run.py", "text/x-python"
    else:
        raise ProtocolError(f"download: what must be 'model' or 'script', got {what!r:.40}")
    return {"type": "file", "name": name, "mime": mime,
            "data": base64.b64encode(data).decode("ascii")}


def _carry_out(session: Session, message: dict) -> dict:
    kind = message["type"]
    if kind == "config":
        try:
            config = PlaygroundConfig.from_dict(message.get("config"), base=session.config)
        except (TypeError, ValueError) as error:
            raise ProtocolError(f"config: {error}") from None
        session.configure(config)
        return {"type": "state", **session.state()}
    if kind == "reset":
        session.reset()
        return {"type": "state", **session.state()}
    if kind == "train":
        session.train(_int_field(message, "epochs", 1, MAX_EPOCHS,
                                 default=session.config.epochs_per_update))
        return {"type": "frame", **session.frame()}
    last = len(session.F_train) - 1
    if kind == "sample":
        trace = session.one_sample(_int_field(message, "index", 0, last))
        return {"type": "frame", **session.frame(), "trace": trace}
    if kind == "trace":
        return {"type": "trace", "trace": session.trace(_int_field(message, "index", 0, last))}
    if kind == "download":
        return _download(session, message.get("what"))
    return {"type": "pong"}


def handle(session: Session, text) -> dict:
    """The answer to one message ``text`` from the page (never raises for a bad message)."""
    ident = None
    try:
        message = parse(text)
        ident = message.get("id")
        answer = _carry_out(session, message)
    except ProtocolError as error:
        answer = {"type": "error", "message": str(error)}
    except TrainingDivergedError as error:
        answer = {"type": "error", "message": f"training diverged: {error}"}
    except (TypeError, ValueError) as error:  # e.g. step units cannot be trained
        answer = {"type": "error", "message": " ".join(str(error).split())}
    if ident is not None:
        answer["id"] = ident
    return answer


def encode(answer: dict) -> str:
    """``answer`` as JSON text; non-finite numbers (which JSON cannot hold) become an error."""
    try:
        return json.dumps(answer, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps({"type": "error", "id": answer.get("id"),
                           "message": "the network's numbers are no longer finite (NaN or "
                                      "infinity); lower the learning rate and press reset"})
