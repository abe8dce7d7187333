"""Objectives for your own networks: losses and their gradients (numpy in, numpy out).

::

    import numpy as np, contrastive
    z1 = np.random.randn(256, 128).astype(np.float32)       # two views, one row per sample
    z2 = np.random.randn(256, 128).astype(np.float32)
    loss, dz1, dz2 = contrastive.ntxent(z1, z2, temperature=0.5)
    codes = contrastive.sinkhorn(scores)                      # SwAV codes, rows sum to 1

Each call returns the loss (a Python float) and the gradients of the loss with respect to the
embeddings (float32 arrays of the inputs' shapes) — back-propagate them through your network.
``grad=False`` computes the loss only (the gradients are then ``None``). Semantics, defaults and
errors are those of the C API (include/contrastive.h, section Objectives): a non-positive
temperature raises InvalidArgumentError, views of different sizes ShapeMismatchError, NaN or
Inf inputs NumericError.
"""

from __future__ import annotations

import ctypes
from typing import Optional, Tuple

import numpy as np

from . import _ffi
from .errors import InvalidArgumentError, ShapeMismatchError, check

__all__ = ["ntxent", "supcon", "moco_loss", "byol_loss", "barlow_twins", "vicreg", "sinkhorn", "SIMILARITIES"]

#: Similarity names → ``ctr_similarity`` values.
SIMILARITIES = {"cosine": 0, "euclidean": 1}

_f32p = ctypes.POINTER(ctypes.c_float)


def _matrix(x, name: str) -> np.ndarray:
    a = np.ascontiguousarray(x, dtype=np.float32)
    if a.ndim != 2:
        raise ShapeMismatchError(f"{name} must be a 2-D array (rows, dim), got shape {a.shape}", 2)
    return a


def _ptr(a: Optional[np.ndarray]):
    return None if a is None else a.ctypes.data_as(_f32p)


def _pair(a, b, names: Tuple[str, str]):
    x, y = _matrix(a, names[0]), _matrix(b, names[1])
    if x.shape[1] != y.shape[1]:
        raise ShapeMismatchError(f"{names[0]} has dim {x.shape[1]} and {names[1]} dim {y.shape[1]}", 2)
    return x, y


def _grads(grad: bool, *shapes):
    return [np.empty(s, dtype=np.float32) if grad else None for s in shapes]


def _similarity(similarity: str) -> int:
    if similarity not in SIMILARITIES:
        raise InvalidArgumentError(f"similarity must be one of {sorted(SIMILARITIES)}, got {similarity!r}", 1)
    return SIMILARITIES[similarity]


def ntxent(z1, z2, temperature: float = 0.5, *, similarity: str = "cosine", decoupled: bool = False,
           queue=None, grad: bool = True):
    """NT-Xent / InfoNCE (SimCLR) over two views (n, dim): row i of z1 and of z2 are a positive
    pair, every other row (and every ``queue`` row, no gradient) a negative; mean over the 2n
    anchors. ``decoupled=True`` is DCL. Returns ``(loss, dz1, dz2)``."""
    a, b = _pair(z1, z2, ("z1", "z2"))
    opts = _ffi.ctr_ntxent_options()
    _ffi.lib.ctr_ntxent_options_default(ctypes.byref(opts))
    opts.temperature = float(temperature)
    opts.similarity = _similarity(similarity)
    opts.decoupled = 1 if decoupled else 0
    q = None
    if queue is not None:
        q = _matrix(queue, "queue")
        if q.shape[1] != a.shape[1]:
            raise ShapeMismatchError(f"queue has dim {q.shape[1]}, the embeddings {a.shape[1]}", 2)
        opts.queue = _ptr(q)
        opts.queue_size = q.shape[0]
    loss = ctypes.c_float()
    d1, d2 = _grads(grad, a.shape, b.shape)
    check(_ffi.lib.ctr_ntxent(_ptr(a), _ptr(b), a.shape[0], b.shape[0], a.shape[1], ctypes.byref(opts),
                              ctypes.byref(loss), _ptr(d1), _ptr(d2)))
    return float(loss.value), d1, d2


def supcon(z, labels, temperature: float = 0.1, *, similarity: str = "cosine", grad: bool = True):
    """Supervised contrastive loss: rows of z (all views stacked) with equal ``labels`` (>= 0)
    are positives. Returns ``(loss, dz)``."""
    a = _matrix(z, "z")
    lab = np.ascontiguousarray(labels)
    if lab.ndim != 1 or lab.shape[0] != a.shape[0]:
        raise ShapeMismatchError(f"labels must have one value per row ({a.shape[0]}), got shape {lab.shape}", 2)
    if lab.size and (lab.min() < -(2**31) or lab.max() >= 2**31):
        raise InvalidArgumentError("labels must fit in int32", 1)
    lab = lab.astype(np.int32)
    opts = _ffi.ctr_supcon_options()
    _ffi.lib.ctr_supcon_options_default(ctypes.byref(opts))
    opts.temperature = float(temperature)
    opts.similarity = _similarity(similarity)
    loss = ctypes.c_float()
    (d,) = _grads(grad, a.shape)
    check(_ffi.lib.ctr_supcon(_ptr(a), lab.ctypes.data_as(ctypes.POINTER(ctypes.c_int32)), a.shape[0], a.shape[1],
                              ctypes.byref(opts), ctypes.byref(loss), _ptr(d)))
    return float(loss.value), d


