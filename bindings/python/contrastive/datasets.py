"""Image datasets held by libcontrastive: IDX files (MNIST, Fashion-MNIST; gzip detected),
CIFAR-10/100 binary batches, NumPy .npy files, folders of PNG/JPEG images, or numpy arrays,
with seeded train/validation splits. Needs numpy.

    import contrastive.datasets as cds
    train = cds.load_idx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
                         "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")
    train.images.shape, train.labels[:5], train.num_classes     # (60000, 28, 28, 1) ...
    fit, val = train.split(0.1, seed=0)
    cifar = cds.load_cifar([f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)])
    pets = cds.load_folder("pets/", size=64)           # pets/<class>/*.jpg
    pets.class_names                                   # ('cat', 'dog')
"""
from __future__ import annotations

import ctypes
import os
from typing import Optional, Sequence, Tuple, Union

from . import _ffi
from .errors import InvalidArgumentError, check

_lib = _ffi.lib
PathArg = Union[str, "os.PathLike[str]"]


def _path(p: PathArg) -> bytes:
    raw = os.fsencode(os.fspath(p))
    if b"\0" in raw:
        raise InvalidArgumentError("path contains a NUL byte")
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
            raise InvalidArgumentError(f"images must be (N, H, W[, C]), got shape {x.shape}")
        x = np.ascontiguousarray(x)
        lab = None
        if labels is not None:
            lab = np.ascontiguousarray(np.asarray(labels), dtype=np.int32)
            if lab.shape != (x.shape[0],):
                raise InvalidArgumentError(f"labels must have shape ({x.shape[0]},), got {lab.shape}")
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

    @property
    def class_names(self) -> Optional[Tuple[str, ...]]:
        """Class names in label order (image folders: the folder names; CIFAR: the published
        names), or None when the source has none."""
        if not self.has_labels or self.num_classes == 0:
            return None
        names = []
        need = ctypes.c_size_t()
        for k in range(self.num_classes):
            status = _lib.ctr_dataset_class_name(self._h, k, None, 0, ctypes.byref(need))
            if status == 1:  # INVALID_ARGUMENT: this dataset has no class names
                return None
            buf = ctypes.create_string_buffer(need.value)
            check(_lib.ctr_dataset_class_name(self._h, k, buf, need.value, None))
            names.append(buf.value.decode("utf-8"))
        return tuple(names)

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


#: ``format`` values of :func:`load_cifar` (``ctr_cifar_format``).
CIFAR_FORMATS = {"cifar10": 0, "cifar100": 1, "cifar100-coarse": 2}


def load_cifar(paths: Union[PathArg, Sequence[PathArg]], format: str = "cifar10", coarse: bool = False) -> Dataset:
    """Load CIFAR binary batches (one path or several, in order) into one 32x32x3 dataset.

    ``format`` is ``"cifar10"`` (1 label byte per record) or ``"cifar100"`` (coarse + fine
    label bytes; the fine labels unless ``coarse=True``)."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    fmt = format + ("-coarse" if coarse and format == "cifar100" else "")
    if fmt not in CIFAR_FORMATS or (coarse and format != "cifar100"):
        raise InvalidArgumentError(f"format must be 'cifar10' or 'cifar100' (coarse only with cifar100), got {format!r}")
    raw = [_path(p) for p in paths]
    arr = (ctypes.c_char_p * max(len(raw), 1))(*raw)
    h = ctypes.c_void_p()
    check(_lib.ctr_dataset_load_cifar(arr, len(raw), CIFAR_FORMATS[fmt], ctypes.byref(h)))
    return Dataset(h)


def load_npy(images: PathArg, labels: Optional[PathArg] = None) -> Dataset:
    """Load uint8 images (N, H, W[, C]) and optional integer labels (N,) from .npy files
    (never unpickles: object arrays are refused)."""
    h = ctypes.c_void_p()
    check(_lib.ctr_dataset_load_npy(_path(images), _path(labels) if labels is not None else None, ctypes.byref(h)))
    return Dataset(h)


#: ``layout`` values of :func:`load_folder` (``ctr_folder_layout``).
FOLDER_LAYOUTS = {"auto": 0, "classes": 1, "flat": 2}


def load_folder(root: PathArg, size: Union[None, int, Tuple[int, int]] = None, channels: int = 3,
                layout: str = "auto") -> Dataset:
    """Load ``root/<class>/*.png|jpg|jpeg`` (labels by sorted folder name, see
    :attr:`Dataset.class_names`) or a flat folder of images (unlabelled).

    ``size`` is a side or ``(height, width)`` to resize every image to (antialiased bilinear),
    or None to keep the images' own (common) size; ``channels`` is 1 (grey) or 3 (RGB)."""
    opts = _ffi.CtrFolderOptions()
    _lib.ctr_folder_options_default(ctypes.byref(opts))
    if size is not None:
        hw = (size, size) if isinstance(size, int) else tuple(size)
        if len(hw) != 2:
            raise InvalidArgumentError(f"size must be an int or (height, width), got {size!r}")
        opts.height, opts.width = int(hw[0]), int(hw[1])
    opts.channels = int(channels)
    if layout not in FOLDER_LAYOUTS:
        raise InvalidArgumentError(f"layout must be one of {sorted(FOLDER_LAYOUTS)}, got {layout!r}")
    opts.layout = FOLDER_LAYOUTS[layout]
    h = ctypes.c_void_p()
    check(_lib.ctr_dataset_load_folder(_path(root), ctypes.byref(opts), ctypes.byref(h)))
    return Dataset(h)


#: Class names of :func:`procedural`, in label order.
PROCEDURAL_CLASSES = ("disc", "square", "triangle", "cross", "ring",
                      "h-stripes", "v-stripes", "checkerboard", "diagonal", "dots")


def procedural(n: int, size: int = 32, seed: int = 0) -> Dataset:
    """The built-in labelled colour dataset: n RGB images of ten shape/texture classes."""
    h = ctypes.c_void_p()
    check(_lib.ctr_dataset_procedural(int(n), int(size), int(seed) & (2**64 - 1), ctypes.byref(h)))
    return Dataset(h)
