"""train.py — SimCLR pre-training on Fashion-MNIST from Python (numpy only, no PyTorch):
train a small ConvNet with online kNN, save/resume the training state, export the encoder and
embed the test set with it.

    make && PYTHONPATH=bindings/python python3 examples/python/train.py [--images N] [--epochs E]
"""
import argparse
import os
import tempfile

import numpy as np

import contrastive
import contrastive.datasets as cds

FMNIST = "/usr/share/datasets/fashion-mnist"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=2048, help="training images used (of 60000)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--method", default="simclr", choices=["simclr", "mocov2", "byol", "swav"])
    args = ap.parse_args()

    data = cds.load_idx(f"{FMNIST}/train-images-idx3-ubyte.gz", f"{FMNIST}/train-labels-idx1-ubyte.gz")
    data = data.slice(0, min(args.images, len(data)))
    train, val = data.split(0.125, seed=7)
    print(f"train {train}, validation {val}")

    trainer = contrastive.Trainer(
        train, val, method=args.method, epochs=args.epochs, batch_size=128, seed=1,
        model=dict(arch="convnet", in_channels=1, head=dict(layers=2, hidden=512, out=128)),
        rank_samples=512, queue_size=1024, prototypes=100)

    def on_step(step, epoch):
        if epoch is not None:
            print(f"epoch {epoch['epoch'] + 1}: loss {epoch['mean_loss']:.4f} "
                  f"kNN top-1 {100 * epoch['knn_top1']:.1f}% ({epoch['seconds']:.1f} s)")
        elif step["step"] % 8 == 0:
            print(f"  step {step['step'] + 1}/{step['total_steps']} loss {step['loss']:.4f} "
                  f"lr {step['learning_rate']:.3f} std {step['embedding_std']:.3f}")

    history = trainer.fit(on_step)
    assert history[-1]["mean_loss"] < history[0]["mean_loss"] or len(history) == 1
    assert all(np.isfinite(e["mean_loss"]) for e in history)

    with tempfile.TemporaryDirectory() as tmp:
        state = os.path.join(tmp, "state.safetensors")
        trainer.save(state)
        resumed = contrastive.Trainer(
            train, val, method=args.method, epochs=args.epochs, batch_size=128, seed=1,
            model=dict(arch="convnet", in_channels=1, head=dict(layers=2, hidden=512, out=128)),
            rank_samples=512, queue_size=1024, prototypes=100)
        resumed.load(state)
        print("resumed:", resumed)
        encoder = os.path.join(tmp, "encoder.safetensors")
        resumed.export_encoder(encoder)
        model = contrastive.Model("convnet", in_channels=1)
        model.load(encoder)
        feats = resumed.embed(val, normalize=True)          # eval transform + trained encoder
        print("validation embeddings", feats.shape, "row norms", float(np.linalg.norm(feats, axis=1).mean()))
        print("exported backbone reloaded:", model)


if __name__ == "__main__":
    main()
