"""Evaluation of frozen features (numpy in, small dataclasses out).

::

    import numpy as np, contrastive
    r = contrastive.knn(train, train_labels, test, test_labels, k=200, temperature=0.1)
    r.top1, r.top5                                   # fractions in [0, 1]
    p = contrastive.linear_probe(train, train_labels, test, test_labels)   # L-BFGS by default
    m = contrastive.retrieval_map(train, train_labels, test, test_labels, k=10)
    km = contrastive.kmeans(x, 10, seed=0)           # km.assignments, km.centroids, km.inertia
    s = contrastive.clustering_scores(labels, km.assignments)             # s.nmi, s.ari, s.purity
    contrastive.topk_accuracy(logits, labels, k=5)
    contrastive.effective_rank(embeddings)

Features are 2-D arrays (rows, dim), converted to C-contiguous float32; labels 1-D integer
arrays with one value per row. Semantics, defaults and errors are those of the C API
(include/contrastive.h, section Evaluation): k larger than the training set or a label out of
range raises InvalidArgumentError, splits of different dim ShapeMismatchError, NaN or Inf
features NumericError.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import _ffi
from .errors import InvalidArgumentError, ShapeMismatchError, check

__all__ = ["knn", "linear_probe", "retrieval_map", "kmeans", "clustering_scores", "topk_accuracy", "effective_rank",
           "KNNResult", "LinearProbeResult", "RetrievalResult", "KMeansResult", "ClusteringScores", "SOLVERS"]

#: Linear-probe solver names → ``ctr_probe_solver`` values.
SOLVERS = {"lbfgs": 0, "sgd": 1}

_f32p = ctypes.POINTER(ctypes.c_float)
_i32p = ctypes.POINTER(ctypes.c_int32)
_f64p = ctypes.POINTER(ctypes.c_double)


@dataclass
class KNNResult:
    """Weighted kNN accuracies; ``predictions`` (n_test,) and ``scores`` (n_test, C, rows sum
    to 1) when asked for."""

    top1: float
    top5: float
    predictions: Optional[np.ndarray] = None
    scores: Optional[np.ndarray] = None


@dataclass
class LinearProbeResult:
    """Linear-probe accuracies and final training objective; ``weights`` (C, dim) and ``bias``
    (C,) act on the raw features (``logits = x @ weights.T + bias``) when asked for."""

    top1: float
    top5: float
    train_top1: float
    loss: float
    iterations: int
    weights: Optional[np.ndarray] = None
    bias: Optional[np.ndarray] = None


@dataclass
class RetrievalResult:
    """Retrieval means over the queries with a relevant training row (see the C header)."""

    map: float
    map_at_k: float
    precision_at_k: float
    recall_at_1: float
    recall_at_k: float
    num_queries: int
    num_without_relevant: int
    average_precision: Optional[np.ndarray] = None


@dataclass
class KMeansResult:
    """k-means clustering: ``assignments`` (n,), ``centroids`` (k, dim), inertia."""

    assignments: np.ndarray
    centroids: np.ndarray
    inertia: float
    iterations: int
    converged: bool


@dataclass
class ClusteringScores:
    """NMI (arithmetic), ARI and purity of a clustering against labels."""

    nmi: float
    ari: float
    purity: float
    num_classes: int
    num_clusters: int


def _matrix(x, name: str) -> np.ndarray:
    a = np.ascontiguousarray(x, dtype=np.float32)
    if a.ndim != 2:
        raise ShapeMismatchError(f"{name} must be a 2-D array (rows, dim), got shape {a.shape}", 2)
    return a


def _labels(y, rows: int, name: str) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 1 or a.shape[0] != rows:
        raise ShapeMismatchError(f"{name} must have one value per row ({rows}), got shape {a.shape}", 2)
    if a.size and a.dtype.kind not in "iub":
        raise InvalidArgumentError(f"{name} must be integers, got dtype {a.dtype}", 1)
    if a.size and (a.min() < -(2**31) or a.max() >= 2**31):
        raise InvalidArgumentError(f"{name} must fit in int32", 1)
    return np.ascontiguousarray(a, dtype=np.int32)


def _int32(v, name: str) -> int:
    v = int(v)
    if not -(2**31) <= v < 2**31:
        raise InvalidArgumentError(f"{name} = {v} does not fit in int32_t", 1)
    return v


def _splits(train, train_labels, test, test_labels):
    a, b = _matrix(train, "train"), _matrix(test, "test")
    if a.shape[1] != b.shape[1]:
        raise ShapeMismatchError(f"train has dim {a.shape[1]} and test dim {b.shape[1]}", 2)
    return a, _labels(train_labels, a.shape[0], "train_labels"), b, _labels(test_labels, b.shape[0], "test_labels")


def _classes(num_classes, *labels) -> int:
    if num_classes is None:
        top = max((int(y.max()) for y in labels if y.size), default=-1)
        return max(top + 1, 1)
    return _int32(num_classes, "num_classes")


def _p(a, t):
    return None if a is None else a.ctypes.data_as(t)


def _result(cls):
    r = cls()
    r.struct_size = ctypes.sizeof(cls)
    return r


def knn(train, train_labels, test, test_labels, k: int = 200, temperature: float = 0.1, *,
        num_classes: Optional[int] = None, return_predictions: bool = False, return_scores: bool = False) -> KNNResult:
    """Weighted kNN (cosine similarity, votes exp(s/T)) of ``test`` against ``train``.
    ``num_classes`` defaults to 1 + the largest label of either split."""
    a, ya, b, yb = _splits(train, train_labels, test, test_labels)
    c = _classes(num_classes, ya, yb)
    opts = _ffi.ctr_knn_options()
    _ffi.lib.ctr_knn_options_default(ctypes.byref(opts))
    opts.k = _int32(k, "k")
    opts.temperature = float(temperature)
    res = _result(_ffi.ctr_knn_result)
    pred = np.empty(b.shape[0], dtype=np.int32) if return_predictions else None
    sc = np.empty((b.shape[0], c), dtype=np.float32) if return_scores else None
    check(_ffi.lib.ctr_knn_evaluate(_p(a, _f32p), _p(ya, _i32p), a.shape[0], _p(b, _f32p), _p(yb, _i32p), b.shape[0],
                                    a.shape[1], c, ctypes.byref(opts), ctypes.byref(res),
                                    _p(pred, _i32p), 0 if pred is None else pred.size, _p(sc, _f32p), 0 if sc is None else sc.size))
    return KNNResult(res.top1, res.top5, pred, sc)


def linear_probe(train, train_labels, test, test_labels, *, num_classes: Optional[int] = None, solver: str = "lbfgs",
                 l2: float = 1e-4, standardize: bool = True, max_iterations: int = 100, tolerance: float = 1e-4,
                 epochs: int = 100, batch_size: int = 256, learning_rate: float = 0.1, momentum: float = 0.9,
                 seed: int = 0, return_weights: bool = False) -> LinearProbeResult:
    """Multinomial logistic regression on frozen features: mean cross-entropy + (l2/2)·|W|²
    on standardised features (scikit-learn's C = 1/(l2·n_train)), by L-BFGS (default) or
    mini-batch SGD (momentum, cosine schedule, seeded shuffle). Returns test top-1/top-5,
    train top-1, the final loss, and with ``return_weights`` the raw-feature classifier."""
    a, ya, b, yb = _splits(train, train_labels, test, test_labels)
    c = _classes(num_classes, ya, yb)
    if solver not in SOLVERS:
        raise InvalidArgumentError(f"solver must be one of {sorted(SOLVERS)}, got {solver!r}", 1)
    opts = _ffi.ctr_linear_probe_options()
    _ffi.lib.ctr_linear_probe_options_default(ctypes.byref(opts))
    opts.solver = SOLVERS[solver]
    opts.l2 = float(l2)
    opts.standardize = 1 if standardize else 0
    opts.max_iterations = _int32(max_iterations, "max_iterations")
    opts.tolerance = float(tolerance)
    opts.epochs = _int32(epochs, "epochs")
    opts.batch_size = _int32(batch_size, "batch_size")
    opts.learning_rate = float(learning_rate)
    opts.momentum = float(momentum)
    if not 0 <= int(seed) < 2**64:
        raise InvalidArgumentError(f"seed = {seed} does not fit in uint64_t", 1)
    opts.seed = int(seed)
    res = _result(_ffi.ctr_linear_probe_result)
    w = np.empty((c, a.shape[1]), dtype=np.float32) if return_weights else None
    bias = np.empty(c, dtype=np.float32) if return_weights else None
    check(_ffi.lib.ctr_linear_probe(_p(a, _f32p), _p(ya, _i32p), a.shape[0], _p(b, _f32p), _p(yb, _i32p), b.shape[0],
                                    a.shape[1], c, ctypes.byref(opts), ctypes.byref(res),
                                    _p(w, _f32p), 0 if w is None else w.size, _p(bias, _f32p), 0 if bias is None else bias.size))
    return LinearProbeResult(res.top1, res.top5, res.train_top1, res.loss, int(res.iterations), w, bias)


def retrieval_map(train, train_labels, test, test_labels, k: int = 10, *,
                  return_average_precision: bool = False) -> RetrievalResult:
    """Cosine retrieval of each test row in the training split (relevant = same label):
    mAP, mAP@k, precision@k, recall@1 and recall@k (definitions in the C header)."""
    a, ya, b, yb = _splits(train, train_labels, test, test_labels)
    opts = _ffi.ctr_retrieval_options()
    _ffi.lib.ctr_retrieval_options_default(ctypes.byref(opts))
    opts.k = _int32(k, "k")
    res = _result(_ffi.ctr_retrieval_result)
    ap = np.empty(b.shape[0], dtype=np.float64) if return_average_precision else None
    check(_ffi.lib.ctr_retrieval_map(_p(a, _f32p), _p(ya, _i32p), a.shape[0], _p(b, _f32p), _p(yb, _i32p), b.shape[0],
                                     a.shape[1], ctypes.byref(opts), ctypes.byref(res), _p(ap, _f64p), 0 if ap is None else ap.size))
    return RetrievalResult(res.map, res.map_at_k, res.precision_at_k, res.recall_at_1, res.recall_at_k,
                           int(res.num_queries), int(res.num_without_relevant), ap)


def kmeans(x, k: int, *, max_iterations: int = 300, tolerance: float = 1e-4, seed: int = 0, restarts: int = 1) -> KMeansResult:
    """k-means++ seeding and Lloyd iterations on the rows of ``x``."""
    a = _matrix(x, "x")
    opts = _ffi.ctr_kmeans_options()
    _ffi.lib.ctr_kmeans_options_default(ctypes.byref(opts))
    opts.max_iterations = _int32(max_iterations, "max_iterations")
    opts.tolerance = float(tolerance)
    if not 0 <= int(seed) < 2**64:
        raise InvalidArgumentError(f"seed = {seed} does not fit in uint64_t", 1)
    opts.seed = int(seed)
    opts.restarts = _int32(restarts, "restarts")
    kk = _int32(k, "k")
    res = _result(_ffi.ctr_kmeans_result)
    assign = np.empty(a.shape[0], dtype=np.int32)
    cent = np.empty((max(kk, 0), a.shape[1]), dtype=np.float32)
    check(_ffi.lib.ctr_kmeans(_p(a, _f32p), a.shape[0], a.shape[1], kk, ctypes.byref(opts), ctypes.byref(res),
                              _p(assign, _i32p), assign.size, _p(cent, _f32p), cent.size))
    return KMeansResult(assign, cent, res.inertia, int(res.iterations), bool(res.converged))


def clustering_scores(labels, assignments) -> ClusteringScores:
    """NMI (arithmetic mean), ARI and purity of ``assignments`` against ``labels`` (both >= 0)."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ShapeMismatchError(f"labels must be 1-D, got shape {y.shape}", 2)
    ly = _labels(y, y.shape[0], "labels")
    la = _labels(assignments, y.shape[0], "assignments")
    res = _result(_ffi.ctr_clustering_result)
    check(_ffi.lib.ctr_clustering_scores(_p(ly, _i32p), _p(la, _i32p), ly.shape[0], ctypes.byref(res)))
    return ClusteringScores(res.nmi, res.ari, res.purity, int(res.num_classes), int(res.num_clusters))


def topk_accuracy(scores, labels, k: int = 1) -> float:
    """Fraction of rows of ``scores`` (n, C) whose label is among the k best (ties: lower class
    index first)."""
    s = _matrix(scores, "scores")
    y = _labels(labels, s.shape[0], "labels")
    acc = ctypes.c_double()
    check(_ffi.lib.ctr_topk_accuracy(_p(s, _f32p), _p(y, _i32p), s.shape[0], _int32(s.shape[1], "num_classes"),
                                     _int32(k, "k"), ctypes.byref(acc)))
    return float(acc.value)


def effective_rank(x, *, centered: bool = False) -> float:
    """Effective rank exp(H(σ/Σσ)) of ``x`` (n, dim) — Roy & Vetterli; RankMe's collapse measure."""
    a = _matrix(x, "x")
    r = ctypes.c_double()
    check(_ffi.lib.ctr_effective_rank(_p(a, _f32p), a.shape[0], a.shape[1], 1 if centered else 0, ctypes.byref(r)))
    return float(r.value)
