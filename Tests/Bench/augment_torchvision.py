"""torchvision v2 reference for `make bench-augment`: the same two-view SimCLR pipelines as
`contrastive-bench augment`, applied per sample to uint8 CHW tensors (as a Dataset's
__getitem__ would), in this single process with torch's default thread count.

Prints `tv_<size>=<source images/s>` lines. Usage: augment_torchvision.py SIZE:COUNT ...
"""
import sys
import time

import numpy as np
import torch
from torchvision.transforms import v2


def pipeline(size):
    if size <= 32:  # SimCLR CIFAR
        jitter, blur, mean, std = (0.4, 0.4, 0.4, 0.1), None, (0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)
    else:           # SimCLR ImageNet recipe at this size
        jitter, blur, mean, std = (0.8, 0.8, 0.8, 0.2), size // 10 | 1, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    ops = [v2.RandomResizedCrop(size, scale=(0.08, 1.0), antialias=True), v2.RandomHorizontalFlip(),
           v2.RandomApply([v2.ColorJitter(*jitter)], p=0.8), v2.RandomGrayscale(p=0.2)]
    if blur:
        ops.append(v2.RandomApply([v2.GaussianBlur(blur, sigma=(0.1, 2.0))], p=0.5))
    ops += [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    return v2.Compose(ops)


def main():
    torch.manual_seed(0)
    for arg in sys.argv[1:]:
        size, count = (int(v) for v in arg.split(":"))
        rng = np.random.default_rng(0)
        imgs = [torch.from_numpy(rng.integers(0, 256, (3, size, size), dtype=np.uint8)) for _ in range(count)]
        t = pipeline(size)
        for x in imgs[:16]:
            t(x)
        best = 0.0
        default_threads = torch.get_num_threads()
        for threads in (default_threads, 1):
            torch.set_num_threads(threads)
            for _ in range(3):
                start = time.perf_counter()
                for x in imgs:
                    a, b = t(x), t(x)
                best = max(best, count / (time.perf_counter() - start))
        torch.set_num_threads(default_threads)
        print(f"tv_{size}={best:.1f}", flush=True)
    print(f"torch={torch.__version__} threads=best-of-{torch.get_num_threads()}-and-1", flush=True)


if __name__ == "__main__":
    main()
