import gzip
import os
import struct
import ctypes

import numpy as np
import pytest

import contrastive
import contrastive.datasets as cds

FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.skipif(not os.path.exists(f"{FASHION}/t10k-images-idx3-ubyte.gz"), reason="dataset-fashion-mnist not installed")
def test_fashion_mnist_test_split_matches_numpy_reading():
    ds = cds.load_idx(f"{FASHION}/t10k-images-idx3-ubyte.gz", f"{FASHION}/t10k-labels-idx1-ubyte.gz")
    assert (len(ds), ds.height, ds.width, ds.channels, ds.num_classes) == (10000, 28, 28, 1, 10)
    ref = np.frombuffer(gzip.open(f"{FASHION}/t10k-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 28, 28, 1)
    lab = np.frombuffer(gzip.open(f"{FASHION}/t10k-labels-idx1-ubyte.gz").read()[8:], np.uint8)
    assert np.array_equal(ds.images, ref)
    assert np.array_equal(ds.labels, lab.astype(np.int32))


def test_from_numpy_round_trip_and_split():
    x = np.arange(10 * 4 * 5 * 3, dtype=np.int64).astype(np.uint8).reshape(10, 4, 5, 3)
    y = np.arange(10) % 3
    ds = cds.Dataset.from_numpy(x, y)
    assert np.array_equal(ds.images, x) and np.array_equal(ds.labels, y)
    tr, va = ds.split(0.3, seed=1)
    assert (len(tr), len(va)) == (7, 3)
    both = np.concatenate([tr.images, va.images])
    assert sorted(map(bytes, both)) == sorted(map(bytes, x))
    tr2, _ = ds.split(0.3, seed=1)
    assert np.array_equal(tr.images, tr2.images)
    assert cds.Dataset.from_numpy(x[..., 0]).channels == 1
    assert cds.Dataset.from_numpy(x).labels is None


def test_bad_input(tmp_path):
    with pytest.raises(TypeError):
        cds.Dataset.from_numpy(np.zeros((2, 3, 3), np.float32))
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.Dataset.from_numpy(np.zeros((2, 3, 3), np.uint8), labels=[0, -1])
    with pytest.raises(contrastive.ContrastiveIOError):
        cds.load_idx(tmp_path / "missing")
    p = tmp_path / "bad.idx"
    good = struct.pack(">BBBBIII", 0, 0, 8, 3, 2, 2, 2) + bytes(8)
    for cut in range(len(good)):
        p.write_bytes(good[:cut])
        with pytest.raises(contrastive.FormatError):
            cds.load_idx(p)
    p.write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(contrastive.FormatError):
        cds.load_idx(p)
    p.write_bytes(good)
    assert len(cds.load_idx(p)) == 2
    ds = cds.load_idx(p)
    with pytest.raises(contrastive.InvalidArgumentError):
        ds.split(2.0)


def test_procedural_dataset_is_deterministic_balanced_and_colourful():
    a = cds.procedural(500, 24, seed=3)
    b = cds.procedural(500, 24, seed=3)
    assert (len(a), a.height, a.channels, a.num_classes) == (500, 24, 3, 10)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, cds.procedural(500, 24, seed=4).images)
    counts = np.bincount(a.labels, minlength=10)
    assert counts.min() > 25, counts
    # Image i depends only on (seed, i): a shorter dataset is a prefix.
    assert np.array_equal(cds.procedural(20, 24, seed=3).images, a.images[:20])
    assert a.images.std() > 40
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.procedural(0)
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.procedural(10, size=4)


# --- CIFAR, NPY, image folders -----------------------------------------------------------------

FIXTURE_IMAGES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "Tests", "ContrastiveTests", "Fixtures", "images", "classes")


def _cifar_records(labels, lead):
    """Records with planar pixels: channel c of record r holds (100c + r) % 256."""
    out = b""
    for r, lab in enumerate(labels):
        planes = np.stack([np.full(1024, (100 * c + r) % 256, np.uint8) for c in range(3)])
        out += bytes(lab if isinstance(lab, (list, tuple)) else [lab])[:lead] + planes.tobytes()
    return out


