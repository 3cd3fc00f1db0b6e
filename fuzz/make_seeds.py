"""Write the hand-made seeds of every fuzz target into ``fuzz/corpus/<target>/``.

The committed corpora started from these seeds and grow with each campaign
(``fuzz/run_campaign.py --merge``) and each finding (``regression-*`` files, kept forever).
Rerun this after a change of the model-file or checkpoint layout: the seeds are made with the
library as it is, and files already there are kept.

    PYTHONPATH=src python fuzz/make_seeds.py
"""

from __future__ import annotations

import base64
import gzip
import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fuzz_checkpoint
import fuzz_model
from _common import CORPUS_DIR
from _forge import forged_input

from mlpkit.cli.config import dump_config

#: Inputs that were findings, by target: (file name, bytes). Never remove one.
REGRESSIONS: dict[str, list[tuple[str, bytes]]] = {
    "idx": [
        # issue 17: a 0-size dimension next to huge ones; NumPy refused the reshape
        ("regression-issue17-zero-dim-huge-shape",
         base64.b64decode("AAANBgAACAMAAAAAAAAAISEhISEhISEhISEhAA==")),
    ],
    "config": [
        ("regression-not-utf8", b"epochs = 3\n\xff\n"),
        ("regression-int-5000-digits", b"epochs = " + b"1" * 5000 + b"\n"),
    ],
    "model": [
        # class_names = 5 loaded; ONNX export then failed (an edit program on fuzz_model.base)
        ("regression-class-names-int", bytes.fromhex("01b7602b680f1b57fd941546cf")),
    ],
    "image": [
        ("regression-p2-pixel-past-int64",
         b"P2\n# comment\n2 2\n255\n0 1 2 2" + b"5" * 60 + b"\n"),
        ("regression-p2-header-5000-digits", b"P2\n" + b"1" * 5000 + b" 2\n255\n0\n"),
    ],
}


def idx_seeds() -> dict[str, bytes]:
    images = b"\x00\x00\x08\x03" + struct.pack(">III", 2, 3, 3) + bytes(range(18))
    labels = b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x03\x07"
    floats = b"\x00\x00\x0d\x02" + struct.pack(">II", 1, 2) + struct.pack(">ff", 1.5, -2.0)
    doubles = b"\x00\x00\x0e\x01" + struct.pack(">I", 1) + struct.pack(">d", 0.25)
    shorts = b"\x00\x00\x0b\x01\x00\x00\x00\x02\x01\x02\xff\xfe"
    return {"images": images, "labels": labels, "float32": floats, "float64": doubles,
            "int16": shorts, "images.gz": gzip.compress(images, mtime=0),
            "truncated": images[:9], "bad-magic": b"\xff\xff\x08\x00"}


def csv_seeds() -> dict[str, bytes]:
    # the first two bytes choose the options (fuzz_csv.options); 0x00 0x00: header detected,
    # comma, last column the target, every other column a feature
    return {k: v[:1] + b"\x00" + v[1:] for k, v in _csv_files().items()}


def _csv_files() -> dict[str, bytes]:
    return {"header": b"\x00a,b,y\n1,2,0\n3,4,1\n", "bom": b"\x00\xef\xbb\xbfx,y\n1,0\n",
            "nan": b"\x00a,y\n1,nan\n", "short-row": b"\x00a,b\n1\n", "empty": b"\x00",
            "one-column": b"\x00y\n1\n", "overflow": b"\x00a,y\n1e400,0\n",
            "no-header-semicolon": b"\x03" + b"1;2;0\n3;4;1\n",
            "tab-named-target": b"\x44" + b"a\ty\tb\n1\t0\t2\n",
            "quoted": b"\x00\"a,1\",y\n\"1\",2\n", "blank-lines": b"\x00a,y\n\n1,2\n\n",
            "string-labels": b"\x00a,y\n1,cat\n2,dog\n",
            "detected-header-id-column": b"\x00id;x;label\n1;0.5;a\n2;NA;b\n".replace(b";", b","),
            "no-header-detected": b"\x001,2,0\n3,4,1\n", "missing-markers": b"\x00a,y\n?,1\n"}


