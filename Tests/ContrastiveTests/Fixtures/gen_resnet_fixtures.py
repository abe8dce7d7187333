#!/usr/bin/env python3
"""Generate torchvision ResNet parity fixtures for the libcontrastive tests.

Run from the repository root:

    /path/to/venv/bin/python Tests/ContrastiveTests/Fixtures/gen_resnet_fixtures.py

Requirements: torch, torchvision and numpy (CPU is enough; no GPU is used).
The committed files were generated with torch 2.15.0, torchvision 0.29.2 and
numpy 2.4.6.

Outputs go to Tests/ContrastiveTests/Fixtures/resnet/, which is deleted and
recreated on every run. Each case gets its own folder resnet/<case>/ with

    x.npy                          input, NCHW
    y_eval.npy                     model.eval() output, (N, feature_dim)
    y_train.npy                    output of a fresh copy of the filled model in
                                   .train() mode on the same x (batch statistics)
    running_mean_after_train.npy   bn1 (stem BN) running_mean after that one
    running_var_after_train.npy    train-mode forward (momentum 0.1, unbiased var)
    keys.txt                       one line per state_dict key, in order:
                                   `<name> <dtype> <comma-separated shape>`
                                   (dtype float32 or int64; the scalar
                                   num_batches_tracked has an empty shape, so its
                                   line ends with "int64 ")
    meta.txt                       arch=resnet18|resnet34|resnet50,
                                   stem=cifar|imagenet, in_channels=N,
                                   feature_dim=512|2048

All arrays are NumPy .npy, '<f4', C order.

Cases:

    resnet18_cifar      resnet18, stem cifar,    in_ch 3, x (4,3,32,32)
    resnet18_imagenet   resnet18, stem imagenet, in_ch 3, x (2,3,64,64)
    resnet18_cifar_1ch  resnet18, stem cifar,    in_ch 1, x (4,1,28,28)
    resnet50_imagenet   resnet50, stem imagenet, in_ch 3, x (2,3,64,64)
    resnet34_cifar      resnet34, stem cifar,    in_ch 3, x (2,3,16,16)

Model edits: start from torchvision.models.resnet18()/resnet34()/resnet50()
(weights=None). Always model.fc = torch.nn.Identity() (the output is the pooled
feature vector: 512 for R18/R34, 2048 for R50). For the "cifar" stem:
model.conv1 = nn.Conv2d(in_ch, 64, kernel_size=3, stride=1, padding=1, bias=False)
and model.maxpool = nn.Identity(). For in_channels != 3 with the imagenet stem:
model.conv1 = nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False).

Weights are NOT saved. Every state_dict tensor is filled from this formula,
which the Swift test re-implements exactly:

  keys = list(model.state_dict().keys())  (torchvision order, after the model edits below)
  for t, name in enumerate(keys):            # t counts every key, including num_batches_tracked
     n = numel; idx = np.arange(n, dtype=np.uint64)
     z = (np.uint64(t) << np.uint64(32)) ^ idx
     z = z + 0x9E3779B97F4A7C15                      (uint64 wrap-around arithmetic)
     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
     z = (z ^ (z >> 27)) * 0x94D049BB133111EB
     z = z ^ (z >> 31)
     u = (z >> 40).astype(np.float64) / 2**24 * 2 - 1      # uniform in [-1, 1), exact in float32
     value by name:
       endswith "num_batches_tracked"  -> leave as is (0)
       endswith ".running_var"          -> 1 + 0.25 * (u + 1)
       endswith ".running_mean"         -> 0.1 * u
       1-D tensor, endswith ".weight"   -> 1 + 0.1 * u
       1-D tensor, endswith ".bias"     -> 0.1 * u
       otherwise (conv/linear weight, ≥2-D) -> u * sqrt(3 / fan_in), fan_in = prod(shape[1:])
     every value is rounded to float32 (np.float32) before loading into the float64 model, so both sides use identical numbers.

Notes on reproducing the formula bit for bit:
  - "the model edits below" are the model edits described above.
  - idx is the flat C-order (row-major) element index into the tensor.
  - All z arithmetic is uint64 with wrap-around (Swift: &+, &*, >>, ^); every
    shift count and constant is a uint64, so numpy never promotes to float.
  - u and the values are evaluated in float64 in exactly the written order:
    (u + 1) * 0.25 then + 1; 0.1 * u then + 1; for weights s = sqrt(3.0 / fan_in)
    (correctly rounded float64 sqrt) then u * s. Only then is the value rounded
    (to nearest, ties to even) to float32.
  - num_batches_tracked (int64) stays 0; it still consumes its t.

Determinism: inputs are torch.randn in float32 after torch.manual_seed(seed)
with seed = CRC32 of the case name (the model is built before seeding, so the
default torchvision init does not affect x), converted to float64; the stored
x is exactly what was computed on. All computation is float64 on the CPU with
one thread; only the results are rounded to float32 when written. Rerunning the
script gives byte-identical files.

Self-check: for every case the script rebuilds and refills the model, reloads
x.npy from disk, recomputes the eval output and asserts it is identical to the
first run (and to y_eval.npy). It also cross-checks the vectorised uint64
formula against a pure-Python integer implementation on sample elements.

CI never runs this script; the generated files are committed.
"""

