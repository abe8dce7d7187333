"""PyTorch peer for `contrastive-bench loss` — NT-Xent forward+backward and Sinkhorn-Knopp,
written the straightforward way (as solo-learn does), measured on this machine in the same run
as ours. Prints `key=value` lines that the Swift benchmark reads. Each invocation measures one
size in a fresh process, so the peak-RSS growth belongs to that size alone.

    python loss_torch.py ntxent   --n 4096 --d 128 --threads 2 --reps 5
    python loss_torch.py sinkhorn --b 4096 --k 3000 --threads 2 --reps 5

Needs torch (the Makefile's bench-python step installs it into build/bench-venv when missing).
"""
import argparse
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median_time(fn, reps):
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def ntxent(z1, z2, tau):
    """solo-learn's simclr loss with the mask as -inf logits + cross-entropy: normalise, the
    (2N)² similarity matrix, the diagonal masked, the other view as target."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n2 = z.shape[0]
    sim = z @ z.T / tau
    sim = sim.masked_fill(torch.eye(n2, dtype=torch.bool), float("-inf"))
    targets = (torch.arange(n2) + n2 // 2) % n2
    return F.cross_entropy(sim, targets)


@torch.no_grad()
def sinkhorn(scores, eps=0.05, iters=3):
    """solo-learn's SinkhornKnopp.forward (single process)."""
    q = torch.exp(scores / eps).t()
    b, k = q.shape[1], q.shape[0]
    q /= torch.sum(q)
    for _ in range(iters):
        q /= torch.sum(q, dim=1, keepdim=True)
        q /= k
        q /= torch.sum(q, dim=0, keepdim=True)
        q /= b
    q *= b
    return q.t()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["ntxent", "sinkhorn"])
    p.add_argument("--n", type=int, default=4096)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--b", type=int, default=4096)
    p.add_argument("--k", type=int, default=3000)
    p.add_argument("--tau", type=float, default=0.5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    print(f"torch_version={torch.__version__}", flush=True)
    if a.what == "ntxent":
        z1 = torch.randn(a.n, a.d, requires_grad=True)
        z2 = torch.randn(a.n, a.d, requires_grad=True)

        def step():
            z1.grad = None
            z2.grad = None
            ntxent(z1, z2, a.tau).backward()

        before = maxrss_mb()
        step()                                   # warm-up, also the memory measurement
        print(f"torch_peak_growth_mb={maxrss_mb() - before:.1f}", flush=True)
        print(f"torch_loss={ntxent(z1, z2, a.tau).item():.6f}", flush=True)
        print(f"torch_s={median_time(step, a.reps):.6f}", flush=True)
    else:
        scores = F.normalize(torch.randn(a.b, 128), dim=1) @ F.normalize(torch.randn(a.k, 128), dim=1).T
        before = maxrss_mb()
        sinkhorn(scores)
        print(f"torch_peak_growth_mb={maxrss_mb() - before:.1f}", flush=True)
        print(f"torch_s={median_time(lambda: sinkhorn(scores), a.reps):.6f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
