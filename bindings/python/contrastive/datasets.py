"""Image datasets held by libcontrastive: IDX files (MNIST, Fashion-MNIST; gzip detected) or
numpy arrays, with seeded train/validation splits. Needs numpy.

    import contrastive.datasets as cds
    train = cds.load_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                         "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")
    train.images.shape, train.labels[:5], train.num_classes     # (60000, 28, 28, 1) ...
    fit, val = train.split(0.1, seed=0)
"""
from __future__ import annotations

import ctypes
import os
from typing import Optional, Tuple, Union

from . import _ffi
from .errors import InvalidArgumentError, check

_lib = _ffi.lib
PathArg = Union[str, "os.PathLike[str]"]


def _path(p: PathArg) -> bytes:
    raw = os.fsencode(os.fspath(p))
    if b"\0" in raw:
        raise InvalidArgumentError(0, "path contains a NUL byte")
    return raw


class Dataset:
    """An immutable uint8 image dataset (N, H, W, C) with optional int32 labels."""

    def __init__(self, handle: ctypes.c_void_p):
        self._h = handle
        info = _ffi.CtrDatasetInfo()
        info.struct_size = ctypes.sizeof(info)
        check(_lib.ctr_dataset_get_info(self._h, ctypes.byref(info)))
        self.count, self.height, self.width, self.channels = info.count, info.height, info.width, info.channels
        self.has_labels = bool(info.has_labels)
        self.num_classes = info.num_classes

    @classmethod
    def from_numpy(cls, images, labels=None) -> "Dataset":
        """Copy a uint8 array (N, H, W, C) or (N, H, W), and optional labels (N,) >= 0."""
        import numpy as np

        x = np.asarray(images)
        if x.dtype != np.uint8:
            raise TypeError(f"images must be uint8, got {x.dtype}")
        if x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4:
            raise InvalidArgumentError(1, f"images must be (N, H, W[, C]), got shape {x.shape}")
        x = np.ascontiguousarray(x)
        lab = None
        if labels is not None:
            lab = np.ascontiguousarray(np.asarray(labels), dtype=np.int32)
            if lab.shape != (x.shape[0],):
                raise InvalidArgumentError(1, f"labels must have shape ({x.shape[0]},), got {lab.shape}")
        h = ctypes.c_void_p()
        check(_lib.ctr_dataset_from_memory(x.ctypes.data, x.shape[0], x.shape[1], x.shape[2], x.shape[3],
                                           lab.ctypes.data if lab is not None else None, ctypes.byref(h)))
        return cls(h)

    def __len__(self) -> int:
        return self.count

    @property
    def images(self):
        """A numpy copy of every image, (N, H, W, C) uint8."""
        import numpy as np

        out = np.empty((self.count, self.height, self.width, self.channels), np.uint8)
        check(_lib.ctr_dataset_copy_images(self._h, 0, self.count, out.ctypes.data, out.nbytes))
        return out

    @property
    def labels(self):
        """A numpy copy of the labels (N,) int32, or None."""
        import numpy as np

        if not self.has_labels:
            return None
        out = np.empty(self.count, np.int32)
        check(_lib.ctr_dataset_copy_labels(self._h, 0, self.count, out.ctypes.data, out.size))
        return out

    def split(self, validation_fraction: float, seed: int = 0) -> Tuple["Dataset", "Dataset"]:
        """(train, validation) by a seeded permutation; validation holds round(f·N) images."""
        a, b = ctypes.c_void_p(), ctypes.c_void_p()
        check(_lib.ctr_dataset_split(self._h, float(validation_fraction), int(seed) & (2**64 - 1), ctypes.byref(a), ctypes.byref(b)))
        return Dataset(a), Dataset(b)

    def slice(self, start: int, count: int) -> "Dataset":
        """A copy of images [start, start + count) and their labels."""
        out = ctypes.c_void_p()
        check(_lib.ctr_dataset_slice(self._h, int(start), int(count), ctypes.byref(out)))
        return Dataset(out)

    def close(self) -> None:
        if getattr(self, "_h", None):
            _lib.ctr_dataset_free(self._h)
            self._h = None

    def __del__(self):
        self.close()

    def __repr__(self) -> str:
        return (f"Dataset({self.count} images of {self.height}x{self.width}x{self.channels}, "
                f"{'%d classes' % self.num_classes if self.has_labels else 'unlabelled'})")


def load_idx(images: PathArg, labels: Optional[PathArg] = None) -> Dataset:
    """Load IDX images (and labels), gzip-compressed or not."""
    h = ctypes.c_void_p()
    check(_lib.ctr_dataset_load_idx(_path(images), _path(labels) if labels is not None else None, ctypes.byref(h)))
    return Dataset(h)


#: Class names of :func:`procedural`, in label order.
PROCEDURAL_CLASSES = ("disc", "square", "triangle", "cross", "ring",
                      "h-stripes", "v-stripes", "checkerboard", "diagonal", "dots")


def procedural(n: int, size: int = 32, seed: int = 0) -> Dataset:
    """The built-in labelled colour dataset: n RGB images of ten shape/texture classes."""
    h = ctypes.c_void_p()
    check(_lib.ctr_dataset_procedural(int(n), int(size), int(seed) & (2**64 - 1), ctypes.byref(h)))
    return Dataset(h)
