"""Augmentation through the Python binding: shapes, determinism, description, errors,
struct layout parity with the C header, and the PNG preview (checked with zlib)."""

import ctypes
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

import numpy as np
import pytest

import contrastive
from contrastive import _ffi

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def images(n=6, h=32, w=32, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)


def test_simclr_cifar_shapes_and_values():
    aug = contrastive.Augmenter(preset="simclr-cifar")
    assert aug.view_count == 2
    v1, v2 = aug.apply(images(), seed=1, epoch=0)
    assert v1.shape == (6, 3, 32, 32) and v1.dtype == np.float32
    assert np.isfinite(v1).all() and not np.array_equal(v1, v2)
    # Normalised with the CIFAR statistics: values within [(0-m)/s, (1-m)/s].
    assert v1.min() >= (0 - 0.4914) / 0.247 - 1e-4 and v1.max() <= (1 - 0.4465) / 0.261 + 1e-4


def test_determinism_order_and_threads():
    aug = contrastive.Augmenter(preset="byol", size=24)
    x = images(8, 40, 36)
    idx = np.arange(100, 108)
    a = aug.apply(x, seed=3, epoch=2, indices=idx)
    before = contrastive.get_num_threads()
    contrastive.set_num_threads(1)
    try:
        b = aug.apply(x[::-1], seed=3, epoch=2, indices=idx[::-1])
    finally:
        contrastive.set_num_threads(before)
    for va, vb in zip(a, b):
        np.testing.assert_array_equal(va, vb[::-1])
    c = aug.apply(x[:3], seed=3, epoch=2, indices=idx[:3])
    for va, vc in zip(a, c):
        np.testing.assert_array_equal(va[:3], vc)


def test_swav_multicrop():
    aug = contrastive.Augmenter(preset="swav-cifar")
    views = aug.apply(images(2))
    assert [v.shape for v in views] == [(2, 3, 32, 32)] * 2 + [(2, 3, 18, 18)] * 6


def test_description_round_trip_and_grey_images():
    text = "precision float\nnormalize none\nview x2: rrc size=16 scale=0.2,1 | hflip p=0.5 | jitter p=1 brightness=0.3 contrast=0.3"
    aug = contrastive.Augmenter(description=text)
    again = contrastive.Augmenter(description=aug.describe())
    assert again.describe() == aug.describe()
    x = images(3, 20, 20, 1)[..., 0]  # (N, H, W) grey
    v = aug.apply(x)
    assert v[0].shape == (3, 1, 16, 16) and 0 <= v[0].min() and v[0].max() <= 1


def test_mean_std_override_and_no_normalisation():
    x = np.full((1, 8, 8, 3), 255, np.uint8)
    aug = contrastive.Augmenter(description="view: resize size=8", mean=[0.5], std=[0.5])
    assert np.allclose(aug.apply(x)[0], 1.0)
    aug = contrastive.Augmenter(description="view: resize size=8", normalize=False)
    assert np.allclose(aug.apply(x)[0], 1.0)


@pytest.mark.parametrize("kwargs, exc", [
    (dict(preset="nope"), contrastive.InvalidArgumentError),
    (dict(description="view: jitter hue=0.7"), contrastive.InvalidArgumentError),
    (dict(description="view: blur sigma=-1,1"), contrastive.InvalidArgumentError),
    (dict(description="view: blur sigma=2,1"), contrastive.InvalidArgumentError),
    (dict(description="view: hflip p=2"), contrastive.InvalidArgumentError),
    (dict(description="view: rrc size=32 |"), contrastive.FormatError),
    (dict(description="view rrc"), contrastive.FormatError),
    (dict(description="view: warp"), contrastive.FormatError),
])
def test_bad_pipelines(kwargs, exc):
    with pytest.raises(exc) as e:
        contrastive.Augmenter(**kwargs)
    assert "ctr_augmenter_create" in e.value.message