def _png(width: int, height: int, depth: int, color: int, rows: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I",
                                                                        zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def image_seeds() -> dict[str, bytes]:
    grey = _png(3, 2, 8, 0, b"\x00\x00\x80\xff\x01\x10\x10\x10")
    every_filter = _png(2, 5, 8, 0, b"".join(bytes([f, 7, 9]) for f in range(5)))
    return {
        "p2": b"P2\n# comment\n2 2\n255\n0 1 2 255\n",
        "p5": b"P5 2 2 255\n\x00\x01\x02\xff",
        "p5-16bit": b"P5\n1 2\n65535\n\x00\x01\xff\xff",
        "png-grey": grey, "png-filters": every_filter,
        "png-grey16": _png(1, 1, 16, 0, b"\x00\x12\x34"),
        "png-rgb": _png(1, 1, 8, 2, b"\x00\x10\x20\x30"),
        "png-rgba": _png(1, 1, 8, 6, b"\x00\x10\x20\x30\x40"),
        "png-grey-alpha": _png(1, 1, 8, 4, b"\x00\x10\x20"),
        "png-bomb-header": _png(30000, 30000, 8, 0, b"\x00"),
        "crc-fixed-grey": b"!" + grey[8:],  # "!": CRCs recomputed by the target
        "not-an-image": b"GIF89a",
    }


def config_seeds() -> dict[str, bytes]:
    written = dump_config({"recipe": "fast", "hidden": [8, 4], "activation": "relu",
                           "learning_rate": 0.01, "epochs": 2, "bias": True,
                           "dataset": "xor", "batch_size": 0}, "mlpkit train options")
    return {"written": written.encode(), "train-table": b"[train]\nepochs = 1\nlr = 0.5\n",
            "underscores": b"learning_rate = 0.1\nvalidation_split = 0.2\n",
            "bad-choice": b'optimizer = "rmsprop"\n', "nested": b"[train.sub]\nx = 1\n",
            "bad-toml": b"epochs = \n", "list-for-scalar": b"epochs = [1, 2]\n",
            "negative-lr": b"learning-rate = -1.0\n", "unknown": b"colour = 'blue'\n"}


def _programs() -> dict[str, bytes]:
    # edit programs (see _forge.edit): a mode byte, then 12-byte edits (op, index, payload)
    return {f"edit-op{op}-at{index}": bytes([2, op, index, 0]) + bytes(range(3, 12))
            for op in range(8) for index in (1, 7, 40)}


def model_seeds() -> dict[str, bytes]:
    base = fuzz_model.base()
    return {"valid.mlpk": base, "forged": forged_input(base), "truncated": base[:40],
            "pickle": b"\x80\x04junk", "zip": b"PK\x03\x04", **_programs()}


def checkpoint_seeds() -> dict[str, bytes]:
    base = fuzz_checkpoint.base()
    return {"valid.mlpk": base, "forged": forged_input(base), **_programs()}


def playground_seeds() -> dict[str, bytes]:
    # up to four messages, one per line (fuzz_playground.messages)
    return {
        "ping": b'{"type":"ping","id":7}', "reset": b'{"type":"reset","id":"r"}',
        "train": b'{"type":"train","epochs":3}', "sample-trace":
            b'{"type":"sample","index":0}\n{"type":"trace","index":5}',
        "download": b'{"type":"download","what":"model"}\n{"type":"download","what":"script"}',
        "config-network": b'{"type":"config","config":{"hidden":[3,3],"activation":"relu",'
                          b'"dataset":"spiral","features":["x1","x2","x1x2"]}}\n'
                          b'{"type":"train","epochs":2}',
        "config-live": b'{"type":"config","config":{"learning_rate":0.3,'
                       b'"batch_mode":"minibatch","batch_size":7,"momentum":0.5}}',
        "config-epochs-per-update": b'{"type":"config","config":{"epochs_per_update":3}}\n'
                                    b'{"type":"train"}\n{"type":"train","epochs":2}',
        "preset": b'{"type":"config","config":{"preset":"backprop-2-2-2"}}\n'
                  b'{"type":"sample","index":0}',
        "bad": b'{"type":"train","epochs":0}\n[1]\nnot json\n{"type":"x"}',
        "binary": b"\0\x00\x01",
    }


SEEDS = {"idx": idx_seeds, "csv": csv_seeds, "model": model_seeds,
         "checkpoint": checkpoint_seeds, "image": image_seeds, "config": config_seeds,
         "playground": playground_seeds, "onnx": model_seeds}


def write(folder: Path, name: str, data: bytes) -> bool:
    path = folder / name
    if path.exists():
        return False
    path.write_bytes(data)
    return True


def main() -> None:
    for target, make in SEEDS.items():
        folder = CORPUS_DIR / target
        folder.mkdir(parents=True, exist_ok=True)
        items = {f"seed-{name}": data for name, data in make().items()}
        items.update(REGRESSIONS.get(target, []))
        added = sum(write(folder, name, data) for name, data in items.items())
        print(f"{target}: {added} new seed files, {len(list(folder.iterdir()))} in the corpus")


if __name__ == "__main__":
    main()