def test_load_cifar10_and_100(tmp_path):
    a, b = tmp_path / "data_batch_1.bin", tmp_path / "data_batch_2.bin"
    a.write_bytes(_cifar_records([3, 9], 1))
    b.write_bytes(_cifar_records([0], 1))
    ds = cds.load_cifar([a, b])
    assert (len(ds), ds.height, ds.width, ds.channels, ds.num_classes) == (3, 32, 32, 3, 10)
    assert list(ds.labels) == [3, 9, 0]
    im = ds.images
    assert (im[1, :, :, 0] == 1).all() and (im[1, :, :, 1] == 101).all() and (im[1, :, :, 2] == 201).all()
    assert ds.class_names[:3] == ("airplane", "automobile", "bird")
    assert len(cds.load_cifar(a)) == 2
    c = tmp_path / "train.bin"
    c.write_bytes(_cifar_records([(4, 99), (19, 0)], 2))
    assert list(cds.load_cifar(c, "cifar100").labels) == [99, 0]
    coarse = cds.load_cifar(c, "cifar100", coarse=True)
    assert list(coarse.labels) == [4, 19] and coarse.num_classes == 20 and coarse.class_names[19] == "vehicles_2"
    with pytest.raises(contrastive.FormatError, match="data_batch_1.bin"):
        cds.load_cifar(a, "cifar100")
    t = tmp_path / "cut.bin"
    t.write_bytes(_cifar_records([1], 1)[:-1])
    with pytest.raises(contrastive.FormatError):
        cds.load_cifar(t)
    with pytest.raises(contrastive.ContrastiveIOError):
        cds.load_cifar(tmp_path / "missing.bin")
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.load_cifar([])
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.load_cifar(a, "cifar1000")


