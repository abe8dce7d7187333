#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for the libcontrastive op tests.

Run from the repository root:

    /path/to/venv/bin/python Tests/ContrastiveTests/Fixtures/gen_ops_fixtures.py

Requirements: torch and numpy (CPU is enough; no GPU is used).

Outputs go to Tests/ContrastiveTests/Fixtures/ops/, which is deleted and
recreated on every run. Each case gets its own folder

    ops/<case>/<name>.npy   arrays (float: '<f4', integer: '<i4', C order)
    ops/<case>/meta.txt     `key=value` lines, always including `op=<opname>`

For every case an upstream gradient `dy` is stored (standard normal, same shape
as the output; for scalar-loss ops `dy` is shape (1,) = [1.0]) together with the
input gradients computed by autograd, named d<input>.npy.

Determinism: every case seeds torch with a fixed per-case seed, runs on the CPU
with one thread, draws its inputs as float32 and converts them to float64 (inputs
derived by scaling, e.g. randn * 0.3, are rounded back to float32-exact values), so
the stored inputs are exactly what was computed on. All computation is float64;
only the results are rounded to float32 when written.

CI never runs this script; the generated files are committed.
"""

import shutil
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT_DIR = Path(__file__).resolve().parent / "ops"
F64 = torch.float64


# MARK: - helpers


def seed_for(case: str) -> None:
    """Seed torch from a stable hash of the case name (independent of case order)."""
    torch.manual_seed(zlib.crc32(case.encode("utf-8")))


def randn(*shape) -> torch.Tensor:
    """Standard normal drawn in float32, returned as float64 (exactly representable in float32)."""
    return torch.randn(*shape, dtype=torch.float32).to(F64)


def rand(*shape) -> torch.Tensor:
    """Uniform [0, 1) drawn in float32, returned as float64."""
    return torch.rand(*shape, dtype=torch.float32).to(F64)


def exact(t: torch.Tensor) -> torch.Tensor:
    """Round a derived input (e.g. randn * 0.3) to float32 and back, so the float64
    value computed on is exactly the float32 value written to disk."""
    return t.to(torch.float32).to(F64)


def leaf(t: torch.Tensor) -> torch.Tensor:
    """A float32-exact float64 input that records its gradient."""
    return exact(t).detach().clone().requires_grad_(True)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach().cpu()
    if t.dtype.is_floating_point:
        return np.ascontiguousarray(t.numpy().astype("<f4"))
    return np.ascontiguousarray(t.numpy().astype("<i4"))


class Case:
    def __init__(self, name: str, op: str):
        self.name = name
        self.dir = OUT_DIR / name
        self.dir.mkdir(parents=True)
        self.meta = {"op": op}
        seed_for(name)

    def save(self, **arrays: torch.Tensor) -> None:
        for key, value in arrays.items():
            np.save(self.dir / f"{key}.npy", to_numpy(value))

    def set_meta(self, **kv) -> None:
        self.meta.update(kv)

    def finish(self) -> None:
        lines = []
        for key, value in self.meta.items():
            if isinstance(value, bool):
                value = int(value)
            lines.append(f"{key}={value}")
        (self.dir / "meta.txt").write_text("\n".join(lines) + "\n")


def backward(y: torch.Tensor, dy: torch.Tensor) -> None:
    y.backward(dy)


# MARK: - cases


def conv2d_case(name, x_shape, w_shape, stride, padding, bias):
    c = Case(name, "conv2d")
    x = leaf(randn(*x_shape))
    w = leaf(randn(*w_shape) * 0.3)
    b = leaf(randn(w_shape[0])) if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding)
    dy = randn(*y.shape)
    backward(y, dy)
    c.set_meta(stride=stride, padding=padding, bias=bias)
    c.save(x=x, w=w, y=y, dy=dy, dx=x.grad, dw=w.grad)
    if bias:
        c.save(b=b, db=b.grad)
    c.finish()


def batchnorm_case(name, x_shape, training, scale=1.0, shift=0.0):
    momentum, eps = 0.1, 1e-5
    c = Case(name, "batchnorm")
    channels = x_shape[1]
    x = leaf(randn(*x_shape) * scale + shift)
    gamma = leaf(1 + 0.1 * randn(channels))
    beta = leaf(0.1 * randn(channels))
    running_mean_in = exact(0.1 * randn(channels))
    running_var_in = exact(1 + 0.1 * rand(channels))
    running_mean = running_mean_in.clone()
    running_var = running_var_in.clone()
    y = F.batch_norm(
        x, running_mean, running_var, weight=gamma, bias=beta,
        training=training, momentum=momentum, eps=eps,
    )
    dy = randn(*y.shape)
    backward(y, dy)
    c.set_meta(training=training, momentum=momentum, eps=eps)
    c.save(
        x=x, gamma=gamma, beta=beta,
        running_mean_in=running_mean_in, running_var_in=running_var_in,
        y=y, running_mean_out=running_mean, running_var_out=running_var,
        dy=dy, dx=x.grad, dgamma=gamma.grad, dbeta=beta.grad,
    )
    c.finish()


def linear_case():
    c = Case("linear", "linear")
    x = leaf(randn(5, 7))
    w = leaf(randn(4, 7))
    b = leaf(randn(4))
    y = F.linear(x, w, b)
    dy = randn(*y.shape)
    backward(y, dy)
    c.save(x=x, w=w, b=b, y=y, dy=dy, dx=x.grad, dw=w.grad, db=b.grad)
    c.finish()


def maxpool_case(name, x_shape, kernel, stride, padding):
    c = Case(name, "maxpool")
    n = int(np.prod(x_shape))
    # Distinct values (a shuffled integer grid scaled by a power of two, so exact
    # in float32) make every window's argmax unique.
    perm = torch.randperm(n).to(F64)
    x = leaf(((perm - n / 2) / 64.0).reshape(x_shape))
    y = F.max_pool2d(x, kernel_size=kernel, stride=stride, padding=padding)
    dy = randn(*y.shape)
    backward(y, dy)
    c.set_meta(kernel=kernel, stride=stride, padding=padding)
    c.save(x=x, y=y, dy=dy, dx=x.grad)
    c.finish()


def avgpool_case():
    c = Case("avgpool", "avgpool")
    x = leaf(randn(2, 3, 5, 5))
    y = x.mean(dim=(2, 3))
    dy = randn(*y.shape)
    backward(y, dy)
    c.save(x=x, y=y, dy=dy, dx=x.grad)
    c.finish()


def log_softmax_case():
    c = Case("log_softmax", "log_softmax")
    x = leaf(randn(6, 10) * 3)
    y = F.log_softmax(x, dim=1)
    dy = randn(*y.shape)
    backward(y, dy)
    c.save(x=x, y=y, dy=dy, dx=x.grad)
    c.finish()


def cross_entropy_case():
    c = Case("cross_entropy", "cross_entropy")
    x = leaf(randn(6, 10) * 3)
    targets = torch.randint(0, 10, (6,), dtype=torch.int64)
    loss = F.cross_entropy(x, targets, reduction="mean").reshape(1)
    dy = torch.ones(1, dtype=F64)
    backward(loss, dy)
    c.save(x=x, targets=targets, loss=loss, dy=dy, dx=x.grad)
    c.finish()


def l2_normalize_case():
    eps = 1e-12
    c = Case("l2_normalize", "l2_normalize")
    x0 = randn(5, 8)
    x0[2] = 0.0
    x = leaf(x0)
    y = F.normalize(x, p=2.0, dim=1, eps=eps)
    dy = randn(*y.shape)
    backward(y, dy)
    c.set_meta(eps=eps)
    c.save(x=x, y=y, dy=dy, dx=x.grad)
    c.finish()


def mse_case():
    c = Case("mse", "mse")
    a = leaf(randn(4, 6))
    b = leaf(randn(4, 6))
    loss = F.mse_loss(a, b, reduction="mean").reshape(1)
    dy = torch.ones(1, dtype=F64)
    backward(loss, dy)
    c.save(a=a, b=b, loss=loss, dy=dy, da=a.grad, db=b.grad)
    c.finish()


def relu_case():
    c = Case("relu", "relu")
    x0 = randn(3, 11)
    # Keep every input away from 0, where ReLU's subgradient is ambiguous.
    x0 = exact(torch.where(x0 >= 0, x0 + 0.0625, x0 - 0.0625))
    assert bool((x0.abs() >= 0.0625).all())
    x = leaf(x0)
    y = F.relu(x)
    dy = randn(*y.shape)
    backward(y, dy)
    c.save(x=x, y=y, dy=dy, dx=x.grad)
    c.finish()


# MARK: - main


def main() -> None:
    torch.set_num_threads(1)
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)

    conv2d_case("conv_3x3_s1_p1", (2, 3, 7, 7), (4, 3, 3, 3), stride=1, padding=1, bias=True)
    conv2d_case("conv_3x3_s2_p1", (2, 3, 8, 8), (5, 3, 3, 3), stride=2, padding=1, bias=False)
    conv2d_case("conv_1x1_s1_p0", (1, 4, 5, 6), (3, 4, 1, 1), stride=1, padding=0, bias=True)
    conv2d_case("conv_7x7_s2_p3", (2, 2, 9, 9), (3, 2, 7, 7), stride=2, padding=3, bias=True)
    conv2d_case("conv_1x1_s2_p0", (3, 4, 6, 6), (4, 4, 1, 1), stride=2, padding=0, bias=False)
    conv2d_case("conv_3x3_s1_p0_odd", (2, 3, 5, 7), (2, 3, 3, 3), stride=1, padding=0, bias=True)

    batchnorm_case("bn2d_train", (4, 3, 5, 5), training=True, scale=2.0, shift=0.5)
    batchnorm_case("bn2d_eval", (4, 3, 5, 5), training=False)
    batchnorm_case("bn1d_train", (8, 6), training=True)
    batchnorm_case("bn1d_eval", (8, 6), training=False)

    linear_case()

    maxpool_case("maxpool_k3_s2_p1", (2, 3, 9, 9), kernel=3, stride=2, padding=1)
    maxpool_case("maxpool_k2_s2_p0", (2, 2, 8, 8), kernel=2, stride=2, padding=0)

    avgpool_case()
    log_softmax_case()
    cross_entropy_case()
    l2_normalize_case()
    mse_case()
    relu_case()

    total = sum(p.stat().st_size for p in OUT_DIR.rglob("*") if p.is_file())
    cases = sorted(p.name for p in OUT_DIR.iterdir() if p.is_dir())
    print(f"torch {torch.__version__}, numpy {np.__version__}")
    print(f"wrote {len(cases)} cases to {OUT_DIR} ({total} bytes)")


if __name__ == "__main__":
    main()
