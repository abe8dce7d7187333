"""The evaluation API from Python: kNN, linear probe, retrieval, k-means, clustering scores,
top-k and effective rank against numpy references (float64, written independently of the
library), errors, and the structs against the C compiler's layout."""

import ctypes
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

import contrastive
from contrastive import _ffi

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def splits(n_train=200, n_test=60, d=12, classes=5, seed=0, spread=1.5):
    r = np.random.default_rng(seed)
    centers = r.standard_normal((classes, d))
    out = []
    for n in (n_train, n_test):
        y = r.integers(0, classes, n)
        out += [(centers[y] + spread * r.standard_normal((n, d))).astype(np.float32), y.astype(np.int32)]
    return out


def cosine(a, b):
    a = a.astype(np.float64) / np.linalg.norm(a, axis=1, keepdims=True)
    b = b.astype(np.float64) / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def rank_ahead(scores, y):
    c = np.arange(scores.shape[1])
    sy = scores[np.arange(len(y)), y][:, None]
    return ((scores > sy) | ((scores == sy) & (c[None, :] < y[:, None]))).sum(1)


# --- kNN --------------------------------------------------------------------------------------

def np_knn(xtr, ytr, xte, yte, k, t, classes):
    s = cosine(xte, xtr)
    scores = np.zeros((len(xte), classes))
    for i in range(len(xte)):
        idx = np.argsort(-s[i], kind="stable")[:k]
        np.add.at(scores[i], ytr[idx], np.exp(s[i, idx] / t))
    ahead = rank_ahead(scores, yte)
    return np.mean(ahead == 0), np.mean(ahead < min(5, classes)), scores.argmax(1), scores / scores.sum(1, keepdims=True)


@pytest.mark.parametrize("k,t", [(200, 0.1), (20, 0.07), (1, 0.5)])
def test_knn_matches_numpy(k, t):
    xtr, ytr, xte, yte = splits()
    r = contrastive.knn(xtr, ytr, xte, yte, k=k, temperature=t, return_predictions=True, return_scores=True)
    top1, top5, pred, scores = np_knn(xtr, ytr, xte, yte, k, t, 5)
    # Accuracies and predictions are discrete (no near-ties in this data): exact. Normalised
    # scores: float32 cosines (~1e-7) through exp(s/T), T >= 0.07: <= ~2e-6 relative.
    assert r.top1 == top1 and r.top5 == top5
    np.testing.assert_array_equal(r.predictions, pred)
    np.testing.assert_allclose(r.scores, scores, atol=1e-5, rtol=1e-5)


def test_knn_default_protocol_and_errors():
    xtr, ytr, xte, yte = splits()
    r = contrastive.knn(xtr, ytr, xte, yte)        # k = 200 <= 200 rows
    assert 0 < r.top1 <= r.top5 <= 1 and r.predictions is None
    with pytest.raises(contrastive.InvalidArgumentError, match="larger than the training set"):
        contrastive.knn(xtr, ytr, xte, yte, k=201)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.knn(xtr, ytr, xte, yte, k=0)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.knn(xtr, ytr, xte, yte, temperature=0)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.knn(xtr, ytr, xte, yte, k=5, num_classes=3)     # labels up to 4
    bad = ytr.copy(); bad[3] = -1
    with pytest.raises(contrastive.InvalidArgumentError, match=r"train_labels\[3\]"):
        contrastive.knn(xtr, bad, xte, yte, k=5)
    with pytest.raises(contrastive.ShapeMismatchError):
        contrastive.knn(xtr, ytr, xte[:, :5], yte, k=5)
    with pytest.raises(contrastive.ShapeMismatchError):
        contrastive.knn(xtr, ytr[:10], xte, yte, k=5)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.knn(xtr[:0], ytr[:0], xte, yte, k=1)             # empty split
    nan = xte.copy(); nan[2, 3] = np.nan
    with pytest.raises(contrastive.NumericError, match=r"test\[2, 3\]"):
        contrastive.knn(xtr, ytr, nan, yte, k=5)