def test_load_npy_matches_numpy(tmp_path):
    x = np.random.default_rng(0).integers(0, 256, (5, 6, 7, 3), dtype=np.uint8)
    y = np.array([0, 4, 2, 2, 1])
    np.save(tmp_path / "x.npy", x)
    for dt in (np.int64, np.int32, np.uint8):
        np.save(tmp_path / "y.npy", y.astype(dt))
        ds = cds.load_npy(tmp_path / "x.npy", tmp_path / "y.npy")
        assert np.array_equal(ds.images, x) and np.array_equal(ds.labels, y.astype(np.int32))
    np.save(tmp_path / "g.npy", x[..., 0])
    assert cds.load_npy(tmp_path / "g.npy").images.shape == (5, 6, 7, 1)
    assert cds.load_npy(tmp_path / "x.npy").labels is None
    np.save(tmp_path / "f.npy", np.asfortranarray(x))
    with pytest.raises(contrastive.FormatError, match="Fortran"):
        cds.load_npy(tmp_path / "f.npy")
    np.save(tmp_path / "o.npy", np.array([None, {"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(contrastive.FormatError, match="pickle"):
        cds.load_npy(tmp_path / "o.npy")
    np.save(tmp_path / "fl.npy", x.astype(np.float32))
    with pytest.raises(contrastive.FormatError):
        cds.load_npy(tmp_path / "fl.npy")
    np.save(tmp_path / "y3.npy", y[:3])
    with pytest.raises(contrastive.FormatError):
        cds.load_npy(tmp_path / "x.npy", tmp_path / "y3.npy")
    np.save(tmp_path / "neg.npy", np.array([0, -1, 0, 0, 0]))
    with pytest.raises(contrastive.FormatError):
        cds.load_npy(tmp_path / "x.npy", tmp_path / "neg.npy")
    raw = (tmp_path / "x.npy").read_bytes()
    for cut in range(0, len(raw), 23):
        (tmp_path / "t.npy").write_bytes(raw[:cut])
        with pytest.raises(contrastive.FormatError):
            cds.load_npy(tmp_path / "t.npy")


def _png(img: np.ndarray) -> bytes:
    """A PNG written with zlib only (8-bit grey/RGB/RGBA, filter 0)."""
    import zlib

    h, w = img.shape[:2]
    c = 1 if img.ndim == 2 else img.shape[2]
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\0" + img[y].tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_load_folder_classes_resize_and_channels(tmp_path):
    rgb = np.zeros((12, 16, 3), np.uint8)
    rgb[..., 0] = 200
    rgb[..., 1] = 50
    rgb[..., 2] = 50
    (tmp_path / "zebra").mkdir()
    (tmp_path / "ant").mkdir()
    (tmp_path / "zebra" / "1.png").write_bytes(_png(rgb))
    (tmp_path / "zebra" / "2.PNG").write_bytes(_png(np.full((5, 5), 90, np.uint8)))
    (tmp_path / "ant" / "x.png").write_bytes(_png(np.dstack([rgb, np.zeros((12, 16), np.uint8)])))
    (tmp_path / "ant" / "notes.txt").write_text("ignored")
    ds = cds.load_folder(tmp_path, size=8)
    assert (len(ds), ds.height, ds.width, ds.channels) == (3, 8, 8, 3)
    assert ds.class_names == ("ant", "zebra") and list(ds.labels) == [0, 1, 1]
    im = ds.images
    assert (im[0] == [200, 50, 50]).all() and (im[1] == [200, 50, 50]).all() and (im[2] == 90).all()
    grey = cds.load_folder(tmp_path, size=(4, 6), channels=1)
    assert grey.images.shape == (3, 4, 6, 1) and (grey.images[0] == 95).all()
    with pytest.raises(contrastive.ShapeMismatchError):
        cds.load_folder(tmp_path)  # mixed sizes, no size given
    flat = cds.load_folder(tmp_path / "zebra", size=8)
    assert flat.labels is None and flat.class_names is None and len(flat) == 2
    (tmp_path / "zebra" / "3.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(contrastive.FormatError, match="3.jpg"):
        cds.load_folder(tmp_path, size=8)
    with pytest.raises(contrastive.ContrastiveIOError):
        cds.load_folder(tmp_path / "missing")
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.load_folder(tmp_path, size=8, channels=4)
    with pytest.raises(contrastive.InvalidArgumentError):
        cds.load_folder(tmp_path, layout="tree")


@pytest.mark.skipif(not os.path.isdir(FIXTURE_IMAGES), reason="fixture images not present")
def test_load_folder_committed_jpeg_fixtures():
    ds = cds.load_folder(FIXTURE_IMAGES)
    assert ds.class_names == ("grey", "red") and (len(ds), ds.height, ds.width) == (3, 12, 16)
    im = ds.images.astype(int)
    # The fixture pattern (LoaderTests.fixturePattern): red channel 180 + 2x, green 40 + 3y.
    x = np.arange(16)[None, :]
    y = np.arange(12)[:, None]
    for i in (1, 2):  # red/rgb.jpg, red/rgb.png
        assert np.abs(im[i, :, :, 0] - (180 + 2 * x)).max() <= 8
        assert np.abs(im[i, :, :, 1] - (40 + 3 * y)).max() <= 8
    assert np.abs(im[0, :, :, 0] - (40 + 8 * x + 4 * y)).max() <= 8  # grey.jpeg, copied to RGB
    assert (im[0, :, :, 0] == im[0, :, :, 2]).all()


def test_folder_options_struct_matches_header():
    from contrastive import _ffi

    o = _ffi.CtrFolderOptions()
    contrastive.datasets._lib.ctr_folder_options_default(ctypes.byref(o))
    assert o.struct_size == ctypes.sizeof(o) == 20 and o.channels == 3 and o.height == 0 and o.layout == 0


def test_python_side_argument_errors_carry_their_message():
    with pytest.raises(contrastive.InvalidArgumentError, match="NUL"):
        cds.load_npy("bad\0path.npy")
    with pytest.raises(contrastive.InvalidArgumentError, match="images must be"):
        cds.Dataset.from_numpy(np.zeros((2, 3), np.uint8))


def test_dataset_structs_and_enums_match_the_c_header(tmp_path):
    import pathlib
    import shutil
    import subprocess

    from contrastive import _ffi

    include = pathlib.Path(__file__).resolve().parents[3] / "include"
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None or not (include / "contrastive.h").exists():
        pytest.skip("no C compiler or header")
    structs = {"ctr_folder_options": _ffi.CtrFolderOptions, "ctr_dataset_info": _ffi.CtrDatasetInfo}
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "contrastive.h"', "int main(void) {"]
    for cname, cls in structs.items():
        lines.append(f'    printf("{cname} sizeof %zu\\n", sizeof({cname}));')
        for field, *_ in cls._fields_:
            lines.append(f'    printf("{cname} {field} %zu\\n", offsetof({cname}, {field}));')
    for name in ("CTR_CIFAR10", "CTR_CIFAR100_FINE", "CTR_CIFAR100_COARSE", "CTR_FOLDER_AUTO", "CTR_FOLDER_CLASSES",
                 "CTR_FOLDER_FLAT"):
        lines.append(f'    printf("{name} %d\\n", (int){name});')
    lines += ["    return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror", f"-I{include}", str(src), "-o", str(exe)], check=True,
                   capture_output=True, text=True)
    got = {}
    for line in subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.splitlines():
        *key, value = line.split()
        got[tuple(key)] = int(value)
    for cname, cls in structs.items():
        assert got[(cname, "sizeof")] == ctypes.sizeof(cls)
        for field, *_ in cls._fields_:
            assert got[(cname, field)] == getattr(cls, field).offset, (cname, field)
    assert [got[(n,)] for n in ("CTR_CIFAR10", "CTR_CIFAR100_FINE", "CTR_CIFAR100_COARSE")] == \
        [cds.CIFAR_FORMATS[k] for k in ("cifar10", "cifar100", "cifar100-coarse")]
    assert [got[(n,)] for n in ("CTR_FOLDER_AUTO", "CTR_FOLDER_CLASSES", "CTR_FOLDER_FLAT")] == \
        [cds.FOLDER_LAYOUTS[k] for k in ("auto", "classes", "flat")]
