"""Tests of mlpkit.data.images: the PGM and PNG readers (every PNG filter, 16-bit, colour, damaged
files) and loading a folder of images with one sub-folder per class.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from mlpkit.data.images import load_image_folder, read_image


def png_bytes(pixels: np.ndarray, color: int, depth: int = 8, filt: int | None = None) -> bytes:
    """Encode a PNG with one filter type for every row (None: cycle through 0-4)."""
    height = pixels.shape[0]
    raw = pixels.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color] * depth // 8
    out, prev = bytearray(), np.zeros(raw.shape[1], dtype=np.int64)
    for y in range(height):
        kind = y % 5 if filt is None else filt
        cur = raw[y].astype(np.int64)
        left = np.concatenate([np.zeros(bpp, np.int64), cur[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
        if kind == 0:
            pred = np.zeros_like(cur)
        elif kind == 1:
            pred = left
        elif kind == 2:
            pred = prev
        elif kind == 3:
            pred = (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        out += bytes([kind]) + ((cur - pred) % 256).astype(np.uint8).tobytes()
        prev = cur

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", pixels.shape[1], height, depth, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(out)))
            + chunk(b"IEND", b""))  # fmt: skip


@pytest.fixture
def grey():
    return np.random.default_rng(3).integers(0, 256, (7, 5), dtype=np.uint8)


def test_read_pgm_ascii_and_binary(tmp_path, grey):
    p2 = tmp_path / "a.pgm"
    p2.write_text("P2\n# a comment\n5 7\n255\n" + "\n".join(" ".join(map(str, r)) for r in grey))
    np.testing.assert_allclose(read_image(p2), grey / 255, rtol=1e-6)
    p5 = tmp_path / "b.pgm"
    p5.write_bytes(b"P5 5 7 255\n" + grey.tobytes())
    np.testing.assert_allclose(read_image(p5), grey / 255, rtol=1e-6)
    wide = grey.astype(np.uint16) * 257
    p16 = tmp_path / "c.pgm"
    p16.write_bytes(b"P5\n5 7\n65535\n" + wide.astype(">u2").tobytes())
    np.testing.assert_allclose(read_image(p16), grey / 255, rtol=1e-6)
    small = tmp_path / "d.pgm"
    small.write_text("P2 2 1 3 0 3\n")
    assert read_image(small).tolist() == [[0.0, 1.0]]


@pytest.mark.parametrize("filt", [0, 1, 2, 3, 4, None])
def test_read_png_every_filter(tmp_path, grey, filt):
    path = tmp_path / "g.png"
    path.write_bytes(png_bytes(grey, 0, filt=filt))
    np.testing.assert_allclose(read_image(path), grey / 255, rtol=1e-6)
    rgb = np.random.default_rng(4).integers(0, 256, (6, 4, 3), dtype=np.uint8)
    path.write_bytes(png_bytes(rgb, 2, filt=filt))
    expected = rgb @ np.array([0.299, 0.587, 0.114]) / 255
    np.testing.assert_allclose(read_image(path), expected, rtol=1e-5)


def test_read_png_16_bit_and_alpha(tmp_path, grey):
    path = tmp_path / "g.png"
    path.write_bytes(png_bytes(grey.astype(np.uint16) * 257, 0, depth=16))
    np.testing.assert_allclose(read_image(path), grey / 255, rtol=1e-6)
    ga = np.stack([grey, np.full_like(grey, 7)], axis=-1)
    path.write_bytes(png_bytes(ga, 4))
    np.testing.assert_allclose(read_image(path), grey / 255, rtol=1e-6)


def test_read_png_written_by_pillow(tmp_path, grey):
    image = pytest.importorskip("PIL.Image")
    big = np.tile(grey, (8, 8))
    image.fromarray(big, mode="L").save(tmp_path / "p.png", optimize=True)
    np.testing.assert_allclose(read_image(tmp_path / "p.png"), big / 255, rtol=1e-6)


BAD_IMAGES = {
    "bad.txt": (b"hello", "not a PGM"),
    "short.pgm": (b"P5 5 7 255\n" + bytes(10), "found 10 bytes"),
    "p2count.pgm": (b"P2 2 2 255\n1 2 3\n", "found 3 values"),
    "maxval.pgm": (b"P2 1 1 3\n9\n", "above maxval"),
    "header.pgm": (b"P5 x 7 255\n", "bad PGM header"),
    "palette.png": (None, "unsupported PNG"),
    "crc.png": (None, "bad CRC"),
    "cut.png": (None, "truncated"),
}


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
def test_bad_images_raise_value_error_naming_the_file(tmp_path, grey, name):
    data, message = BAD_IMAGES[name]
    good = png_bytes(grey, 0)
    if name == "palette.png":
        data = png_bytes(grey, 3)
    elif name == "crc.png":
        data = good[:-5] + b"\x00" + good[-4:]
    elif name == "cut.png":
        data = good[:40]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        read_image(tmp_path / name)
    assert name in str(info.value)


def make_folder(root: Path, grey: np.ndarray) -> None:
    (root / "cats").mkdir(parents=True)
    (root / "dogs").mkdir()
    (root / ".hidden").mkdir()
    (root / "cats" / "1.pgm").write_bytes(b"P5 5 7 255\n" + grey.tobytes())
    (root / "cats" / "2.png").write_bytes(png_bytes(255 - grey, 0))
    (root / "cats" / "notes.txt").write_text("ignored")
    (root / "dogs" / "a.pgm").write_text("P2 5 7 255\n" + " ".join(map(str, grey.ravel())))


def test_load_image_folder(tmp_path, grey):
    make_folder(tmp_path, grey)
    X, y, names = load_image_folder(tmp_path)
    assert names == ["cats", "dogs"]
    assert X.shape == (3, 35) and X.dtype == np.float32 and y.tolist() == [0, 0, 1]
    np.testing.assert_allclose(X[1], (255 - grey.ravel()) / 255, rtol=1e-6)
    X2, _, _ = load_image_folder(tmp_path, size=(14, 10))
    assert X2.shape == (3, 140)


def test_image_folder_errors(tmp_path, grey):
    make_folder(tmp_path, grey)
    (tmp_path / "dogs" / "b.pgm").write_bytes(b"P5 4 4 255\n" + bytes(16))
    with pytest.raises(ValueError, match=r"b\.pgm.*shape \(4, 4\)"):
        load_image_folder(tmp_path)
    X, _, _ = load_image_folder(tmp_path, size=4)
    assert X.shape == (4, 16)
    with pytest.raises(ValueError, match="size must be"):
        load_image_folder(tmp_path, size=(0, 3))
    (tmp_path / "dogs" / "b.pgm").unlink()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        load_image_folder(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "flat").mkdir()
    with pytest.raises(ValueError, match="no sub-folders"):
        load_image_folder(tmp_path / "flat")