# --- linear probe -------------------------------------------------------------------------------

def probe_gradient(xtr, ytr, w_raw, b_raw, lam):
    """Gradient of mean CE + lam/2 |W_std|^2 in the standardised space at the returned model."""
    x = xtr.astype(np.float64)
    mean, std = x.mean(0), x.std(0)
    xs = (x - mean) / std
    w_std = w_raw.astype(np.float64) * std
    z = x @ w_raw.T.astype(np.float64) + b_raw        # same logits as xs @ w_std.T + b_std
    z -= z.max(1, keepdims=True)
    p = np.exp(z); p /= p.sum(1, keepdims=True)
    p[np.arange(len(ytr)), ytr] -= 1
    p /= len(ytr)
    return p.T @ xs + lam * w_std, p.sum(0)


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
def test_linear_probe_is_optimal_and_accurate(solver):
    xtr, ytr, xte, yte = splits(300, 100, 10, 4, seed=3, spread=1.0)
    xtr = xtr * 3 + 1; xte = xte * 3 + 1
    lam = 1e-2
    r = contrastive.linear_probe(xtr, ytr, xte, yte, solver=solver, l2=lam, tolerance=1e-6, max_iterations=1000, epochs=80, batch_size=32,
                                 learning_rate=0.05, return_weights=True)
    gw, gb = probe_gradient(xtr, ytr, r.weights, r.bias, lam)
    # L-BFGS stops at max|grad| <= 1e-6 (in float32 logits): the numpy gradient at the returned
    # raw-space weights is <= 1e-4 after the float32 round trip of W and b. SGD ends near the
    # optimum: gradient <= 2e-2.
    tol = 1e-4 if solver == "lbfgs" else 2e-2
    assert np.abs(gw).max() <= tol and np.abs(gb).max() <= tol
    # Accuracies recomputed from the returned classifier agree exactly.
    zte = xte.astype(np.float64) @ r.weights.T.astype(np.float64) + r.bias
    assert abs(r.top1 - np.mean(zte.argmax(1) == yte)) <= 1.0 / len(yte) + 1e-12
    assert r.top5 == 1.0 and r.train_top1 > 0.5 and r.loss > 0


def test_linear_probe_deterministic_and_errors():
    xtr, ytr, xte, yte = splits(100, 30, 6, 3)
    a = contrastive.linear_probe(xtr, ytr, xte, yte, solver="sgd", epochs=5, seed=4, return_weights=True)
    b = contrastive.linear_probe(xtr, ytr, xte, yte, solver="sgd", epochs=5, seed=4, return_weights=True)
    assert a.loss == b.loss and np.array_equal(a.weights, b.weights)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.linear_probe(xtr, ytr, xte, yte, solver="adam")
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.linear_probe(xtr, ytr, xte, yte, l2=-1)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.linear_probe(xtr, ytr, xte, yte, solver="sgd", momentum=1.0)
    with pytest.raises(contrastive.NumericError):
        contrastive.linear_probe(xtr, ytr, xte, yte, solver="sgd", learning_rate=1e30, l2=1e-2)
    inf = xtr.copy(); inf[0, 0] = np.inf
    with pytest.raises(contrastive.NumericError):
        contrastive.linear_probe(inf, ytr, xte, yte)


# --- retrieval ----------------------------------------------------------------------------------

def np_retrieval(xtr, ytr, xte, yte, k):
    s = cosine(xte, xtr)
    out = []
    for i in range(len(xte)):
        hits = (ytr[np.argsort(-s[i], kind="stable")] == yte[i]).astype(float)
        rel = hits.sum()
        if rel == 0:
            continue
        prec = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        out.append([np.sum(prec * hits) / rel, np.sum((prec * hits)[:k]) / min(k, rel), hits[:k].sum() / k,
                    hits[0], float(hits[:k].any())])
    return np.mean(out, axis=0), len(out)


