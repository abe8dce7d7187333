#!/usr/bin/env python3
"""Generate numpy / scikit-learn reference fixtures for the evaluation tests (EvalTests.swift).

Run from the repository root, with numpy and scikit-learn installed (e.g. a venv:
`python3 -m venv /tmp/evalvenv && /tmp/evalvenv/bin/pip install numpy scikit-learn`):

    /tmp/evalvenv/bin/python Tests/ContrastiveTests/Fixtures/gen_eval_fixtures.py

CI never runs this script; the outputs are committed. The committed files were generated
with numpy 2.4.6 and scikit-learn 1.9.1.

Outputs go to Tests/ContrastiveTests/Fixtures/eval/ (deleted and recreated):

    eval/<case>/meta.txt   key=value lines: op=<name>, parameters and scalar results
    eval/<case>/<x>.npy    inputs (float '<f4', labels '<i4') and array results ('<f4')

Each reference is written independently of the engine:
- knn: the full n_test × n_train cosine matrix in float64, a stable argsort (ties → lower
  index), Σ exp(s/T) votes per class (InstDisc / solo-learn `weighted_knn`), predictions
  and normalised class scores.
- linear: StandardScaler + LogisticRegression(lbfgs, multinomial, C = 1/(λ·n)), tol 1e-10,
  so its optimum is the engine's (mean CE + λ/2‖W‖², bias unpenalised).
- retrieval: average_precision_score per query (no tied scores in the data), mAP@k as
  (1/min(k, R)) Σ_{hits in top k} precision@rank, precision@k, hit@1, hit@k.
- clustering: normalized_mutual_info_score (arithmetic), adjusted_rand_score, purity.
- topk: top_k_accuracy_score (scores drawn without ties).
- erank: exp(entropy(σ/Σσ)) from numpy's SVD in float64.
- kmeans: well-separated blobs with scikit-learn's KMeans labels and inertia.
Every case seeds numpy with CRC32 of its name, so reruns give byte-identical files.
"""

import shutil
import zlib
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (adjusted_rand_score, average_precision_score, normalized_mutual_info_score,
                             top_k_accuracy_score)
from sklearn.preprocessing import StandardScaler

OUT = Path(__file__).resolve().parent / "eval"


def rng(case):
    return np.random.default_rng(zlib.crc32(case.encode()))


def save(case, meta, arrays):
    d = OUT / case
    d.mkdir(parents=True)
    with open(d / "meta.txt", "w") as f:
        for k, v in meta.items():
            f.write(f"{k}={v!r}\n" if isinstance(v, float) else f"{k}={v}\n")
    for name, a in arrays.items():
        a = np.asarray(a)
        a = a.astype("<i4") if a.dtype.kind in "iu" else a.astype("<f4")
        np.save(d / f"{name}.npy", np.ascontiguousarray(a))


def splits(r, n_train, n_test, d, classes, spread=1.0, sep=2.0):
    """Train and test rows drawn around the same class centres."""
    centers = r.standard_normal((classes, d)) * sep
    out = []
    for n in (n_train, n_test):
        y = r.integers(0, classes, n)
        x = centers[y] + spread * r.standard_normal((n, d))
        out += [x.astype(np.float32), y.astype(np.int32)]
    return out


