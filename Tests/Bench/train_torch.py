"""PyTorch peer for `contrastive-bench train` — one SimCLR training step measured on this
machine in the same run: two views through encoder + projector, NT-Xent (T 0.2) over the 2N
rows, backward, an SGD-momentum update (LARS' extra per-tensor norms are negligible here).

    python train_torch.py --model resnet18|convnet --threads 2 --reps 3 [--augment]

Prints key=value lines: per layout (nchw, channels_last) the seconds per step with the views
given, and with --augment also torchvision v2 SimCLR augmentation of the 256 source images
(uint8, in this process, as a single-process loader would), plus peak RSS growth of a step.
"""
import argparse
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.transforms import v2


def resnet18_cifar():
    m = torchvision.models.resnet18()
    m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    m.fc = nn.Identity()
    return m, 512


def convnet(channels=(32, 64, 128, 256)):
    layers, cin = [], 3
    for i, c in enumerate(channels):
        layers += [nn.Conv2d(cin, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        if i < len(channels) - 1:
            layers.append(nn.MaxPool2d(2))
        cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers), channels[-1]


def ntxent(z1, z2, t=0.2):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    s = z @ z.t() / t
    s.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(s, target)


def median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["resnet18", "convnet"], default="resnet18")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--augment", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"torch_version={torch.__version__}", flush=True)
    n = a.batch
    x1, x2 = torch.randn(n, 3, 32, 32), torch.randn(n, 3, 32, 32)
    best = None
    for layout in ("nchw", "channels_last"):
        enc, d = (resnet18_cifar if a.model == "resnet18" else convnet)()
        model = nn.Sequential(enc, nn.Linear(d, 2048), nn.ReLU(inplace=True), nn.Linear(2048, 128)).train()
        v1, v2_ = x1, x2
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last)
            v1, v2_ = x1.contiguous(memory_format=torch.channels_last), x2.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-5)

        def step():
            opt.zero_grad(set_to_none=False)
            loss = ntxent(model(v1), model(v2_))
            loss.backward()
            opt.step()

        t = median_time(step, a.reps)
        if layout == "nchw":   # peak RSS growth over the process's state after `import torch`
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            print(f"torch_train_{a.model}_peak_growth_mb={(after - baseline) / 1024:.1f}", flush=True)
        print(f"torch_train_{a.model}_{layout}_s_per_step={t:.4f}", flush=True)
        best = t if best is None else min(best, t)
    print(f"torch_train_{a.model}_best_s_per_step={best:.4f}", flush=True)
    if a.augment:
        aug = v2.Compose([
            v2.RandomResizedCrop(32, scale=(0.08, 1.0), antialias=True), v2.RandomHorizontalFlip(),
            v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), v2.RandomGrayscale(p=0.2),
            v2.ToDtype(torch.float32, scale=True), v2.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])
        imgs = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8)

        def augment():
            torch.stack([aug(im) for im in imgs]), torch.stack([aug(im) for im in imgs])

        print(f"torch_augment_s_per_batch={median_time(augment, a.reps):.4f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