def test_retrieval_matches_numpy():
    xtr, ytr, xte, yte = splits(150, 40, 8, 5, seed=5)
    yte[0] = 9                                   # no relevant row: left out
    r = contrastive.retrieval_map(xtr, ytr, xte, yte, k=10, return_average_precision=True)
    ref, q = np_retrieval(xtr, ytr, xte, yte, 10)
    np.testing.assert_allclose([r.map, r.map_at_k, r.precision_at_k, r.recall_at_1, r.recall_at_k], ref, atol=1e-12)
    assert r.num_queries == q == 39 and r.num_without_relevant == 1 and r.average_precision[0] == -1
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.retrieval_map(xtr, ytr, xte, yte, k=151)


# --- k-means and clustering scores --------------------------------------------------------------

def np_nmi_ari_purity(y, c):
    _, y = np.unique(y, return_inverse=True)
    _, c = np.unique(c, return_inverse=True)
    n = len(y)
    m = np.zeros((y.max() + 1, c.max() + 1))
    np.add.at(m, (y, c), 1)
    a, b = m.sum(1), m.sum(0)
    nz = m > 0
    mi = np.sum(m[nz] / n * np.log(n * m[nz] / np.outer(a, b)[nz]))
    h = lambda p: -np.sum(p / n * np.log(p / n))
    nmi = 1.0 if len(a) == len(b) == 1 else (0.0 if mi <= 0 else mi / ((h(a) + h(b)) / 2))
    comb = lambda v: np.sum(v * (v - 1) / 2)
    index, ea, eb, tot = comb(m), comb(a), comb(b), n * (n - 1) / 2
    expected = ea * eb / tot
    ari = (index - expected) / ((ea + eb) / 2 - expected)
    return nmi, ari, m.max(0).sum() / n


def test_clustering_scores_match_numpy():
    r = np.random.default_rng(9)
    y = r.integers(0, 6, 500)
    c = np.where(r.random(500) < 0.7, y % 4, r.integers(0, 4, 500)) * 5 + 2
    s = contrastive.clustering_scores(y, c)
    nmi, ari, pur = np_nmi_ari_purity(y, c)
    assert abs(s.nmi - nmi) < 1e-12 and abs(s.ari - ari) < 1e-12 and abs(s.purity - pur) < 1e-15
    assert (s.num_classes, s.num_clusters) == (6, 4)
    same = contrastive.clustering_scores([0, 0, 1], [3, 3, 1])
    assert same.nmi == same.ari == same.purity == 1.0
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.clustering_scores([0, -1], [0, 0])
    with pytest.raises(contrastive.ShapeMismatchError):
        contrastive.clustering_scores([0, 1], [0])


def test_kmeans_on_blobs():
    r = np.random.default_rng(2)
    centers = r.standard_normal((3, 4)) * 10
    y = r.integers(0, 3, 300)
    x = (centers[y] + r.standard_normal((300, 4))).astype(np.float32)
    km = contrastive.kmeans(x, 3, seed=1, restarts=2)
    assert contrastive.clustering_scores(y, km.assignments).ari == 1.0 and km.converged
    # Fixed point: centroids are the means of their rows; the inertia is theirs (float32 means).
    for t in range(3):
        np.testing.assert_allclose(km.centroids[t], x[km.assignments == t].astype(np.float64).mean(0), atol=1e-5)
    inertia = np.sum((x.astype(np.float64) - km.centroids[km.assignments].astype(np.float64)) ** 2)
    assert abs(km.inertia - inertia) <= 1e-9 * inertia
    again = contrastive.kmeans(x, 3, seed=1, restarts=2)
    assert np.array_equal(again.assignments, km.assignments) and again.inertia == km.inertia
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.kmeans(x, 301)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.kmeans(x, 0)


# --- top-k, effective rank ----------------------------------------------------------------------

