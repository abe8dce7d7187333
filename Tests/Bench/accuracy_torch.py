"""PyTorch peer of `make bench-accuracy`: the same recipe as `contrastive train` on
Fashion-MNIST — ConvNet 32-64-128-256 (3x3 conv-BN-ReLU, max-pool between stages, global
pool), the method's projection head, LARS (eta 0.02, clipping, biases and BN excluded) at
lr x batch/256 with linear warm-up (min(10, epochs/10) epochs) then cosine, the method's
hyperparameters (solo-learn's CIFAR recipes) — written here from the papers' definitions.

The augmented views come from libcontrastive's augmenter (the same pipeline, seed and keys as
our trainer), so both sides learn from identical pixels and the comparison isolates the
training itself (torch's own per-image torchvision loop costs ~10 s per 256-image batch on
this box). Evaluation uses the same protocol functions (contrastive.evaluate: L-BFGS linear
probe on standardised features, weighted kNN k=200, T=0.1).

    python accuracy_torch.py --method simclr --epochs 3 [--limit N] [--threads 2]
prints key=value lines (linear_top1, knn_top1, seconds_per_epoch, ...).
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings", "python"))
import contrastive  # noqa: E402
import contrastive.datasets as cds  # noqa: E402
import contrastive.evaluate as cev  # noqa: E402

FMNIST = "/usr/share/datasets/fashion-mnist"


def convnet(cin=1, channels=(32, 64, 128, 256)):
    layers = []
    for i, c in enumerate(channels):
        layers += [nn.Conv2d(cin, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        if i < len(channels) - 1:
            layers.append(nn.MaxPool2d(2))
        cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def mlp(din, hidden, dout, bn):
    return nn.Sequential(nn.Linear(din, hidden), *( [nn.BatchNorm1d(hidden)] if bn else []), nn.ReLU(inplace=True), nn.Linear(hidden, dout))


class LARS(torch.optim.Optimizer):
    """SGD momentum with the layer-wise trust ratio eta*|p|/(|g| + wd*|p|), clipped at lr;
    1-D tensors (biases, BN) get neither weight decay nor adaptation."""

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0, eta=0.02, eps=1e-8):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta, eps=eps))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if p.ndim > 1:
                    pn, gn = torch.norm(p), torch.norm(d)
                    if pn > 0 and gn > 0:
                        f = g["eta"] * pn / (gn + pn * g["weight_decay"] + g["eps"])
                        f = torch.clamp(f / g["lr"], max=1.0)
                        d = (d + g["weight_decay"] * p) * f
                buf = self.state[p].get("m")
                buf = d.clone() if buf is None else buf.mul_(g["momentum"]).add_(d)
                self.state[p]["m"] = buf
                p.add_(buf, alpha=-g["lr"])


def ntxent(z1, z2, t):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z1.shape[0]
    s = z @ z.t() / t
    s.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(s, target)


@torch.no_grad()
def sinkhorn(scores, eps=0.05, iters=3):
    q = torch.exp(scores / eps).t()
    q /= q.sum()
    k, b = q.shape
    for _ in range(iters):
        q /= q.sum(dim=1, keepdim=True); q /= k
        q /= q.sum(dim=0, keepdim=True); q /= b
    return (q * b).t()


def cosine_tau(base, final, step, total):
    return final - (final - base) * (math.cos(math.pi * min(step, total) / total) + 1) / 2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=["simclr", "mocov2", "byol", "swav"], default="simclr")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    contrastive.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    train = cds.load_idx(f"{FMNIST}/train-images-idx3-ubyte.gz", f"{FMNIST}/train-labels-idx1-ubyte.gz")
    test = cds.load_idx(f"{FMNIST}/t10k-images-idx3-ubyte.gz", f"{FMNIST}/t10k-labels-idx1-ubyte.gz")
    if a.limit:
        train = train.slice(0, a.limit)
    images, labels = train.images, train.labels
    sample = images[:4096].astype(np.float64) / 255           # the trainer's normalisation rule
    mean, std = float(sample.mean()), float(max(sample.std(), 1e-3))
    preset = {"simclr": "simclr-cifar", "mocov2": "mocov2", "byol": "byol", "swav": "swav-cifar"}[a.method]
    aug = contrastive.Augmenter(preset, size=28, mean=(mean,), std=(std,))
    evalaug = contrastive.Augmenter(description=f"normalize mean={mean} std={std}\nview: resize size=28x28")

    m = a.method
    recipe = {"simclr": (0.4, 1e-5), "mocov2": (0.3, 1e-4), "byol": (1.0, 1e-5), "swav": (0.6, 1e-6)}[m]
    head = {"simclr": (2048, 256, False), "mocov2": (2048, 256, False), "byol": (4096, 256, True), "swav": (2048, 128, True)}[m]
    enc = convnet()
    proj = mlp(256, head[0], head[1], head[2])
    online = nn.Sequential(enc, proj)
    params = list(online.parameters())
    pred = target = protos = None
    if m == "byol":
        pred = mlp(256, 4096, 256, True)
        params += list(pred.parameters())
    if m in ("byol", "mocov2"):
        target = nn.Sequential(convnet(), mlp(256, head[0], head[1], head[2]))
        target.load_state_dict(online.state_dict())
        for p in target.parameters():
            p.requires_grad_(False)
    if m == "mocov2":
        queues = [F.normalize(torch.randn(32768, 256), dim=1) for _ in range(2)]
        qptr = [0, 0]
    if m == "swav":
        protos = nn.Linear(128, 3000, bias=False)
        params += list(protos.parameters())

    steps_per_epoch = len(images) // a.batch
    total = steps_per_epoch * a.epochs
    warm = round(min(10, a.epochs / 10) * steps_per_epoch)
    base_lr = recipe[0] * a.batch / 256
    opt = (LARS if m != "mocov2" else torch.optim.SGD)(params, lr=base_lr, momentum=0.9, weight_decay=recipe[1])
    freeze = round(min(2, a.epochs / 10) * steps_per_epoch)
    step, epoch_times, losses = 0, [], []
    for epoch in range(a.epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([a.seed, epoch])
        order = rng.permutation(len(images))
        for s in range(steps_per_epoch):
            rows = order[s * a.batch:(s + 1) * a.batch]
            views = [torch.from_numpy(v) for v in aug.apply(images[rows], seed=a.seed, epoch=epoch, indices=rows)]
            lr = base_lr * step / max(warm, 1) if step < warm else base_lr * 0.5 * (1 + math.cos(math.pi * (step - warm) / max(total - warm, 1)))
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=False)
            online.train()
            if m == "simclr":
                loss = ntxent(online(views[0]), online(views[1]), 0.2)
            elif m == "mocov2":
                q = [F.normalize(online(v), dim=1) for v in views[:2]]
                with torch.no_grad():
                    k = [F.normalize(target(v), dim=1) for v in views[:2]]
                loss = 0
                for i in range(2):   # query of view i against the key of the other view and its queue
                    j = 1 - i
                    pos = (q[i] * k[j]).sum(1, keepdim=True)
                    neg = q[i] @ queues[j].t()
                    logits = torch.cat([pos, neg], 1) / 0.2
                    loss = loss + F.cross_entropy(logits, torch.zeros(len(rows), dtype=torch.long)) / 2
            elif m == "byol":
                p = [pred(online(v)) for v in views[:2]]
                with torch.no_grad():
                    z = [target(v) for v in views[:2]]
                loss = sum(2 - 2 * F.cosine_similarity(p[i], z[1 - i], dim=1).mean() for i in range(2))
            else:   # swav: 2 global crops + local crops
                with torch.no_grad():
                    protos.weight.copy_(F.normalize(protos.weight, dim=1))
                z = [F.normalize(proj(enc(v)), dim=1) for v in views]
                scores = [protos(x) for x in z]
                loss = 0
                for i in range(2):
                    qi = sinkhorn(scores[i].detach())
                    for v in range(len(views)):
                        if v != i:
                            loss = loss - (qi * F.log_softmax(scores[v] / 0.1, dim=1)).sum(1).mean() / (len(views) - 1)
                loss = loss / 2
            loss.backward()
            if m == "swav" and step < freeze:
                protos.weight.grad = None
            opt.step()
            if target is not None:
                tau = cosine_tau(0.99, 1.0 if m == "byol" else 0.999, step, total)
                with torch.no_grad():
                    for pt, po in zip(target.parameters(), online.parameters()):
                        pt.mul_(tau).add_(po, alpha=1 - tau)
                    for bt, bo in zip(target.buffers(), online.buffers()):
                        bt.copy_(bo)
            if m == "mocov2":
                for i in range(2):
                    kk = k[i]
                    n = kk.shape[0]
                    idx = (torch.arange(n) + qptr[i]) % queues[i].shape[0]
                    queues[i][idx] = kk
                    qptr[i] = (qptr[i] + n) % queues[i].shape[0]
            losses.append(float(loss))
            step += 1
        epoch_times.append(time.perf_counter() - t0)
        print(f"epoch={epoch + 1} loss={np.mean(losses[-steps_per_epoch:]):.4f} seconds={epoch_times[-1]:.1f}", flush=True)

    enc.eval()

    def feats(ds):
        out = []
        with torch.no_grad():
            for s in range(0, len(ds), 512):
                x = torch.from_numpy(evalaug.apply(ds.images[s:s + 512])[0])
                out.append(enc(x).numpy())
        return np.concatenate(out)

    ft, fs = feats(train), feats(test)
    lin = cev.linear_probe(ft, train.labels, fs, test.labels, max_iterations=300, l2=1e-4)
    knn = cev.knn(ft, train.labels, fs, test.labels, k=200, temperature=0.1)
    print(f"torch_version={torch.__version__}")
    print(f"seconds_per_epoch={np.median(epoch_times):.2f}")
    print(f"linear_top1={lin.top1:.4f}")
    print(f"knn_top1={knn.top1:.4f}")


if __name__ == "__main__":
    sys.exit(main())