import copy
import math
import shutil
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torchvision

OUT_DIR = Path(__file__).resolve().parent / "resnet"
F64 = torch.float64

# (case, arch, stem, in_channels, x shape)
CASES = [
    ("resnet18_cifar", "resnet18", "cifar", 3, (4, 3, 32, 32)),
    ("resnet18_imagenet", "resnet18", "imagenet", 3, (2, 3, 64, 64)),
    ("resnet18_cifar_1ch", "resnet18", "cifar", 1, (4, 1, 28, 28)),
    ("resnet50_imagenet", "resnet50", "imagenet", 3, (2, 3, 64, 64)),
    ("resnet34_cifar", "resnet34", "cifar", 3, (2, 3, 16, 16)),
]

FEATURE_DIM = {"resnet18": 512, "resnet34": 512, "resnet50": 2048}

# SplitMix64 constants (uint64).
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX1 = np.uint64(0xBF58476D1CE4E5B9)
MIX2 = np.uint64(0x94D049BB133111EB)
MASK64 = (1 << 64) - 1


# MARK: - model


def build_model(arch: str, stem: str, in_ch: int) -> nn.Module:
    model = getattr(torchvision.models, arch)(weights=None)
    model.fc = nn.Identity()
    if stem == "cifar":
        model.conv1 = nn.Conv2d(in_ch, 64, kernel_size=3, stride=1, padding=1, bias=False)
        model.maxpool = nn.Identity()
    elif stem == "imagenet":
        if in_ch != 3:
            model.conv1 = nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
    else:
        raise ValueError(stem)
    return model.double().cpu()


# MARK: - formula


def uniform_for(t: int, n: int) -> np.ndarray:
    """u in [-1, 1) for state_dict key number t, n elements (float64, float32-exact)."""
    with np.errstate(over="ignore"):
        idx = np.arange(n, dtype=np.uint64)
        z = (np.uint64(t) << np.uint64(32)) ^ idx
        z = z + GOLDEN
        z = (z ^ (z >> np.uint64(30))) * MIX1
        z = (z ^ (z >> np.uint64(27))) * MIX2
        z = z ^ (z >> np.uint64(31))
        assert z.dtype == np.uint64
        u = (z >> np.uint64(40)).astype(np.float64) / 2**24 * 2 - 1
    assert u.dtype == np.float64
    return u


def uniform_reference(t: int, i: int) -> float:
    """The same formula with Python integers (for the self-check)."""
    z = ((t << 32) ^ i) & MASK64
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    z = z ^ (z >> 31)
    return float(z >> 40) / 2**24 * 2 - 1


def value_for(name: str, shape: tuple, u: np.ndarray) -> np.ndarray:
    """Formula values (float64) for one tensor, before the float32 rounding."""
    if name.endswith(".running_var"):
        return 1 + 0.25 * (u + 1)
    if name.endswith(".running_mean"):
        return 0.1 * u
    if len(shape) == 1 and name.endswith(".weight"):
        return 1 + 0.1 * u
    if len(shape) == 1 and name.endswith(".bias"):
        return 0.1 * u
    if len(shape) >= 2:
        fan_in = math.prod(shape[1:])
        return u * math.sqrt(3 / fan_in)
    raise ValueError(f"no formula for {name} {shape}")


def fill(model: nn.Module) -> None:
    """Fill every state_dict tensor from the formula (float32-rounded, loaded into float64)."""
    sd = model.state_dict()
    new = {}
    for t, (name, tensor) in enumerate(sd.items()):
        if name.endswith("num_batches_tracked"):
            assert tensor.dtype == torch.int64 and tensor.numel() == 1 and int(tensor) == 0, name
            new[name] = tensor.clone()
            continue
        assert tensor.dtype == F64, (name, tensor.dtype)
        shape = tuple(tensor.shape)
        u = uniform_for(t, tensor.numel())
        v = value_for(name, shape, u).astype(np.float32).reshape(shape)
        new[name] = torch.from_numpy(v.astype(np.float64))
    model.load_state_dict(new, strict=True)


