"""Tests of the IDX reader/writer and of atomic_write: round trips and every malformed file."""

from __future__ import annotations

import gzip
import os
import stat
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlpkit.data.idx import IDX_TYPES, IDXFormatError, read_idx, write_idx
from mlpkit.io.atomic import atomic_write

DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]


def header(code: int, *dims: int, ndim: int | None = None) -> bytes:
    n = len(dims) if ndim is None else ndim
    return bytes([0, 0, code, n]) + struct.pack(f">{len(dims)}I", *dims)


def put(path, data: bytes, *, gz: bool = False):
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (0, 7)])
def test_round_trip_every_dtype(tmp_path, dtype, compress, shape):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is not None:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    else:
        array = rng.normal(0, 1e3, size=shape).astype(dtype)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array, compress=compress)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_values_are_big_endian_on_disk_and_native_in_memory(tmp_path):
    data = header(0x0B, 3) + struct.pack(">3h", 1, -2, 300)
    back = read_idx(put(tmp_path / "x.idx", data))
    assert back.dtype == np.int16 and back.dtype.isnative
    assert back.tolist() == [1, -2, 300]
    write_idx(tmp_path / "y.idx", back)
    assert (tmp_path / "y.idx").read_bytes() == data
    floats = header(0x0D, 2) + struct.pack(">2f", 1.5, -0.25)
    assert read_idx(put(tmp_path / "f.idx", floats)).tolist() == [1.5, -0.25]


