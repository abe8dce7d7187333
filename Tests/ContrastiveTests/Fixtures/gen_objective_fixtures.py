#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for the objective (loss) tests.

Run from the repository root:

    /work/torchvenv/bin/python Tests/ContrastiveTests/Fixtures/gen_objective_fixtures.py

Requirements: torch and numpy (CPU). CI never runs this script; the outputs are committed.

Outputs go to Tests/ContrastiveTests/Fixtures/objectives/ (deleted and recreated):

    objectives/<case>/meta.txt   key=value lines: op=<name> and its parameters
    objectives/<case>/<x>.npy    inputs (float '<f4', labels '<i4'), `loss` (1,), and the
                                 autograd gradients d<x> of the loss for every input that
                                 takes one

The losses are written the way solo-learn writes them (simclr_loss_func, dcl, supcon,
mocov2plus_loss_func, byol_loss_func, simsiam_loss_func, barlow_loss_func, vicreg_loss_func,
swav_loss_func + SinkhornKnopp, nnclr_loss_func), with the full similarity matrices — an
independent formulation of what the engine computes block-wise. Inputs are drawn in float32
and computed on in float64; only results are rounded to float32. Each case seeds torch with
CRC32 of its name, so reruns give byte-identical files.
"""

import shutil
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

OUT = Path(__file__).resolve().parent / "objectives"
F64 = torch.float64


def seed(case):
    torch.manual_seed(zlib.crc32(case.encode()))


def randn(*shape, scale=1.0):
    return (torch.randn(*shape, dtype=torch.float32) * scale).to(torch.float32).to(F64)


def save(case, meta, arrays):
    d = OUT / case
    d.mkdir(parents=True)
    with open(d / "meta.txt", "w") as f:
        for k, v in meta.items():
            f.write(f"{k}={v}\n")
    for name, a in arrays.items():
        a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
        a = a.astype("<i4") if a.dtype.kind in "iu" else a.astype("<f4")
        np.save(d / f"{name}.npy", np.ascontiguousarray(a))


def run(case, meta, inputs, fn, extra=None):
    """inputs: name -> float64 tensor that takes a gradient; fn(**inputs) -> scalar loss."""
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    loss = fn(**leaves)
    loss.backward()
    arrays = {k: v for k, v in inputs.items()}
    arrays["loss"] = loss.detach().reshape(1)
    for k, v in leaves.items():
        if v.grad is not None:
            arrays["d" + k] = v.grad
    arrays.update(extra or {})
    save(case, meta, arrays)


# MARK: - losses (solo-learn formulations)


def ntxent(z1, z2, tau, queue=None, euclid=False, decoupled=False):
    z = torch.cat([z1, z2])
    n2 = z.shape[0]
    n = n2 // 2
    cols = z if queue is None else torch.cat([z, queue])
    if euclid:
        sim = -torch.cdist(z, cols).pow(2) / tau
    else:
        zn = F.normalize(z, dim=1)
        cn = F.normalize(cols, dim=1)
        sim = zn @ cn.T / tau
    idx = torch.arange(n2)
    pos_idx = (idx + n) % n2
    pos = sim[idx, pos_idx]
    mask = torch.ones_like(sim, dtype=torch.bool)
    mask[idx, idx] = False
    if decoupled:
        mask[idx, pos_idx] = False
    den = torch.logsumexp(sim.masked_fill(~mask, float("-inf")), dim=1)
    return (den - pos).mean()


def supcon(z, labels, tau):
    zn = F.normalize(z, dim=1)
    sim = zn @ zn.T / tau
    m = z.shape[0]
    self_mask = torch.eye(m, dtype=torch.bool)
    pos_mask = (labels[:, None] == labels[None, :]) & ~self_mask
    log_prob = sim - torch.logsumexp(sim.masked_fill(self_mask, float("-inf")), dim=1, keepdim=True)
    counts = pos_mask.sum(1)
    keep = counts > 0
    mean_log_prob_pos = (log_prob * pos_mask).sum(1)[keep] / counts[keep]
    return -mean_log_prob_pos.mean()


def moco(q, k, queue, tau):
    q = F.normalize(q, dim=1)
    k = F.normalize(k, dim=1)
    pos = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1)
    neg = torch.einsum("nc,kc->nk", [q, queue])
    logits = torch.cat([pos, neg], dim=1) / tau
    return F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))


def byol(p, z):
    return 2 - 2 * (F.normalize(p, dim=-1) * F.normalize(z, dim=-1)).sum(dim=1).mean()


def simsiam(p, z):
    return -F.cosine_similarity(p, z.detach(), dim=-1).mean()


def barlow(z1, z2, lamb=5e-3, scale=0.025):
    n, d = z1.shape
    bn = torch.nn.BatchNorm1d(d, affine=False).to(F64)
    z1 = bn(z1)
    z2 = bn(z2)
    corr = torch.einsum("bi,bj->ij", z1, z2) / n
    diag = torch.eye(d, dtype=torch.bool)
    cdif = (corr - torch.eye(d, dtype=F64)).pow(2)
    cdif[~diag] *= lamb
    return scale * cdif.sum()


def vicreg(z1, z2, sim_w=25.0, var_w=25.0, cov_w=1.0):
    inv = F.mse_loss(z1, z2)
    eps = 1e-4
    std1 = torch.sqrt(z1.var(dim=0) + eps)
    std2 = torch.sqrt(z2.var(dim=0) + eps)
    var = torch.mean(F.relu(1 - std1)) / 2 + torch.mean(F.relu(1 - std2)) / 2
    n, d = z1.shape
    c1 = z1 - z1.mean(0)
    c2 = z2 - z2.mean(0)
    cov1 = (c1.T @ c1) / (n - 1)
    cov2 = (c2.T @ c2) / (n - 1)
    off = ~torch.eye(d, dtype=torch.bool)
    cov = cov1[off].pow(2).sum() / d + cov2[off].pow(2).sum() / d
    return sim_w * inv + var_w * var + cov_w * cov


@torch.no_grad()
def sinkhorn(scores, eps=0.05, iters=3):
    q = torch.exp(scores / eps).t()
    b = q.shape[1]
    k = q.shape[0]
    q /= q.sum()
    for _ in range(iters):
        q /= q.sum(dim=1, keepdim=True)
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= b
    q *= b
    return q.t()


def swav(preds, assignments, tau=0.1):
    losses = []
    for v1, a in enumerate(assignments):
        for v2 in np.delete(np.arange(len(preds)), v1):
            p = preds[v2] / tau
            losses.append(-torch.mean(torch.sum(a * torch.log_softmax(p, dim=1), dim=1)))
    return sum(losses) / len(losses)


def nnclr(nn, p, tau):
    nn = F.normalize(nn, dim=-1)
    p = F.normalize(p, dim=-1)
    logits = nn @ p.T / tau
    return F.cross_entropy(logits, torch.arange(nn.shape[0]))


# MARK: - cases


def main():
    torch.set_num_threads(1)
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()

    for case, n, d, tau, k, euclid, dec in [
        ("ntxent_cosine", 8, 16, 0.5, 0, 0, 0),
        ("ntxent_tau0.1", 16, 8, 0.1, 0, 0, 0),
        ("ntxent_queue", 6, 8, 0.2, 10, 0, 0),
        ("ntxent_dcl", 8, 16, 0.5, 0, 0, 1),
        ("ntxent_euclidean", 6, 4, 2.0, 0, 1, 0),
    ]:
        seed(case)
        z1, z2 = randn(n, d), randn(n, d)
        queue = F.normalize(randn(k, d), dim=1).float().double() if k else None
        extra = {"queue": queue} if k else {}
        scale = 0.5 if euclid else 1.0
        z1, z2 = (z1 * scale).float().double(), (z2 * scale).float().double()
        run(case, {"op": "ntxent", "temperature": tau, "euclidean": euclid, "decoupled": dec},
            {"z1": z1, "z2": z2}, lambda z1, z2: ntxent(z1, z2, tau, queue, bool(euclid), bool(dec)), extra)

    seed("supcon")
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 3, 1, 4])   # label 4 is a singleton: not an anchor
    run("supcon", {"op": "supcon", "temperature": 0.1}, {"z": randn(10, 8)},
        lambda z: supcon(z, labels, 0.1), {"labels": labels})

    seed("moco")
    queue = F.normalize(randn(20, 8), dim=1).float().double()
    run("moco", {"op": "moco", "temperature": 0.2}, {"q": randn(6, 8), "k": randn(6, 8)},
        lambda q, k: moco(q, k, queue, 0.2), {"queue": queue})

    seed("byol")
    run("byol", {"op": "byol"}, {"p": randn(6, 10), "z": randn(6, 10)}, byol)
    seed("simsiam")
    run("simsiam", {"op": "simsiam"}, {"p": randn(6, 10), "z": randn(6, 10)}, simsiam)
    seed("barlow")
    run("barlow", {"op": "barlow", "lambda": 5e-3, "scale": 0.025}, {"z1": randn(8, 6), "z2": randn(8, 6)}, barlow)
    seed("vicreg")
    cols = torch.tensor([0.4, 2.5, 0.5, 3.0, 0.3, 1.8], dtype=F64)
    run("vicreg", {"op": "vicreg"}, {"z1": (randn(8, 6) * cols).float().double(), "z2": (randn(8, 6) * cols).float().double()}, vicreg)

    seed("sinkhorn")
    scores = F.normalize(randn(32, 8), dim=1) @ F.normalize(randn(12, 8), dim=1).T
    scores = scores.float().double()
    save("sinkhorn", {"op": "sinkhorn", "epsilon": 0.05, "iterations": 3}, {"scores": scores, "codes": sinkhorn(scores)})

    seed("swav")
    b, kp = 6, 5
    preds = [(F.normalize(randn(b, 8), dim=1) @ F.normalize(randn(kp, 8), dim=1).T).float().double() for _ in range(4)]
    codes = [sinkhorn(preds[i]).float().double() for i in range(2)]
    run("swav", {"op": "swav", "temperature": 0.1, "crops": 4, "global": 2},
        {f"p{i}": p for i, p in enumerate(preds)}, lambda p0, p1, p2, p3: swav([p0, p1, p2, p3], codes, 0.1),
        {"q0": codes[0], "q1": codes[1]})

    seed("nnclr")
    nn = F.normalize(randn(6, 8), dim=1).float().double()
    run("nnclr", {"op": "nnclr", "temperature": 0.2}, {"p": randn(6, 8)}, lambda p: nnclr(nn, p, 0.2), {"nn": nn})

    with open(OUT / "VERSIONS.txt", "w") as f:
        f.write(f"torch {torch.__version__}\nnumpy {np.__version__}\n")


if __name__ == "__main__":
    main()
