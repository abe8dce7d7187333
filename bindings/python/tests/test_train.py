"""contrastive.Trainer: the four anchor methods learn on Fashion-MNIST, callbacks, cancel,
exact resume, own batches, export, bad input — through the C ABI."""
import os
import subprocess
import sys

import numpy as np
import pytest

import contrastive
import contrastive.datasets as cds

FMNIST = "/usr/share/datasets/fashion-mnist"
SMALL = dict(arch="convnet", in_channels=1, convnet_channels=(16, 32, 64), head=dict(layers=2, hidden=128, out=64))


@pytest.fixture(scope="module")
def fmnist():
    d = cds.load_idx(f"{FMNIST}/train-images-idx3-ubyte.gz", f"{FMNIST}/train-labels-idx1-ubyte.gz")
    return d.slice(0, 1280).split(0.2, seed=3)


def small_trainer(train, val=None, method="simclr", epochs=3, **kw):
    opts = dict(method=method, epochs=epochs, batch_size=128, seed=5, model=SMALL, rank_samples=256,
                queue_size=512, prototypes=64, freeze_prototypes_epochs=0)
    opts.update(kw)
    return contrastive.Trainer(train, val, **opts)


@pytest.mark.parametrize("method", ["simclr", "mocov2", "byol", "swav"])
def test_methods_learn_on_fashion_mnist(fmnist, method):
    train, val = fmnist
    steps = []
    t = small_trainer(train, val, method=method, epochs=4, lr={"swav": 0.6}.get(method))
    hist = t.fit(lambda s, e: steps.append(s))
    assert len(hist) == 4 and len(steps) == t.state["total_steps"]
    assert all(np.isfinite(s["loss"]) and not s["skipped"] for s in steps)
    # MoCo's queue starts as random unit vectors (easy negatives): its loss first rises while
    # the queue fills with real keys during epoch 1, so compare with epoch 2 there.
    ref = hist[1]["mean_loss"] if method == "mocov2" else hist[0]["mean_loss"]
    assert hist[-1]["mean_loss"] < ref, [h["mean_loss"] for h in hist]
    assert 0.3 < hist[-1]["knn_top1"] <= 1.0          # 10 classes: chance is 0.1
    assert np.isfinite(hist[-1]["effective_rank"]) and hist[-1]["effective_rank"] > 1
    if method in ("mocov2", "byol"):
        assert all(0.99 <= s["tau"] <= 1 for s in steps)


def test_exact_resume_and_cancel(fmnist, tmp_path):
    train, _ = fmnist
    full = small_trainer(train, method="byol", epochs=2, knn_every=0)
    full.fit()
    part = small_trainer(train, method="byol", epochs=2, knn_every=0)
    with pytest.raises(contrastive.CancelledError):
        part.fit(lambda s, e: s["step"] < 4)        # cancels after step 5 (mid-epoch)
    assert part.state["global_step"] == 5
    path = tmp_path / "state.safetensors"
    part.save(path)
    resumed = small_trainer(train, method="byol", epochs=2, knn_every=0)
    resumed.load(path)
    resumed.fit()
    a, b = full.embed(train), resumed.embed(train)
    assert np.array_equal(a, b), "resumed run must be bit-identical"
    assert [h["mean_loss"] for h in full.history] == [h["mean_loss"] for h in resumed.history]


def test_callback_exception_propagates(fmnist):
    train, _ = fmnist
    t = small_trainer(train, epochs=1, knn_every=0)

    def boom(step, epoch):
        raise KeyError("from the callback")

    with pytest.raises(KeyError):
        t.fit(boom)
    assert t.state["global_step"] == 1
    t.fit()                                          # continues
    assert t.state["finished"]


def test_own_batches_iterator_export(fmnist, tmp_path):
    train, val = fmnist
    t = small_trainer(None, method="simclr", image_size=28)
    m = t.step(train.images[:64])
    assert np.isfinite(m["loss"]) and t.state["global_step"] == 1
    it = small_trainer(train, epochs=1, knn_every=0)
    steps = list(it.steps())
    assert len(steps) == it.state["steps_per_epoch"] and it.state["finished"]
    path = tmp_path / "encoder.safetensors"
    it.export_encoder(path)
    model = contrastive.Model("convnet", in_channels=1, convnet_channels=(16, 32, 64))
    model.load(path)
    assert it.model.feature_dim == 64


def test_bad_input(fmnist, tmp_path):
    train, val = fmnist
    with pytest.raises(contrastive.InvalidArgumentError, match="larger than the dataset"):
        small_trainer(train, batch_size=100000)
    with pytest.raises(contrastive.ShapeMismatchError):
        small_trainer(train, model=dict(SMALL, in_channels=3))
    with pytest.raises(TypeError):
        small_trainer(train, no_such_option=1)
    with pytest.raises(contrastive.InvalidArgumentError):
        small_trainer(train, method="nope")
    with pytest.raises(contrastive.InvalidArgumentError):
        small_trainer(train, temperature=float("nan"))
    with pytest.raises(contrastive.FormatError):
        small_trainer(train, augment="view x2: rrc size=28 | nonsense")
    t = small_trainer(train, epochs=1, knn_every=0)
    with pytest.raises(contrastive.ContrastiveIOError):
        t.load(tmp_path / "missing.safetensors")
    other = small_trainer(train, method="mocov2", epochs=1, knn_every=0)
    p = tmp_path / "moco.safetensors"
    other.save(p)
    with pytest.raises(contrastive.FormatError, match="method mocov2"):
        t.load(p)
    with pytest.raises(contrastive.InvalidArgumentError):
        t.step(np.zeros((1, 28, 28, 1), np.uint8))
    # A diverging run stops with NUMERIC and finite weights.
    d = small_trainer(train, epochs=1, knn_every=0, optimizer="sgd", lr=3e38, lr_scaling="none",
                      schedule="constant", max_skipped_steps=2)
    with pytest.raises(contrastive.NumericError):
        d.fit()
    enc = tmp_path / "diverged.safetensors"
    d.export_encoder(enc)
    contrastive.Model("convnet", in_channels=1, convnet_channels=(16, 32, 64)).load(enc)   # refuses NaN/Inf


def test_python_example_runs():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = dict(os.environ, PYTHONPATH=os.path.join(repo, "bindings", "python"))
    r = subprocess.run([sys.executable, os.path.join(repo, "examples", "python", "train.py"), "--images", "640", "--epochs", "1"],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "epoch 1:" in r.stdout and "resumed:" in r.stdout


def test_finetune_transfer(fmnist):
    train, val = fmnist
    t = small_trainer(train, epochs=1, knn_every=0)
    t.fit()
    m = t.model
    r = m.finetune(train, val, epochs=3, batch_size=128)
    assert r["steps"] == 3 * (len(train) // 128)
    assert 0.25 < r["top1"] <= r["top5"] <= 1.0          # 10 classes: chance is 0.1
    with pytest.raises(contrastive.InvalidArgumentError):
        m.finetune(train, val, lr=-1.0)