def test_topk_matches_numpy():
    r = np.random.default_rng(4)
    s = r.standard_normal((300, 10)).astype(np.float32)
    y = r.integers(0, 10, 300)
    ahead = rank_ahead(s.astype(np.float64), y)
    for k in (1, 3, 5, 10, 12):
        assert contrastive.topk_accuracy(s, y, k) == np.mean(ahead < k)
    assert contrastive.topk_accuracy([[1, 1, 0]], [1], 1) == 0.0   # tie: class 0 ranks first
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.topk_accuracy(s, y, 0)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.topk_accuracy(s, np.full(300, 10), 1)


def np_erank(x, centered=False):
    x = x.astype(np.float64)
    if centered:
        x = x - x.mean(0)
    sv = np.linalg.svd(x, compute_uv=False)
    p = sv / sv.sum()
    p = p[p > 0]
    return np.exp(-(p * np.log(p)).sum())


@pytest.mark.parametrize("shape,rank", [((200, 32), None), ((100, 16), 3), ((10, 50), None)])
def test_effective_rank_matches_numpy_svd(shape, rank):
    r = np.random.default_rng(1)
    n, d = shape
    x = r.standard_normal(shape) if rank is None else r.standard_normal((n, rank)) @ r.standard_normal((rank, d))
    x = (x + 0.5).astype(np.float32)
    # Double Gram + dsyevd vs float64 SVD: 1e-6 relative (noise eigenvalues are cut off).
    for centered in (False, True):
        assert abs(contrastive.effective_rank(x, centered=centered) - np_erank(x, centered)) <= 1e-6 * np_erank(x, centered)
    assert contrastive.effective_rank(np.zeros((3, 3), np.float32)) == 0.0
    with pytest.raises(contrastive.NumericError):
        contrastive.effective_rank(np.full((2, 2), np.nan, np.float32))


# --- layout -------------------------------------------------------------------------------------

STRUCTS = {
    "ctr_knn_options": ["k", "temperature"],
    "ctr_knn_result": ["top1", "top5"],
    "ctr_linear_probe_options": ["solver", "l2", "standardize", "max_iterations", "tolerance", "epochs", "batch_size",
                                 "learning_rate", "momentum", "seed"],
    "ctr_linear_probe_result": ["iterations", "top1", "top5", "train_top1", "loss"],
    "ctr_retrieval_options": ["k"],
    "ctr_retrieval_result": ["num_queries", "num_without_relevant", "map", "map_at_k", "precision_at_k", "recall_at_1",
                             "recall_at_k"],
    "ctr_kmeans_options": ["max_iterations", "tolerance", "seed", "restarts"],
    "ctr_kmeans_result": ["iterations", "converged", "inertia"],
    "ctr_clustering_result": ["num_classes", "num_clusters", "nmi", "ari", "purity"],
}


def test_structs_match_the_header():
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    lines = []
    for name, fields in STRUCTS.items():
        args = ", ".join([f"sizeof({name})"] + [f"offsetof({name}, {f})" for f in fields])
        lines.append(f'printf("{" ".join(["%zu"] * (len(fields) + 1))}\\n", {args});')
    src = "#include <stddef.h>\n#include <stdio.h>\n#include \"contrastive.h\"\nint main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n"
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "s.c"), os.path.join(d, "s")
        with open(c, "w") as f:
            f.write(src)
        subprocess.run([cc, "-std=c99", "-I", os.path.join(REPO, "include"), c, "-o", exe], check=True)
        rows = subprocess.run([exe], check=True, capture_output=True, text=True).stdout.splitlines()
    for (name, fields), row in zip(STRUCTS.items(), rows):
        S = getattr(_ffi, name)
        assert [int(v) for v in row.split()] == [ctypes.sizeof(S)] + [getattr(S, f).offset for f in fields], name
        if name.endswith("_options"):
            opts = S()
            getattr(_ffi.lib, name + "_default")(ctypes.byref(opts))
            assert opts.struct_size == ctypes.sizeof(S)