def check_formula(model: nn.Module) -> None:
    """Cross-check the vectorised uint64 arithmetic against Python integers."""
    for t, (name, tensor) in enumerate(model.state_dict().items()):
        n = tensor.numel()
        samples = sorted({0, min(1, n - 1), n // 2, n - 1})
        u = uniform_for(t, n)
        for i in samples:
            assert u[i] == uniform_reference(t, i), (name, i)
            assert float(np.float32(u[i])) == u[i], (name, i)
            assert -1 <= u[i] < 1


# MARK: - io


def to_numpy(t: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))


def save(case_dir: Path, **arrays: torch.Tensor) -> None:
    for key, value in arrays.items():
        np.save(case_dir / f"{key}.npy", to_numpy(value))


def keys_text(model: nn.Module) -> str:
    lines = []
    for name, tensor in model.state_dict().items():
        if tensor.dtype == torch.int64:
            dtype = "int64"
        elif tensor.dtype.is_floating_point:
            dtype = "float32"  # stored/filled as float32 values (computed in float64)
        else:
            raise ValueError(f"unexpected dtype {tensor.dtype} for {name}")
        shape = ",".join(str(s) for s in tensor.shape)
        lines.append(f"{name} {dtype} {shape}")
    return "\n".join(lines) + "\n"


# MARK: - cases


def run_case(case: str, arch: str, stem: str, in_ch: int, x_shape: tuple) -> None:
    case_dir = OUT_DIR / case
    case_dir.mkdir(parents=True)

    model = build_model(arch, stem, in_ch)
    check_formula(model)
    fill(model)
    train_model = copy.deepcopy(model)  # fresh copy of the filled model, before any forward

    torch.manual_seed(zlib.crc32(case.encode("utf-8")))
    x = torch.randn(*x_shape, dtype=torch.float32).to(F64)

    with torch.no_grad():
        model.eval()
        y_eval = model(x)
        train_model.train()
        y_train = train_model(x)

    feature_dim = FEATURE_DIM[arch]
    assert y_eval.shape == (x_shape[0], feature_dim), y_eval.shape
    assert y_train.shape == (x_shape[0], feature_dim), y_train.shape
    assert int(train_model.bn1.num_batches_tracked) == 1
    assert train_model.bn1.momentum == 0.1

    # The stem BN statistics match the documented update rule.
    with torch.no_grad():
        stem_out = train_model.conv1(x)
        mean = stem_out.mean(dim=(0, 2, 3))
        var = stem_out.var(dim=(0, 2, 3), unbiased=True)
        rm0, rv0 = model.bn1.running_mean, model.bn1.running_var
        assert torch.allclose(train_model.bn1.running_mean, 0.9 * rm0 + 0.1 * mean, rtol=1e-12, atol=1e-14)
        assert torch.allclose(train_model.bn1.running_var, 0.9 * rv0 + 0.1 * var, rtol=1e-12, atol=1e-14)

    save(
        case_dir,
        x=x,
        y_eval=y_eval,
        y_train=y_train,
        running_mean_after_train=train_model.bn1.running_mean,
        running_var_after_train=train_model.bn1.running_var,
    )
    (case_dir / "keys.txt").write_text(keys_text(model))
    (case_dir / "meta.txt").write_text(
        f"arch={arch}\nstem={stem}\nin_channels={in_ch}\nfeature_dim={feature_dim}\n"
    )

    # Self-check: rebuild, refill, reload x from disk, recompute the eval output.
    x_disk = torch.from_numpy(np.load(case_dir / "x.npy").astype(np.float64))
    assert torch.equal(x_disk, x)
    model2 = build_model(arch, stem, in_ch)
    fill(model2)
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), model2.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2), k1
    with torch.no_grad():
        model2.eval()
        y_eval2 = model2(x_disk)
    assert torch.equal(y_eval2, y_eval), f"{case}: eval output not reproducible"
    assert np.array_equal(to_numpy(y_eval2), np.load(case_dir / "y_eval.npy"))

    # Informational: how far a float32 torch forward lands from the float64 reference.
    m32 = copy.deepcopy(model).float().eval()
    with torch.no_grad():
        y32 = m32(x.float()).double()
    rel32 = float((y32 - y_eval).norm() / y_eval.norm())

    print(
        f"{case:20s} y_eval {tuple(y_eval.shape)} |y_eval|={y_eval.norm().item():.6f}  "
        f"y_train {tuple(y_train.shape)} |y_train|={y_train.norm().item():.6f}  "
        f"keys={len(model.state_dict())}  float32-torch rel err={rel32:.2e}"
    )


# MARK: - main


def main() -> None:
    torch.set_num_threads(1)
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)

    for case in CASES:
        run_case(*case)

    total = sum(p.stat().st_size for p in OUT_DIR.rglob("*") if p.is_file())
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, numpy {np.__version__}")
    print(f"wrote {len(CASES)} cases to {OUT_DIR} ({total} bytes)")


if __name__ == "__main__":
    main()
