"""Augmentations: the SimCLR/MoCo/BYOL/SwAV view pipelines (numpy in, numpy out).

::

    import numpy as np, contrastive
    aug = contrastive.Augmenter(preset="simclr-cifar")
    images = np.random.randint(0, 256, (8, 32, 32, 3), dtype=np.uint8)   # N, H, W, C
    v1, v2 = aug.apply(images, seed=0, epoch=0)          # two float32 (8, 3, 32, 32) arrays
    print(aug.describe())                                 # the pipeline as text
    contrastive.preview_png("preview.png", images, aug)

Every random draw is keyed by (seed, epoch, index, view): the same index gives the same views
whatever the batch, its order or the thread count. See include/contrastive.h for the
description syntax and the semantics of each op.
"""

from __future__ import annotations

import ctypes
import os
from typing import List, Optional, Sequence

import numpy as np

from . import _ffi
from .errors import InvalidArgumentError, check

__all__ = ["Augmenter", "preview_png", "PRESETS"]

PRESETS = ("simclr", "simclr-cifar", "mocov2", "byol", "swav", "swav-cifar")
_PRECISION = {None: 0, "uint8": 1, "float": 2}


class Augmenter:
    """A view pipeline from a preset or a text description.

    :param preset: one of :data:`PRESETS` (default ``"simclr"`` when no description is given)
    :param description: pipeline text (overrides ``preset``)
    :param size: preset global crop side (0 = preset default)
    :param local_size: SwAV local crop side (0 = default)
    :param num_local: SwAV local crop count (-1 = default 6)
    :param precision: ``"uint8"`` (torchvision's uint8 semantics) or ``"float"``; None keeps
        the preset's/description's choice
    :param mean, std: normalisation override (sequences of 1 or C values); ``normalize=False``
        disables normalisation (output x/255)
    """

    def __init__(self, preset: Optional[str] = None, description: Optional[str] = None, *, size: int = 0,
                 local_size: int = 0, num_local: int = -1, precision: Optional[str] = None,
                 mean: Optional[Sequence[float]] = None, std: Optional[Sequence[float]] = None,
                 normalize: bool = True) -> None:
        self._handle = None
        if precision not in _PRECISION:
            raise InvalidArgumentError(f"precision must be 'uint8', 'float' or None, got {precision!r}", 1)
        opts = _ffi.ctr_augment_options()
        _ffi.lib.ctr_augment_options_default(ctypes.byref(opts))
        keep = []
        if preset is not None:
            opts.preset = preset.encode("utf-8")
        if description is not None:
            opts.description = description.encode("utf-8")
        opts.size, opts.local_size, opts.num_local = int(size), int(local_size), int(num_local)
        opts.precision = _PRECISION[precision]
        if not normalize:
            opts.num_norm = -1
        elif mean is not None or std is not None:
            if mean is None or std is None or len(mean) != len(std) or len(mean) == 0:
                raise InvalidArgumentError("mean and std must be given together with the same non-zero length", 1)
            m = (ctypes.c_float * len(mean))(*[float(v) for v in mean])
            s = (ctypes.c_float * len(std))(*[float(v) for v in std])
            keep += [m, s]
            opts.num_norm = len(mean)
            opts.mean = ctypes.cast(m, ctypes.POINTER(ctypes.c_float))
            opts.std = ctypes.cast(s, ctypes.POINTER(ctypes.c_float))
        handle = ctypes.c_void_p()
        check(_ffi.lib.ctr_augmenter_create(ctypes.byref(opts), ctypes.byref(handle)))
        self._handle = handle

    def close(self) -> None:
        """Release the library object (also done when garbage-collected)."""
        if self._handle is not None:
            _ffi.lib.ctr_augmenter_free(self._handle)
            self._handle = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 — interpreter shutdown
            pass

    def __enter__(self) -> "Augmenter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _h(self):
        if self._handle is None:
            raise InvalidArgumentError("the augmenter is closed", 1)
        return self._handle

    @property
    def view_count(self) -> int:
        """Views per image (SimCLR 2, SwAV 2 + locals)."""
        return int(_ffi.lib.ctr_augmenter_view_count(self._h()))

    def view_shape(self, view: int, h: int, w: int, c: int = 3):
        """(C, H, W) of view ``view`` for h×w×c inputs."""
        shape = (ctypes.c_int32 * 3)()
        check(_ffi.lib.ctr_augmenter_view_shape(self._h(), int(view), int(h), int(w), int(c), shape))
        return tuple(int(v) for v in shape)

    def describe(self) -> str:
        """The pipeline in the description syntax (round-trips through ``description=``)."""
        needed = ctypes.c_size_t(0)
        _ffi.lib.ctr_augmenter_describe(self._h(), None, 0, ctypes.byref(needed))
        buf = ctypes.create_string_buffer(needed.value)
        check(_ffi.lib.ctr_augmenter_describe(self._h(), buf, len(buf), ctypes.byref(needed)))
        return buf.value.decode("utf-8")

    def apply(self, images: np.ndarray, seed: int = 0, epoch: int = 0,
              indices: Optional[Sequence[int]] = None) -> List[np.ndarray]:
        """Augment ``images`` (uint8, (N, H, W, C) or (N, H, W)); returns one float32
        (N, C, Hv, Wv) array per view. ``indices`` (default 0..N-1) key the random streams."""
        x = _images(images)
        n, h, w, c = x.shape
        total = ctypes.c_size_t(0)
        check(_ffi.lib.ctr_augmenter_output_size(self._h(), n, h, w, c, ctypes.byref(total)))
        out = np.empty(total.value, dtype=np.float32)
        idx_ptr = None
        if indices is not None:
            idx = np.ascontiguousarray(np.asarray(indices, dtype=np.int64))
            if idx.shape != (n,):
                raise InvalidArgumentError(f"indices must have shape ({n},), got {idx.shape}", 1)
            idx_ptr = idx.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))
        check(_ffi.lib.ctr_augmenter_apply(
            self._h(), x.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), n, h, w, c,
            _u64(seed), _u64(epoch), idx_ptr, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.size))
        views, off = [], 0
        for v in range(self.view_count):
            cc, vh, vw = self.view_shape(v, h, w, c)
            k = n * cc * vh * vw
            views.append(out[off:off + k].reshape(n, cc, vh, vw))
            off += k
        return views


def preview_png(path: "os.PathLike[str] | str", images: np.ndarray, augmenter: Optional[Augmenter] = None,
                seed: int = 0, epoch: int = 0) -> None:
    """Write a PNG grid: one row per image (at most 16), the input then its views."""
    aug = augmenter if augmenter is not None else Augmenter()
    x = _images(images)
    n, h, w, c = x.shape
    check(_ffi.lib.ctr_augment_preview_png(aug._h(), os.fsencode(path), x.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)),
                                           n, h, w, c, _u64(seed), _u64(epoch)))


def _images(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images)
    if x.dtype != np.uint8:
        raise InvalidArgumentError(f"images must be uint8, got {x.dtype}", 1)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise InvalidArgumentError(f"images must have shape (N, H, W, C) or (N, H, W), got {x.shape}", 1)
    return np.ascontiguousarray(x)


def _u64(v: int) -> int:
    v = int(v)
    if not 0 <= v < 2**64:
        raise InvalidArgumentError(f"{v} does not fit in uint64_t", 1)
    return v