def moco_loss(q, k, queue=None, temperature: float = 0.2, *, grad: bool = True):
    """MoCo v2 contrast: queries q against their keys k (positives) and the queued keys
    (negatives, used as given — store them L2-normalised). Returns ``(loss, dq, dk)``."""
    a, b = _pair(q, k, ("q", "k"))
    qq = None
    if queue is not None:
        qq = _matrix(queue, "queue")
        if qq.shape[1] != a.shape[1]:
            raise ShapeMismatchError(f"queue has dim {qq.shape[1]}, the embeddings {a.shape[1]}", 2)
    loss = ctypes.c_float()
    dq, dk = _grads(grad, a.shape, b.shape)
    check(_ffi.lib.ctr_moco_loss(_ptr(a), _ptr(b), a.shape[0], b.shape[0], a.shape[1], _ptr(qq),
                                 0 if qq is None else qq.shape[0], float(temperature), ctypes.byref(loss),
                                 _ptr(dq), _ptr(dk)))
    return float(loss.value), dq, dk


def byol_loss(p, z, *, grad: bool = True):
    """BYOL: 2 − 2·mean cos(p_i, z_i). Returns ``(loss, dp, dz)`` (dz: the gradient with
    respect to the target, which BYOL does not use)."""
    a, b = _pair(p, z, ("p", "z"))
    loss = ctypes.c_float()
    dp, dz = _grads(grad, a.shape, b.shape)
    check(_ffi.lib.ctr_byol_loss(_ptr(a), _ptr(b), a.shape[0], b.shape[0], a.shape[1], ctypes.byref(loss),
                                 _ptr(dp), _ptr(dz)))
    return float(loss.value), dp, dz


def barlow_twins(z1, z2, lambda_: float = 5e-3, scale: float = 0.025, *, grad: bool = True):
    """Barlow Twins (cross-correlation of batch-standardised views). Returns ``(loss, dz1, dz2)``."""
    a, b = _pair(z1, z2, ("z1", "z2"))
    opts = _ffi.ctr_barlow_twins_options()
    _ffi.lib.ctr_barlow_twins_options_default(ctypes.byref(opts))
    opts.lambda_ = float(lambda_)
    opts.scale = float(scale)
    loss = ctypes.c_float()
    d1, d2 = _grads(grad, a.shape, b.shape)
    check(_ffi.lib.ctr_barlow_twins(_ptr(a), _ptr(b), a.shape[0], b.shape[0], a.shape[1], ctypes.byref(opts),
                                    ctypes.byref(loss), _ptr(d1), _ptr(d2)))
    return float(loss.value), d1, d2


def vicreg(z1, z2, invariance: float = 25.0, variance: float = 25.0, covariance: float = 1.0, *,
           eps: float = 1e-4, gamma: float = 1.0, grad: bool = True):
    """VICReg (invariance / variance / covariance). Returns ``(loss, dz1, dz2)``."""
    a, b = _pair(z1, z2, ("z1", "z2"))
    opts = _ffi.ctr_vicreg_options()
    _ffi.lib.ctr_vicreg_options_default(ctypes.byref(opts))
    opts.invariance, opts.variance, opts.covariance = float(invariance), float(variance), float(covariance)
    opts.eps, opts.gamma = float(eps), float(gamma)
    loss = ctypes.c_float()
    d1, d2 = _grads(grad, a.shape, b.shape)
    check(_ffi.lib.ctr_vicreg(_ptr(a), _ptr(b), a.shape[0], b.shape[0], a.shape[1], ctypes.byref(opts),
                              ctypes.byref(loss), _ptr(d1), _ptr(d2)))
    return float(loss.value), d1, d2


def sinkhorn(scores, epsilon: float = 0.05, iterations: int = 3, *, use_double: bool = False) -> np.ndarray:
    """Sinkhorn-Knopp codes (SwAV) from scores (b, k): rows sum to 1, columns to about b/k."""
    s = _matrix(scores, "scores")
    opts = _ffi.ctr_sinkhorn_options()
    _ffi.lib.ctr_sinkhorn_options_default(ctypes.byref(opts))
    opts.epsilon = float(epsilon)
    if not -(2**31) <= int(iterations) < 2**31:
        raise InvalidArgumentError(f"iterations {iterations} does not fit in int32", 1)
    opts.iterations = int(iterations)
    opts.use_double = 1 if use_double else 0
    out = np.empty(s.shape, dtype=np.float32)
    check(_ffi.lib.ctr_sinkhorn(_ptr(s), s.shape[0], s.shape[1], ctypes.byref(opts), _ptr(out), out.size))
    return out