def normalize(x):
    x = x.astype(np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


# MARK: - kNN

def knn_case(case, n_train, n_test, d, classes, k, t):
    r = rng(case)
    xtr, ytr, xte, yte = splits(r, n_train, n_test, d, classes, spread=1.5, sep=1.0)
    s = normalize(xte) @ normalize(xtr).T
    scores = np.zeros((n_test, classes))
    for i in range(n_test):
        order = np.argsort(-s[i], kind="stable")[:k]
        for j in order:
            scores[i, ytr[j]] += np.exp(s[i, j] / t)
    pred = np.argmax(scores, axis=1)                       # first maximum = lower index
    rank = np.array([np.sum((scores[i] > scores[i, yte[i]]) | ((scores[i] == scores[i, yte[i]]) & (np.arange(classes) < yte[i])))
                     for i in range(n_test)])
    save(case, dict(op="knn", k=k, temperature=t, classes=classes, top1=float(np.mean(rank == 0)),
                    top5=float(np.mean(rank < min(5, classes)))),
         dict(train=xtr, train_labels=ytr, test=xte, test_labels=yte, predictions=pred,
              scores=scores / scores.sum(1, keepdims=True)))


# MARK: - linear probe

def linear_case(case, n_train, n_test, d, classes, lam):
    r = rng(case)
    xtr, ytr, xte, yte = splits(r, n_train, n_test, d, classes, spread=1.0, sep=0.8)
    xtr = xtr * np.linspace(0.5, 3, d).astype(np.float32) + 1.5    # unequal scales and offsets
    xte = xte * np.linspace(0.5, 3, d).astype(np.float32) + 1.5
    sc = StandardScaler().fit(xtr.astype(np.float64))
    a, b = sc.transform(xtr.astype(np.float64)), sc.transform(xte.astype(np.float64))
    clf = LogisticRegression(C=1.0 / (lam * n_train), solver="lbfgs", tol=1e-10, max_iter=100000).fit(a, ytr)
    ptr, pte = clf.predict_proba(a), clf.predict_proba(b)
    w, c0 = clf.coef_, clf.intercept_
    # Objective value of the engine's formulation at sklearn's optimum.
    loss = -np.mean(np.log(ptr[np.arange(n_train), ytr])) + 0.5 * lam * np.sum(w * w)
    top5 = top_k_accuracy_score(yte, pte, k=min(5, classes), labels=np.arange(classes))
    # Raw-feature classifier (standardisation folded in).
    w_raw = w / sc.scale_
    b_raw = c0 - w_raw @ sc.mean_
    save(case, dict(op="linear", l2=lam, classes=classes, top1=float(np.mean(pte.argmax(1) == yte)), top5=float(top5),
                    train_top1=float(np.mean(ptr.argmax(1) == ytr)), loss=float(loss)),
         dict(train=xtr, train_labels=ytr, test=xte, test_labels=yte, coef=w, intercept=c0,
              weights_raw=w_raw, bias_raw=b_raw, test_proba=pte))


# MARK: - retrieval

def retrieval_case(case, n_train, n_test, d, classes, k):
    r = rng(case)
    xtr, ytr, xte, yte = splits(r, n_train, n_test, d, classes, spread=1.5, sep=1.0)
    yte[0] = classes          # a query whose label no training row has: left out
    s = normalize(xte) @ normalize(xtr).T
    aps, apks, pks, h1, hk = [], [], [], [], []
    for i in range(n_test):
        rel = (ytr == yte[i]).astype(int)
        if rel.sum() == 0:
            continue
        aps.append(average_precision_score(rel, s[i]))
        order = np.argsort(-s[i], kind="stable")
        hits = rel[order]
        prec = np.cumsum(hits) / np.arange(1, n_train + 1)
        apks.append(np.sum(prec[:k] * hits[:k]) / min(k, rel.sum()))
        pks.append(hits[:k].sum() / k)
        h1.append(float(hits[0]))
        hk.append(float(hits[:k].any()))
    save(case, dict(op="retrieval", k=k, map=float(np.mean(aps)), map_at_k=float(np.mean(apks)),
                    precision_at_k=float(np.mean(pks)), recall_at_1=float(np.mean(h1)), recall_at_k=float(np.mean(hk)),
                    queries=len(aps), skipped=n_test - len(aps)),
         dict(train=xtr, train_labels=ytr, test=xte, test_labels=yte))


# MARK: - clustering scores

def purity(y, c):
    total = 0
    for cl in np.unique(c):
        total += np.bincount(y[c == cl]).max()
    return total / len(y)


def clustering_case(case, n, classes, clusters, agree):
    r = rng(case)
    y = r.integers(0, classes, n)
    c = np.where(r.random(n) < agree, y % clusters, r.integers(0, clusters, n))
    c = c * 3 + 7                # non-contiguous cluster ids
    save(case, dict(op="clustering", nmi=float(normalized_mutual_info_score(y, c)), ari=float(adjusted_rand_score(y, c)),
                    purity=float(purity(y, c)), num_classes=len(np.unique(y)), num_clusters=len(np.unique(c))),
         dict(labels=y, assignments=c))


# MARK: - top-k

def topk_case(case, n, classes):
    r = rng(case)
    s = r.standard_normal((n, classes)).astype(np.float32)
    y = r.integers(0, classes, n)
    meta = dict(op="topk", classes=classes)
    for k in (1, 2, 3, 5):
        meta[f"top{k}"] = float(top_k_accuracy_score(y, s.astype(np.float64), k=k, labels=np.arange(classes)))
    save(case, meta, dict(scores=s, labels=y))


# MARK: - effective rank

def erank(x, centered):
    x = x.astype(np.float64)
    if centered:
        x = x - x.mean(0)
    sv = np.linalg.svd(x, compute_uv=False)
    p = sv / sv.sum()
    p = p[p > 0]
    return float(np.exp(-(p * np.log(p)).sum()))


def erank_case(case, n, d, rank=None, scales=None):
    r = rng(case)
    if rank is None:
        x = r.standard_normal((n, d))
    else:
        x = r.standard_normal((n, rank)) @ r.standard_normal((rank, d))
    if scales is not None:
        x = x * scales
    x = (x + 0.3).astype(np.float32)
    save(case, dict(op="erank", erank=erank(x, False), erank_centered=erank(x, True)), dict(x=x))


# MARK: - k-means

def kmeans_case(case, n, d, k):
    r = rng(case)
    centers = r.standard_normal((k, d)) * 10
    y = r.integers(0, k, n)
    x = (centers[y] + r.standard_normal((n, d))).astype(np.float32)
    km = KMeans(n_clusters=k, n_init=10, random_state=0, tol=1e-8).fit(x.astype(np.float64))
    save(case, dict(op="kmeans", k=k, inertia=float(km.inertia_)), dict(x=x, labels=km.labels_.astype(np.int32)))


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    knn_case("knn_k20_t007", 300, 80, 16, 6, 20, 0.07)
    knn_case("knn_k200_t01", 400, 60, 12, 10, 200, 0.1)
    knn_case("knn_k5_3classes", 50, 40, 8, 3, 5, 0.5)
    linear_case("linear_6classes", 300, 120, 10, 6, 1e-2)
    linear_case("linear_3classes", 200, 80, 5, 3, 1e-3)
    retrieval_case("retrieval", 150, 40, 8, 5, 10)
    clustering_case("clustering", 600, 7, 5, 0.6)
    clustering_case("clustering_close", 300, 4, 4, 0.95)
    topk_case("topk", 200, 10)
    erank_case("erank_full", 200, 24)
    erank_case("erank_low", 150, 20, rank=4)
    erank_case("erank_wide", 12, 40)
    erank_case("erank_scaled", 300, 16, scales=np.geomspace(1, 1e-3, 16))
    kmeans_case("kmeans_blobs", 400, 5, 4)


if __name__ == "__main__":
    main()
