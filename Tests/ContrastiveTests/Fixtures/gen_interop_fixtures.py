"""Checkpoint interoperability fixtures: libcontrastive <-> torchvision / safetensors.

Run from the repository root after `make` (it uses the library through the Python binding):

    /path/to/venv/bin/python Tests/ContrastiveTests/Fixtures/gen_interop_fixtures.py

Needs torch, torchvision, safetensors and numpy. CI never runs it; its outputs are committed:

  resnet_ours/<case>/   a model created by libcontrastive with a fixed seed is saved, loaded
                        into torchvision with `load_state_dict(strict=True)` through the
                        official safetensors library, and run there in eval mode on x:
                        x.npy, y_eval.npy (torchvision's output), meta.txt (arch, stem,
                        in_channels, seed). The Swift tests re-create the model from the seed
                        and must reproduce torchvision's output.
  safetensors-interop/  torch_written.safetensors, written by safetensors.torch.save_file with
                        one tensor per dtype (F32, F64, F16, BF16, I64, I32, U8), and
                        expected_<name>.npy with the float32 values our reader must produce.
"""
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torchvision
from safetensors.torch import load_file, save_file

ROOT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(ROOT, "..", "..", "..", "bindings", "python"))
import contrastive  # noqa: E402


def torchvision_model(arch, stem, in_ch):
    m = getattr(torchvision.models, arch)()
    if stem == "cifar":
        m.conv1 = nn.Conv2d(in_ch, 64, 3, 1, 1, bias=False)
        m.maxpool = nn.Identity()
    elif in_ch != 3:
        m.conv1 = nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
    m.fc = nn.Identity()
    return m


def resnet_ours(out_dir):
    cases = [("resnet18_cifar_seed7", "resnet18", "cifar", 3, 7, (3, 3, 32, 32)),
             ("resnet50_imagenet_seed8", "resnet50", "imagenet", 3, 8, (2, 3, 64, 64)),
             ("resnet18_cifar_1ch_seed9", "resnet18", "cifar", 1, 9, (2, 1, 28, 28))]
    for name, arch, stem, in_ch, seed, xshape in cases:
        d = os.path.join(out_dir, name)
        os.makedirs(d)
        ours = contrastive.Model(arch=arch, stem=stem, in_channels=in_ch, seed=seed)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ours.safetensors")
            ours.save(path)
            state = load_file(path)
        tv = torchvision_model(arch, stem, in_ch)
        tv.load_state_dict(state, strict=True)   # names, shapes and dtypes as torchvision's
        tv = tv.double().eval()
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(*xshape, generator=g).float()
        with torch.no_grad():
            y = tv(x.double()).float()
        np.save(os.path.join(d, "x.npy"), x.numpy().astype("<f4"))
        np.save(os.path.join(d, "y_eval.npy"), y.numpy().astype("<f4"))
        with open(os.path.join(d, "meta.txt"), "w") as f:
            f.write(f"arch={arch}\nstem={stem}\nin_channels={in_ch}\nseed={seed}\n")
        # Our own forward agrees too (a sanity check of this script, not the test itself).
        ours_y = ours.embed(x.numpy())
        err = np.linalg.norm(ours_y - y.numpy()) / np.linalg.norm(y.numpy())
        print(f"{name}: torchvision strict load ok, |y|={np.linalg.norm(y.numpy()):.4f}, ours vs torchvision {err:.2e}")
        assert err < 1e-4, err


def safetensors_interop(out_dir):
    os.makedirs(out_dir)
    g = torch.Generator().manual_seed(3)
    base = torch.randn(2, 3, generator=g) * 4
    tensors = {
        "f32": base.float(),
        "f64": base.double(),
        "f16": base.half(),
        "bf16": base.bfloat16(),
        "i64": torch.tensor([0, -5, 123456789], dtype=torch.int64),
        "i32": torch.tensor([[7, -8]], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 255], dtype=torch.uint8),
        "scalar_i64": torch.tensor(42, dtype=torch.int64),
    }
    save_file(tensors, os.path.join(out_dir, "torch_written.safetensors"), metadata={"written_by": "safetensors.torch"})
    for k, v in tensors.items():
        np.save(os.path.join(out_dir, f"expected_{k}.npy"), v.float().numpy().astype("<f4").reshape(v.shape))
    print("safetensors-interop: wrote", len(tensors), "tensors")


def main():
    for sub in ("resnet_ours", "safetensors-interop"):
        p = os.path.join(ROOT, sub)
        shutil.rmtree(p, ignore_errors=True)
    torch.set_num_threads(1)
    print("torch", torch.__version__, "torchvision", torchvision.__version__, "libcontrastive", contrastive.version())
    resnet_ours(os.path.join(ROOT, "resnet_ours"))
    safetensors_interop(os.path.join(ROOT, "safetensors-interop"))


if __name__ == "__main__":
    main()