def test_gzip_is_detected_by_magic_bytes_not_suffix(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "compressed.idx", array, compress=True)
    write_idx(tmp_path / "plain.gz", array, compress=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "compressed.idx"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain.gz"), array)


def test_write_defaults_to_compress_by_suffix_and_is_reproducible(tmp_path):
    array = np.ones((2, 2), dtype=np.float64)
    write_idx(tmp_path / "a.gz", array)
    write_idx(tmp_path / "b.gz", array)
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert b".tmp" not in (tmp_path / "a.gz").read_bytes()  # no temp name in the gzip header
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gz", "b.gz"]


def test_write_rejects_unsupported_arrays(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "a.idx", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "a.idx", np.uint8(3))
    assert not (tmp_path / "a.idx").exists()


def test_max_bytes_argument_is_checked(tmp_path):
    path = tmp_path / "a.idx"
    write_idx(path, np.zeros(10, np.uint8))
    with pytest.raises(TypeError, match="max_bytes"):
        read_idx(path, max_bytes=-1)
    with pytest.raises(IDXFormatError, match="max_bytes=5"):
        read_idx(path, max_bytes=5)


# --------------------------------------------------------------------------- malformed files

GOOD = header(0x08, 2, 3) + bytes(range(6))

MALFORMED = {
    "empty": (b"", "fewer than the 4-byte magic"),
    "short magic": (b"\x00\x00\x08", "fewer than the 4-byte magic"),
    "bad magic": (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "two zero bytes"),
    "bad magic 2nd byte": (b"\x00\x07\x08\x01" + struct.pack(">I", 1) + b"\x00", "zero bytes"),
    "bad type byte": (header(0x0A, 1) + b"\x00", "unknown type byte 0x0A"),
    "ndim 0": (b"\x00\x00\x08\x00", "number of dimensions is 0"),
    "truncated dims": (header(0x08, 2, 3)[:9], "ends inside the sizes"),
    "truncated data": (GOOD[:-1], "fewer than declared"),
    "trailing bytes": (GOOD + b"\x00", "more than declared"),
    "lying header": (header(0x0C, 1000, 1000) + bytes(8), "fewer than declared"),
}

MALFORMED_GZ = {
    "empty": (b"", "fewer than the 4-byte magic"),
    "bad magic": (b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00", "two zero bytes"),
    "bad type byte": (header(0x07, 1) + b"\x00", "unknown type byte 0x07"),
    "ndim 0": (b"\x00\x00\x08\x00", "number of dimensions is 0"),
    "truncated dims": (header(0x08, 2, 3)[:9], "ends inside the sizes"),
    "truncated data": (GOOD[:-1], "the data ends after 5 bytes"),
    "trailing bytes": (GOOD + b"\x00", "trailing bytes"),
    "lying header": (header(0x0C, 1000, 1000) + bytes(8), "ends after 8 bytes"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_plain_files(tmp_path, case):
    data, message = MALFORMED[case]
    path = put(tmp_path / "bad-file.idx", data)
    with pytest.raises(IDXFormatError, match=message) as info:
        read_idx(path)
    assert isinstance(info.value, ValueError)
    assert "bad-file.idx" in str(info.value)


@pytest.mark.parametrize("case", sorted(MALFORMED_GZ))
def test_malformed_gzipped_files(tmp_path, case):
    data, message = MALFORMED_GZ[case]
    path = put(tmp_path / "bad-file.gz", data, gz=True)
    with pytest.raises(IDXFormatError, match=message) as info:
        read_idx(path)
    assert "bad-file.gz" in str(info.value) and "gzip" in str(info.value)


def test_truncated_gzip_stream(tmp_path):
    compressed = gzip.compress(header(0x08, 1000) + os.urandom(1000), mtime=0)
    for cut in (3, 12, len(compressed) // 2, len(compressed) - 4):
        path = put(tmp_path / "cut.gz", compressed[:cut])
        with pytest.raises(IDXFormatError, match=r"cut\.gz"):
            read_idx(path)


def test_gzip_with_bad_crc(tmp_path):
    compressed = bytearray(gzip.compress(GOOD, mtime=0))
    compressed[-6] ^= 0xFF  # inside the CRC-32 of the trailer
    with pytest.raises(IDXFormatError, match="damaged gzip stream"):
        read_idx(put(tmp_path / "crc.gz", bytes(compressed)))


def test_gzip_with_garbage_after_the_stream(tmp_path):
    path = put(tmp_path / "junk.gz", gzip.compress(GOOD, mtime=0) + b"junk!")
    with pytest.raises(IDXFormatError, match=r"junk\.gz"):
        read_idx(path)


def test_absurd_declared_size_is_refused_before_allocating(tmp_path):
    # 4 billion^3 float64 values: far beyond any memory.
    data = header(0x0E, 2**32 - 1, 2**32 - 1, 2**32 - 1) + bytes(8)
    for gz in (False, True):
        path = put(tmp_path / "huge.idx", data, gz=gz)
        tracemalloc.start()
        try:
            with pytest.raises(IDXFormatError, match="more than max_bytes"):
                read_idx(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1 << 20


def test_lying_gzip_header_reads_only_what_is_there(tmp_path):
    # Declares 1.5 GB (allowed by max_bytes) but holds 10 bytes: no big allocation.
    data = header(0x08, 1500, 1000, 1000) + bytes(10)
    path = put(tmp_path / "liar.gz", data, gz=True)
    tracemalloc.start()
    try:
        with pytest.raises(IDXFormatError, match="ends after 10 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


def test_gzip_bomb_is_not_decompressed_beyond_the_declared_size(tmp_path):
    # 10 declared bytes followed by 64 MB of zeros (compressed to ~64 kB).
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(header(0x08, 10) + bytes(10))]
    zeros = bytes(1 << 20)
    parts += [compressor.compress(zeros) for _ in range(64)]
    parts.append(compressor.flush())
    path = put(tmp_path / "bomb.gz", b"".join(parts))
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(IDXFormatError, match="trailing bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.idx")


# --------------------------------------------------------------------------- properties

fixture_ok = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fixture_ok
@given(
    array=hnp.arrays(
        dtype=st.sampled_from([np.dtype(d) for d in DTYPES]),
        shape=hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
    ),
    compress=st.booleans(),
)
def test_property_round_trip(tmp_path, array, compress):
    path = tmp_path / "prop.idx"
    write_idx(path, array, compress=compress)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)  # NaNs compare equal here


@fixture_ok
@given(
    data=st.one_of(
        st.binary(max_size=64),
        st.builds(
            lambda code, dims, rest: header(code, *dims) + rest,
            st.sampled_from([*IDX_TYPES, 0x00, 0x0A, 0xFF]),
            st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=4),
            st.binary(max_size=64),
        ),
    ),
    gz=st.booleans(),
)
def test_property_random_bytes_raise_only_idx_format_error(tmp_path, data, gz):
    path = put(tmp_path / "random.idx", data, gz=gz)
    try:
        array = read_idx(path)
    except IDXFormatError:
        return
    assert isinstance(array, np.ndarray)


@fixture_ok
@given(data=st.binary(min_size=1, max_size=80))
def test_property_damaged_gzip_raises_only_idx_format_error(tmp_path, data):
    path = put(tmp_path / "random.gz", b"\x1f\x8b" + data)
    try:
        read_idx(path)
    except IDXFormatError:
        pass


# --------------------------------------------------------------------------- atomic_write


def test_atomic_write_replaces_file(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with atomic_write(path) as f:
        f.write(b"new")
        assert not path.read_bytes() == b"new"  # not visible before the block ends
        assert os.path.dirname(f.name) == str(tmp_path)
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(path, "w") as f:
        f.write("partial")
        raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_atomic_write_new_file_text_mode(tmp_path):
    path = tmp_path / "new.txt"
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write("héllo\n")
    assert path.read_text(encoding="utf-8") == "héllo\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_write_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="mode"), atomic_write(tmp_path / "x", "ab"):
        pass
    with (
        pytest.raises(ValueError, match="encoding"),
        atomic_write(tmp_path / "x", "wb", encoding="utf-8"),
    ):
        pass
    with (
        pytest.raises(FileNotFoundError, match="does not exist"),
        atomic_write(tmp_path / "no" / "x"),
    ):
        pass
    assert list(tmp_path.iterdir()) == []
