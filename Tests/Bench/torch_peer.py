"""PyTorch peer for `contrastive-bench` — the same workloads, measured on this machine in the
same run as ours. Prints `key=value` lines that the Swift benchmark reads.

    python torch_peer.py embed    --threads 2 --reps 5   # ResNet-18 (cifar stem) inference, batch 256
    python torch_peer.py fwdbwd   --threads 2 --reps 3   # fwd+bwd s/image, ResNet-18, ConvNet (32×32×3, 28×28×1)
    python torch_peer.py memory   --threads 2            # peak RSS growth of one batch-256 R18 fwd+bwd

Needs torch and torchvision (the Makefile installs them into build/bench-venv when missing).
"""
import argparse
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torchvision


def resnet18_cifar():
    m = torchvision.models.resnet18()
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    m.fc = nn.Identity()
    return m


def convnet(channels=(32, 64, 128, 256), cin=3):
    layers = []
    for i, c in enumerate(channels):
        layers += [nn.Conv2d(cin, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        if i < len(channels) - 1:
            layers.append(nn.MaxPool2d(2))
        cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def bench_embed(reps):
    x = torch.randn(256, 3, 32, 32)
    for layout in ("nchw", "channels_last"):
        m = resnet18_cifar().eval()
        xi = x
        if layout == "channels_last":
            m = m.to(memory_format=torch.channels_last)
            xi = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            t = median_time(lambda: m(xi), reps)
        print(f"torch_embed_{layout}_img_s={256 / t:.2f}", flush=True)


def bench_fwdbwd(reps):
    for name, make, batch, shape in (("resnet18", resnet18_cifar, 256, (3, 32, 32)), ("convnet", convnet, 256, (3, 32, 32)),
                                     ("convnet28", lambda: convnet(cin=1), 256, (1, 28, 28))):
        best = None
        for layout in ("nchw", "channels_last"):
            m = make().train()
            x = torch.randn(batch, *shape)
            if layout == "channels_last":
                m = m.to(memory_format=torch.channels_last)
                x = x.contiguous(memory_format=torch.channels_last)

            def step():
                m.zero_grad(set_to_none=False)
                m(x).square().mean().backward()

            t = median_time(step, reps) / batch
            print(f"torch_fwdbwd_{name}_{layout}_s_per_img={t:.6f}", flush=True)
            best = t if best is None else min(best, t)
        print(f"torch_fwdbwd_{name}_best_s_per_img={best:.6f}", flush=True)


def bench_memory():
    m = resnet18_cifar().train()
    x = torch.randn(256, 3, 32, 32)
    # Warm up allocator-independent state on a tiny batch, then measure one full step.
    m(torch.randn(2, 3, 32, 32)).sum().backward()
    m.zero_grad(set_to_none=False)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    m(x).square().mean().backward()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"torch_memory_rss_before_mb={before / 1024:.1f}", flush=True)
    print(f"torch_memory_peak_growth_mb={(after - before) / 1024:.1f}", flush=True)
    for _ in range(4):
        m.zero_grad(set_to_none=False)
        m(x).square().mean().backward()
    settled = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"torch_memory_peak_growth_settled_mb={(settled - before) / 1024:.1f}", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["embed", "fwdbwd", "memory"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"torch_version={torch.__version__}", flush=True)
    {"embed": lambda: bench_embed(a.reps), "fwdbwd": lambda: bench_fwdbwd(a.reps), "memory": bench_memory}[a.what]()


if __name__ == "__main__":
    sys.exit(main())
