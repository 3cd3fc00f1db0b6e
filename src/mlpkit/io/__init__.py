"""Model files: a documented format of JSON and raw arrays (never pickle), written atomically."""

from .model_file import (
    FORMAT_VERSION,
    MAGIC,
    ModelFile,
    ModelFileError,
    UnsupportedFormatVersion,
    load,
    read_model_file,
    save,
    write_bytes_atomic,
)

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "ModelFile",
    "ModelFileError",
    "UnsupportedFormatVersion",
    "load",
    "read_model_file",
    "save",
    "write_bytes_atomic",
]