def test_bad_images():
    aug = contrastive.Augmenter(description="view: crop size=40 | jitter p=1 brightness=0.2")
    with pytest.raises(contrastive.InvalidArgumentError, match="larger"):
        aug.apply(images(2, 32, 32))
    with pytest.raises(contrastive.UnsupportedError, match="channels"):
        aug.apply(images(2, 48, 48, 4))
    with pytest.raises(contrastive.InvalidArgumentError):
        aug.apply(np.zeros((2, 0, 48, 3), np.uint8))
    with pytest.raises(contrastive.InvalidArgumentError):
        aug.apply(images().astype(np.float32))
    # Raw C call: too small a buffer, NULL images.
    raw = contrastive.Augmenter(preset="simclr-cifar")
    out = (ctypes.c_float * 10)()
    x = images(2)
    st = _ffi.lib.ctr_augmenter_apply(raw._handle, x.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), 2, 32, 32, 3, 0, 0,
                                      None, out, 10)
    assert st == contrastive.Status.BUFFER_TOO_SMALL
    st = _ffi.lib.ctr_augmenter_apply(raw._handle, None, 2, 32, 32, 3, 0, 0, None, out, 10**6)
    assert st == contrastive.Status.INVALID_ARGUMENT
    assert _ffi.lib.ctr_augmenter_view_count(None) == 0


def test_options_struct_matches_the_header():
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    src = r"""
    #include <stddef.h>
    #include <stdio.h>
    #include "contrastive.h"
    int main(void) {
        printf("%zu %zu %zu %zu %zu %zu\n", sizeof(ctr_augment_options),
               offsetof(ctr_augment_options, description), offsetof(ctr_augment_options, size),
               offsetof(ctr_augment_options, num_norm), offsetof(ctr_augment_options, mean),
               offsetof(ctr_augment_options, std));
        return 0;
    }
    """
    with tempfile.TemporaryDirectory() as d:
        c, exe = os.path.join(d, "s.c"), os.path.join(d, "s")
        with open(c, "w") as f:
            f.write(src)
        subprocess.run([cc, "-std=c99", "-I", os.path.join(REPO, "include"), c, "-o", exe], check=True)
        got = [int(v) for v in subprocess.run([exe], check=True, capture_output=True, text=True).stdout.split()]
    O = _ffi.ctr_augment_options
    assert got == [ctypes.sizeof(O), O.description.offset, O.size.offset, O.num_norm.offset, O.mean.offset, O.std.offset]
    opts = O()
    _ffi.lib.ctr_augment_options_default(ctypes.byref(opts))
    assert opts.struct_size == ctypes.sizeof(O) and opts.preset == b"simclr" and opts.num_local == -1


def test_preview_png_decodes(tmp_path):
    path = tmp_path / "preview.png"
    aug = contrastive.Augmenter(preset="swav-cifar")
    contrastive.preview_png(path, images(3), aug, seed=4)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, idat = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append(kind)
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
        if kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert chunks == [b"IHDR", b"IDAT", b"IEND"] and depth == 8 and colour == 2
    raw = zlib.decompress(idat)
    assert len(raw) == h * (1 + 3 * w) and (w, h) == (9 * 34 + 2, 3 * 34 + 2)
    with pytest.raises(contrastive.ContrastiveIOError):
        contrastive.preview_png(tmp_path / "no" / "such" / "dir.png", images(1), aug)


def test_one_augmenter_from_several_threads():
    """apply is re-entrant: concurrent calls on one augmenter give the single-thread result."""
    import threading

    aug = contrastive.Augmenter(preset="simclr-cifar")
    x = images(16)
    ref = aug.apply(x, seed=9, epoch=1)
    results, errors = [None] * 4, []

    def work(k):
        try:
            results[k] = aug.apply(x, seed=9, epoch=1)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        for a, b in zip(r, ref):
            np.testing.assert_array_equal(a, b)
