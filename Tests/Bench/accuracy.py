"""`make bench-accuracy`: SimCLR, MoCo v2, BYOL and SwAV pre-trained on Fashion-MNIST with the
small ConvNet for the same fixed budget, then the linear probe and kNN on frozen features —
ours through `contrastive train`, PyTorch through Tests/Bench/accuracy_torch.py (same recipe,
same augmented views, same evaluation functions), side by side. A benchmark, not a test.

    python3 Tests/Bench/accuracy.py [--epochs 3] [--limit 0] [--methods simclr,mocov2,byol,swav]
                                    [--torch PYTHON | --no-torch]
Last lines: linear_<method>=<top-1 as a fraction> for each method (ours).
"""
import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RAW_LINEAR, RAW_KNN = 0.835, 0.855   # raw-pixel baselines on Fashion-MNIST (DESIGN.md §8)


def kv(text):
    out = {}
    for line in text.splitlines():
        if "=" in line and " " not in line.split("=", 1)[0]:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="training images (0 = all 60000)")
    ap.add_argument("--methods", default="simclr,mocov2,byol,swav")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--torch", default=os.environ.get("BENCH_PYTHON"), help="a Python with torch (default $BENCH_PYTHON)")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--torch-methods", default=None, help="methods to run the PyTorch peer for (default: all)")
    a = ap.parse_args()
    cli = os.path.join(REPO, "build", "bin", "contrastive")
    methods = a.methods.split(",")
    rows = []
    torch_methods = a.torch_methods.split(",") if a.torch_methods else methods
    raw = None
    print(f"bench-accuracy: Fashion-MNIST, ConvNet 32-64-128-256, {a.epochs} epochs, batch 256, "
          f"{a.limit or 60000} training images, {a.threads} threads", flush=True)
    for m in methods:
        out = os.path.join(REPO, "build", "accuracy", m)
        cmd = [cli, "train", "--method", m, "--epochs", str(a.epochs), "--batch", "256", "--out", out, "--quiet",
               "--threads", str(a.threads), "--knn-k", "200", "--knn-t", "0.1"]
        if a.limit:
            cmd += ["--limit", str(a.limit)]
        if raw is not None:
            cmd.append("--no-baselines")     # the baselines do not depend on the method
        t = time.time()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{m}: ours failed: {r.stderr.strip()}", flush=True)
            continue
        mj = json.load(open(os.path.join(out, "metrics.json")))
        ev = {e["features"]: e for e in mj["evaluation"]}
        mine = ev[f"{m} encoder"]
        if raw is None:
            raw = (ev["raw pixels"], ev["random-init encoder"])
        ev["raw pixels"], ev["random-init encoder"] = raw
        per_epoch = sorted(e["seconds"] for e in mj["epochs"])[len(mj["epochs"]) // 2]
        row = dict(method=m, linear=mine["linear_top1"], knn=mine["knn_top1"], epoch_s=per_epoch,
                   raw_linear=ev["raw pixels"]["linear_top1"], raw_knn=ev["raw pixels"]["knn_top1"],
                   random_linear=ev["random-init encoder"]["linear_top1"], wall=time.time() - t)
        print(f"{m}: ours linear {row['linear']:.4f} kNN {row['knn']:.4f}, {per_epoch:.1f} s/epoch "
              f"(raw pixels {row['raw_linear']:.4f} / {row['raw_knn']:.4f}, random init {row['random_linear']:.4f})", flush=True)
        if a.torch and not a.no_torch and m in torch_methods:
            tcmd = [a.torch, os.path.join(REPO, "Tests", "Bench", "accuracy_torch.py"), "--method", m, "--epochs", str(a.epochs),
                    "--threads", str(a.threads)] + (["--limit", str(a.limit)] if a.limit else [])
            tr = subprocess.run(tcmd, capture_output=True, text=True, env=dict(os.environ, CONTRASTIVE_LIBRARY=os.path.join(REPO, "build", "lib", "libcontrastive.so.0")))
            tv = kv(tr.stdout)
            if tr.returncode == 0 and "linear_top1" in tv:
                row.update(torch_linear=float(tv["linear_top1"]), torch_knn=float(tv["knn_top1"]), torch_epoch_s=float(tv["seconds_per_epoch"]))
                print(f"{m}: torch linear {row['torch_linear']:.4f} kNN {row['torch_knn']:.4f}, {row['torch_epoch_s']:.1f} s/epoch", flush=True)
            else:
                print(f"{m}: torch peer failed: {tr.stderr.strip()[-400:]}", flush=True)
        rows.append(row)

    print()
    print(f"{'method':8} {'linear':>8} {'kNN':>8} {'s/epoch':>8} {'torch lin':>10} {'torch kNN':>10} {'torch s/ep':>10}  beats raw pixels")
    for r in rows:
        t = lambda k, f="{:.4f}": f.format(r[k]) if k in r else "–"
        beats = r["linear"] > RAW_LINEAR and r["knn"] > RAW_KNN
        print(f"{r['method']:8} {r['linear']:8.4f} {r['knn']:8.4f} {r['epoch_s']:8.1f} {t('torch_linear'):>10} {t('torch_knn'):>10} "
              f"{t('torch_epoch_s', '{:.1f}'):>10}  {'yes' if beats else 'no'} (raw {RAW_LINEAR} / {RAW_KNN})")
    for r in rows:
        if "torch_linear" in r:
            print(f"accuracy_gap_{r['method']}={r['linear'] - r['torch_linear']:+.4f} epoch_time_vs_torch_{r['method']}={r['torch_epoch_s'] / r['epoch_s']:.3f}")
    for r in rows:
        print(f"linear_{r['method']}={r['linear']:.4f}")


if __name__ == "__main__":
    sys.exit(main())
