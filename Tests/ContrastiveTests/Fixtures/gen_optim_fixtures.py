"""Optimizer trajectories from PyTorch, for Tests/ContrastiveTests/OptimTests.swift.

    /path/to/venv/bin/python Tests/ContrastiveTests/Fixtures/gen_optim_fixtures.py

Three parameters — a weight (4, 3), a bias (4) and a batch-norm scale (4) — take 4 steps with
fixed random gradients, learning rates from a warm-up cosine schedule, through
torch.optim.SGD, torch.optim.AdamW, and LARS as solo-learn defines it (solo/utils/lars.py,
written out below in torch). Everything in float64. Outputs under Fixtures/optim/<case>/:
p0_<name>.npy, grad<k>_<name>.npy, p<k+1>_<name>.npy for k = 0..3, lr.npy, meta.txt.
CI never runs this script.
"""
import math
import os
import shutil

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim")
NAMES = ["weight", "bias", "bn_weight"]
SHAPES = [(4, 3), (4,), (4,)]
STEPS = 4


def lrs(base=0.5, warm=2, total=4):
    out = []
    for t in range(STEPS):
        if t < warm:
            out.append(base * t / warm)
        else:
            p = min((t - warm) / max(total - warm, 1), 1)
            out.append(0.5 * base * (1 + math.cos(math.pi * p)))
    return out


def lars_step(params, state, lr, momentum, wd, eta, eps, clip, exclude):
    for i, p in enumerate(params):
        d = p.grad.clone()
        pn, gn = torch.norm(p), torch.norm(p.grad)
        if p.ndim != 1 or not exclude:
            if pn != 0 and gn != 0:
                f = eta * pn / (gn + pn * wd + eps)
                if clip:
                    f = min(f / lr, 1)
                d = (d + wd * p) * f
        if momentum != 0:
            if i not in state:
                state[i] = d.clone()
            else:
                state[i].mul_(momentum).add_(d)
            d = state[i]
        p.data.add_(d, alpha=-lr)


def run(case, make, lars=None):
    d = os.path.join(ROOT, case)
    os.makedirs(d)
    g = torch.Generator().manual_seed(abs(hash(case)) % 1000 if False else 7)
    params = [torch.nn.Parameter(torch.randn(*s, generator=g).float().double()) for s in SHAPES]
    for n, p in zip(NAMES, params):
        np.save(os.path.join(d, f"p0_{n}.npy"), p.detach().numpy().astype("<f4"))
    opt = make(params) if make else None
    state = {}
    rates = lrs()
    for k in range(STEPS):
        for n, p in zip(NAMES, params):
            p.grad = torch.randn(*p.shape, generator=g).float().double()
            np.save(os.path.join(d, f"grad{k}_{n}.npy"), p.grad.numpy().astype("<f4"))
        with torch.no_grad():
            if opt:
                for grp in opt.param_groups:
                    grp["lr"] = rates[k]
                opt.step()
            else:
                lars_step(params, state, rates[k], **lars)
        for n, p in zip(NAMES, params):
            np.save(os.path.join(d, f"p{k + 1}_{n}.npy"), p.detach().numpy().astype("<f4"))
    np.save(os.path.join(d, "lr.npy"), np.array(rates, dtype="<f4"))


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    torch.set_num_threads(1)
    # SGD: weight decay on every tensor, momentum, then Nesterov.
    run("sgd_momentum_wd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-2))
    run("sgd_nesterov", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3))
    # SGD with biases and BN excluded from weight decay (two parameter groups, as solo-learn).
    run("sgd_exclude_bias_bn", lambda ps: torch.optim.SGD([{"params": ps[:1], "weight_decay": 0.05},
                                                          {"params": ps[1:], "weight_decay": 0.0}], lr=0.1, momentum=0.9))
    run("adamw", lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.05))
    run("lars", None, dict(momentum=0.9, wd=1e-4, eta=0.02, eps=1e-8, clip=False, exclude=True))
    run("lars_clip", None, dict(momentum=0.9, wd=1e-2, eta=0.02, eps=1e-8, clip=True, exclude=True))
    print("optimizer fixtures written to", ROOT)


if __name__ == "__main__":
    main()
