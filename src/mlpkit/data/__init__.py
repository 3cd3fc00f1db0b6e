"""Data in: IDX files, MNIST / Fashion-MNIST, digits, image folders, CSV tables, the 2-D toy
sets, and their preparation (one-hot targets, splits, standardisation).

Everything here turns a user's files into arrays ``X`` of shape (n_samples, n_features) and
targets; nothing here knows about networks.
"""

from .datasets import (
    FASHION_MNIST_CLASSES,
    TOY_DATASETS,
    DatasetChecksumError,
    DatasetNotFoundError,
    load_csv,
    load_digits,
    load_fashion_mnist,
    load_image_folder,
    load_mnist,
)
from .idx import IDXFormatError, read_idx, write_idx
from .preprocessing import Standardizer, one_hot, standardize, train_test_split

__all__ = [
    "FASHION_MNIST_CLASSES",
    "TOY_DATASETS",
    "DatasetChecksumError",
    "DatasetNotFoundError",
    "IDXFormatError",
    "Standardizer",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_image_folder",
    "load_mnist",
    "one_hot",
    "read_idx",
    "standardize",
    "train_test_split",
    "write_idx",
]
