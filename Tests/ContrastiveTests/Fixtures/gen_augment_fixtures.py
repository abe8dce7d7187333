"""Generate the augmentation fixtures: torchvision.transforms.v2.functional ops applied with
fixed parameters to small random uint8 images, on the uint8 path and on the float path.

Run from the repository root with a Python that has torch + torchvision (CI never runs it):

    /work/torchvenv/bin/python Tests/ContrastiveTests/Fixtures/gen_augment_fixtures.py

Writes Tests/ContrastiveTests/Fixtures/augment/<case>/{x.npy, y_u8.npy, y_f32.npy, meta.txt}:
x is the input, uint8 H×W×C ('<u1'); y_u8 the op on the uint8 tensor (C×H×W, '<u1'); y_f32 the
op on the float tensor x/255 (C×H×W, '<f4'); meta.txt key=value lines (op and parameters).
Deterministic: numpy seeded per case with the CRC32 of its name; one torch thread.
"""
import os
import shutil
import zlib

import numpy as np
import torch
import torchvision
import torchvision.transforms.v2.functional as F

torch.set_num_threads(1)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "augment")


def image(name, h, w, c):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    # Smooth colourful content plus noise, so every op has something to do.
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([127 + 120 * np.sin(xx * 0.4 + k + yy * 0.2 * (k + 1)) for k in range(c)], axis=-1)
    noise = rng.integers(-40, 41, size=(h, w, c))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def save(name, x, fn, **meta):
    d = os.path.join(ROOT, name)
    os.makedirs(d)
    t = torch.from_numpy(x).permute(2, 0, 1).contiguous()
    y8 = fn(t, False)
    yf = fn(t.float() / 255.0, True)
    assert y8.dtype == torch.uint8, name
    np.save(os.path.join(d, "x.npy"), x)
    np.save(os.path.join(d, "y_u8.npy"), y8.numpy().astype("<u1"))
    np.save(os.path.join(d, "y_f32.npy"), yf.numpy().astype("<f4"))
    with open(os.path.join(d, "meta.txt"), "w") as f:
        for k, v in meta.items():
            f.write(f"{k}={v}\n")


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    os.makedirs(ROOT)

    def rc(top, left, h, w, oh, ow):
        return lambda t, fp: F.resized_crop(t, top, left, h, w, [oh, ow], antialias=True)

    # Resized crops: shrink (antialias), enlarge, mixed, and the whole image.
    for name, (H, W, C), box in [
        ("rrc_shrink", (37, 41, 3), (3, 5, 30, 33, 16, 12)),
        ("rrc_enlarge", (20, 22, 3), (4, 6, 10, 9, 24, 20)),
        ("rrc_mixed", (30, 30, 3), (2, 11, 20, 8, 12, 16)),
        ("rrc_whole_4ch", (24, 32, 4), (0, 0, 24, 32, 9, 13)),
        ("rrc_gray", (40, 40, 1), (1, 2, 37, 35, 7, 7)),
    ]:
        x = image(name, H, W, C)
        save(name, x, rc(*box), op="resized_crop", top=box[0], left=box[1], h=box[2], w=box[3], oh=box[4], ow=box[5])

    x = image("flip", 9, 11, 3)
    save("hflip", x, lambda t, fp: F.horizontal_flip(t), op="hflip")
    save("vflip", x, lambda t, fp: F.vertical_flip(t), op="vflip")

    for name, (H, W), angle, interp, fill in [
        ("rotate90_square", (12, 12), 90.0, "nearest", 0.0),
        ("rotate90_nonsquare", (10, 14), 90.0, "nearest", 0.5),
        ("rotate30_nearest", (15, 17), 30.0, "nearest", 0.3),
        ("rotate17_bilinear", (16, 13), -17.0, "bilinear", 0.8),
    ]:
        x = image(name, H, W, 3)
        mode = F.InterpolationMode.NEAREST if interp == "nearest" else F.InterpolationMode.BILINEAR

        def rot(t, fp, angle=angle, mode=mode, fill=fill):
            return F.rotate(t, angle, interpolation=mode, fill=[fill if fp else fill * 255.0])

        save(name, x, rot, op="rotate", angle=angle, interp=interp, fill=fill)

    x = image("color", 14, 15, 3)
    save("brightness", x, lambda t, fp: F.adjust_brightness(t, 1.37), op="brightness", factor=1.37)
    save("contrast", x, lambda t, fp: F.adjust_contrast(t, 0.61), op="contrast", factor=0.61)
    save("contrast_high", x, lambda t, fp: F.adjust_contrast(t, 1.7), op="contrast", factor=1.7)
    save("saturation", x, lambda t, fp: F.adjust_saturation(t, 1.73), op="saturation", factor=1.73)
    save("hue_pos", x, lambda t, fp: F.adjust_hue(t, 0.23), op="hue", factor=0.23)
    save("hue_neg", x, lambda t, fp: F.adjust_hue(t, -0.41), op="hue", factor=-0.41)
    save("grayscale", x, lambda t, fp: F.rgb_to_grayscale(t, num_output_channels=3), op="grayscale")
    save("solarize", x, lambda t, fp: F.solarize(t, 0.5 if fp else 128), op="solarize", threshold=0.5)
    save("equalize", x, lambda t, fp: F.equalize(t), op="equalize")
    xg = image("color_gray", 13, 11, 1)
    save("contrast_1ch", xg, lambda t, fp: F.adjust_contrast(t, 0.45), op="contrast", factor=0.45)
    save("brightness_1ch", xg, lambda t, fp: F.adjust_brightness(t, 0.7), op="brightness", factor=0.7)

    for name, (H, W, C), k, sigma in [
        ("blur_k5", (16, 18, 3), 5, 1.3),
        ("blur_k3", (10, 9, 3), 3, 0.7),
        ("blur_k9_2ch", (20, 21, 2), 9, 1.9),
    ]:
        x = image(name, H, W, C)
        save(name, x, lambda t, fp, k=k, sigma=sigma: F.gaussian_blur(t, [k, k], [sigma, sigma]),
             op="blur", kernel=k, sigma=sigma)

    # A chain as the SimCLR pipeline runs it (uint8 between ops), then ToDtype + Normalize.
    x = image("chain", 28, 30, 3)
    mean, std = [0.4914, 0.4822, 0.4465], [0.247, 0.243, 0.261]

    def chain(t, fp):
        t = F.resized_crop(t, 2, 3, 21, 25, [16, 16], antialias=True)
        t = F.horizontal_flip(t)
        t = F.adjust_contrast(t, 1.21)
        t = F.adjust_hue(t, -0.07)
        t = F.adjust_brightness(t, 0.83)
        t = F.adjust_saturation(t, 0.66)
        if fp:
            return F.normalize(t, mean, std)
        return t

    save("chain", x, chain, op="chain")
    with open(os.path.join(ROOT, "VERSIONS.txt"), "w") as f:
        f.write(f"torch={torch.__version__}\ntorchvision={torchvision.__version__}\nnumpy={np.__version__}\n")


if __name__ == "__main__":
    main()
