import gzip
import os
import struct

import numpy as np
import pytest

import contrastive
import contrastive.datasets as cds

FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.exists(f"{FASHION}/t10k-images-idx3-ubyte.gz"), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_test_split_matches_numpy_reading():
    ds = cds.load_idx(f"{FASHION}/t10k-images-idx3-ubyte.gz", f"{FASHION}/t10k-labels-idx1-ubyte.gz")
    assert (len(ds), ds.height, ds.width, ds.channels, ds.num_classes) == (10000, 28, 28, 1, 10)
    ref = np.frombuffer(gzip.open(f"{FASHION}/t10k-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28, 1)
    lab = np.frombuffer(gzip.open(f"{FASHION}/t10k-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    assert np.array_equal(ds.images, ref)
    assert np.array_equal(ds.labels, lab.astype(np.int32))


def test_from_numpy_round_trip_and_split():
    x = np.arange(10 * 4 * 5 * 3, dtype=np.int64).astype(np.uint8).reshape(10, 4, 5, 3)
    y = np.arange(10) % 3
    ds = cds.Dataset.from_numpy(x, y)
    assert np.array_equal(ds.images, x) and np.array_equal(ds.labels, y)
    tr, va = ds.split(0.3, seed=1)
    assert (len(tr), len(va)) == (7, 3)
    both = np.concatenate([tr.images, va.images])
    assert sorted(map(bytes, both)) == sorted(map(bytes, x))
    tr2, _ = ds.split(0.3, seed=1)
    assert np.array_equal(tr.images, tr2.images)
    assert cds.Dataset.from_numpy(x[..., 0]).channels == 1
    assert cds.Dataset.from_numpy(x).labels is None


def test_bad_input(tmp_path):
    with pytest.raises(TypeError):
        cds.Dataset.from_numpy(np.zeros((2, 3, 3), np.float32))
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.Dataset.from_numpy(np.zeros((2, 3, 3), np.uint8), labels=[0, -1])
    with pytest.raises(contrastive.ContrastiveIOError):
        cds.load_idx(tmp_path / "missing")
    p = tmp_path / "bad.idx"
    good = struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 2, 2) + bytes(8)
    for cut in range(len(good)):
        p.write_bytes(good[:cut])
        with pytest.raises(contrastive.FormatError):
            cds.load_idx(p)
    p.write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(contrastive.FormatError):
        cds.load_idx(p)
    p.write_bytes(good)
    assert len(cds.load_idx(p)) == 2
    ds = cds.load_idx(p)
    with pytest.raises(contrastive.InvalidArgumentError):
        ds.split(2.0)


def test_procedural_dataset_is_deterministic_balanced_and_colourful():
    a = cds.procedural(500, 24, seed=3)
    b = cds.procedural(500, 24, seed=3)
    assert (len(a), a.height, a.channels, a.num_classes) == (500, 24, 3, 10)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, cds.procedural(500, 24, seed=4).images)
    counts = np.bincount(a.labels, minlength=10)
    assert counts.min() > 25, counts
    # Image i depends only on (seed, i): a shorter dataset is a prefix.
    assert np.array_equal(cds.procedural(20, 24, seed=3).images, a.images[:20])
    assert a.images.std() > 40
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.procedural(0)
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.procedural(10, size=4)
