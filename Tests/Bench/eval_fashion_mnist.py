#!/usr/bin/env python3
"""Evaluation calls on raw Fashion-MNIST pixels (60000 × 784 train, 10000 test) — a benchmark,
not a test: prints accuracy and wall time of kNN, the linear probe (L-BFGS and SGD), k-means,
retrieval (on a 1000-query subset) and effective rank, through the Python binding.

    apt-get install dataset-fashion-mnist
    make lib && CONTRASTIVE_LIBRARY=build/lib/libcontrastive.so.0 python3 Tests/Bench/eval_fashion_mnist.py

Reference points for raw pixels (DESIGN.md §8): kNN(k=5) ≈ 85.5 %, logistic regression ≈ 83.5 %.
"""

import gzip
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bindings", "python"))
import contrastive  # noqa: E402

ROOT = "/usr/share/datasets/fashion-mnist"


def idx(name):
    with gzip.open(os.path.join(ROOT, name)) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def timed(label, fn):
    t = time.perf_counter()
    r = fn()
    print(f"{label:<44} {time.perf_counter() - t:7.2f} s   {r}")
    return r


def main():
    xtr = idx("train-images-idx3-ubyte.gz").reshape(60000, -1).astype(np.float32) / 255
    ytr = idx("train-labels-idx1-ubyte.gz").astype(np.int32)
    xte = idx("t10k-images-idx3-ubyte.gz").reshape(10000, -1).astype(np.float32) / 255
    yte = idx("t10k-labels-idx1-ubyte.gz").astype(np.int32)
    print(f"Fashion-MNIST raw pixels, {contrastive.get_num_threads()} threads")
    timed("kNN k=200 T=0.1 (lightly/InstDisc)", lambda: contrastive.knn(xtr, ytr, xte, yte))
    timed("kNN k=20 T=0.07 (solo-learn)", lambda: contrastive.knn(xtr, ytr, xte, yte, k=20, temperature=0.07))
    timed("linear probe L-BFGS l2=1e-4", lambda: contrastive.linear_probe(xtr, ytr, xte, yte))
    timed("linear probe SGD 30 epochs", lambda: contrastive.linear_probe(xtr, ytr, xte, yte, solver="sgd", epochs=30))
    km = timed("k-means k=10", lambda: contrastive.kmeans(xtr, 10, seed=0).inertia)
    del km
    km = contrastive.kmeans(xtr, 10, seed=0)
    timed("clustering scores of that k-means", lambda: contrastive.clustering_scores(ytr, km.assignments))
    timed("retrieval, 1000 queries", lambda: contrastive.retrieval_map(xtr, ytr, xte[:1000], yte[:1000], k=100))
    timed("effective rank 60000 × 784", lambda: contrastive.effective_rank(xtr))


if __name__ == "__main__":
    main()
