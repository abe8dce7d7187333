"""Tests for contrastive.Model and the raw model functions of the C API.

Run from bindings/python:
    python3 -m pytest -q tests/test_model.py

Most tests use ResNet-18 at width 1/16 (channels 4..32) or a tiny ConvNet on 32×32 images so
the whole file stays fast; the full-size networks are only created where their sizes matter.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import re
import shutil
import struct
import subprocess
import threading
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")

import contrastive  # noqa: E402
from contrastive import Model, Status, _ffi  # noqa: E402

lib = _ffi.lib
BINDINGS_DIR = Path(__file__).resolve().parent.parent
INCLUDE_DIR = BINDINGS_DIR.parent.parent / "include"

SMALL = dict(arch="resnet18", width=0.0625)  # channels 4, 8, 16, 32; feature_dim 32
CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)


# ------------------------------------------------------------------------------------------
# Helpers
# ------------------------------------------------------------------------------------------

def images_u8(n=4, h=32, w=32, c=3, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, h, w, c), dtype=np.uint8)


def to_f32(x_u8, mean=None, std=None):
    """The float input the u8 path computes inside: (x/255 - mean)/std, NHWC → NCHW."""
    c = x_u8.shape[-1]
    mean = np.zeros(c) if mean is None else np.asarray(mean, dtype=np.float64)
    std = np.ones(c) if std is None else np.asarray(std, dtype=np.float64)
    x = (x_u8.astype(np.float64) / 255.0 - mean) / std
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32)


def read_header(path):
    """(header dict, data offset) of a safetensors file, parsed with the json module."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    return header, 8 + n


def raw_create(**fields):
    """ctr_model_create with the default options changed by `fields`: (status, handle)."""
    opts = _ffi.CtrModelOptions()
    lib.ctr_model_options_default(ctypes.byref(opts))
    for k, v in fields.items():
        setattr(opts, k, v)
    handle = ctypes.c_void_p(12345)  # must be reset to NULL on failure
    status = lib.ctr_model_create(ctypes.byref(opts), ctypes.byref(handle))
    return status, handle


def embed_options(**fields):
    opts = _ffi.CtrEmbedOptions()
    lib.ctr_embed_options_default(ctypes.byref(opts))
    for k, v in fields.items():
        setattr(opts, k, v)
    return opts


def u8_ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))


def f32_ptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


@pytest.fixture
def small_model():
    with Model(**SMALL, seed=1) as m:
        yield m


@pytest.fixture(scope="module")
def resnet18():
    """Full-size ResNet-18 (ImageNet stem), shared: tests must not change it."""
    m = Model("resnet18")
    yield m
    m.close()


# ------------------------------------------------------------------------------------------
# Creation, sizes, options
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs,feature_dim,projection_dim",
    [
        (dict(arch="resnet18"), 512, None),
        (dict(arch="resnet50"), 2048, None),
        (dict(arch="resnet18", stem="cifar", in_channels=1), 512, None),
        (dict(arch="convnet", convnet_channels=(8, 16, 24)), 24, None),
        (dict(arch="convnet"), 256, None),  # default channels 32, 64, 128, 256
        (dict(arch="resnet18", head=dict(layers=2, hidden=256, out=64)), 512, 64),
        (dict(arch="resnet18", head=dict(layers=3, hidden=64, out=32, batch_norm=True,
                                         last_batch_norm=True)), 512, 32),
        # Every depth, cheaply at width 1/16: basic blocks end at 512/16, bottlenecks at 2048/16.
        (dict(arch="resnet34", width=0.0625), 32, None),
        (dict(arch="resnet101", width=0.0625), 128, None),
        (dict(arch="resnet152", width=0.0625, stem="cifar"), 128, None),
    ],
)
def test_create_each_arch(kwargs, feature_dim, projection_dim):
    with Model(**kwargs) as m:
        assert m.feature_dim == feature_dim
        assert m.projection_dim == projection_dim
        assert m.in_channels == kwargs.get("in_channels", 3)
        assert m.training is False  # new models are in eval mode
        assert m.num_params > 0 and m.num_buffers > 0
        z = m.embed(images_u8(2, 32, 32, m.in_channels))
        assert z.shape == (2, feature_dim) and z.dtype == np.float32
        assert np.isfinite(z).all()
        if projection_dim is not None:
            p = m.embed(images_u8(2, 32, 32, m.in_channels), output="projector")
            assert p.shape == (2, projection_dim)
        assert "Model" in repr(m)
    assert "closed" in repr(m)


def test_resnet18_sizes(resnet18):
    assert resnet18.num_params == 11176512  # torchvision resnet18 without fc
    # running_mean + running_var over 4800 BN channels, plus 20 num_batches_tracked.
    assert resnet18.num_buffers == 9620
    count, buffers = ctypes.c_int64(0), ctypes.c_int64(0)
    assert lib.ctr_model_num_params(resnet18._handle, ctypes.byref(count), None) == Status.OK
    assert lib.ctr_model_num_params(resnet18._handle, None, ctypes.byref(buffers)) == Status.OK
    assert (count.value, buffers.value) == (11176512, 9620)


def test_head_adds_its_parameters():
    with Model(**SMALL) as a, Model(**SMALL, head=dict(layers=2, hidden=16, out=8)) as b:
        # Linear(32→16) + Linear(16→8), with biases.
        assert b.num_params - a.num_params == 32 * 16 + 16 + 16 * 8 + 8


def test_seed_determines_weights():
    x = images_u8(2)
    with Model(**SMALL, seed=3) as a, Model(**SMALL, seed=3) as b, Model(**SMALL, seed=4) as c:
        assert np.array_equal(a.embed(x), b.embed(x))
        assert not np.array_equal(a.embed(x), c.embed(x))
    with Model(**SMALL, seed=2**64 - 1):
        pass


def test_invalid_arch_via_raw_ffi():
    contrastive.clear_error()
    status, handle = raw_create(arch=7)
    assert status == Status.INVALID_ARGUMENT
    assert handle.value is None  # *out is set to NULL on failure
    message = contrastive.last_error()
    assert "ctr_model_create" in message and "arch 7" in message


@pytest.mark.parametrize(
    "kwargs,words",
    [
        (dict(width=0), ["width", "0"]),
        (dict(width=float("nan")), ["width"]),
        (dict(width=17), ["width"]),
        (dict(in_channels=0), ["channels", "0"]),
        (dict(in_channels=4097), ["channels"]),
        (dict(head=dict(layers=2, hidden=0)), ["hidden", "0"]),
        (dict(head=dict(out=0)), ["output"]),
        (dict(head=dict(layers=9)), ["layers"]),
        (dict(head=dict(layers=-1)), ["head_layers"]),
        (dict(stem=5), ["stem 5"]),
        (dict(arch=7), ["arch 7"]),
        (dict(arch="convnet", convnet_channels=()), ["convnet_stages"]),
        (dict(arch="convnet", convnet_channels=(8, 0)), ["convnet channels"]),
    ],
)
def test_invalid_options_raise_with_message(kwargs, words):
    with pytest.raises(contrastive.InvalidArgumentError) as info:
        Model(**kwargs)
    msg = info.value.message
    assert info.value.status == Status.INVALID_ARGUMENT
    assert msg.startswith("ctr_model_create: ")
    for w in words:
        assert w in msg, msg
    assert isinstance(info.value, ValueError)


def test_invalid_options_caught_by_binding():
    with pytest.raises(contrastive.InvalidArgumentError, match="resnet19"):
        Model("resnet19")
    with pytest.raises(contrastive.InvalidArgumentError, match="stem"):
        Model(stem="tiny")
    with pytest.raises(contrastive.InvalidArgumentError, match="at most 16"):
        Model("convnet", convnet_channels=[4] * 17)
    with pytest.raises(contrastive.InvalidArgumentError, match="int32"):
        Model(in_channels=2**32 + 3)  # would wrap to 3 in ctypes
    with pytest.raises(contrastive.InvalidArgumentError, match="seed"):
        Model(seed=-1)
    with pytest.raises(TypeError, match="hiddden"):
        Model(head=dict(hiddden=16))
    with pytest.raises(TypeError):
        Model(head=[2, 16, 8])
    with pytest.raises(TypeError):
        Model(in_channels=3.0)


def test_options_defaults_and_old_caller_struct_size():
    opts = _ffi.CtrModelOptions()
    lib.ctr_model_options_default(ctypes.byref(opts))
    assert opts.struct_size == ctypes.sizeof(_ffi.CtrModelOptions)
    assert (opts.arch, opts.stem, opts.in_channels, opts.width) == (18, 0, 3, 1.0)
    assert (opts.convnet_stages, list(opts.convnet_channels)[:5]) == (4, [32, 64, 128, 256, 0])
    assert (opts.head_layers, opts.head_hidden, opts.head_out, opts.seed) == (0, 2048, 128, 0)
    eo = _ffi.CtrEmbedOptions()
    lib.ctr_embed_options_default(ctypes.byref(eo))
    assert eo.struct_size == ctypes.sizeof(_ffi.CtrEmbedOptions)
    assert (eo.output, eo.normalize, eo.chunk, bool(eo.mean), bool(eo.std)) == (0, 0, 128, False, False)

    # An "old caller" declares only the fields up to arch: the rest are defaults, so the
    # garbage in_channels below is never read.
    status, handle = raw_create(arch=1, in_channels=0,
                                struct_size=_ffi.CtrModelOptions.in_channels.offset)
    assert status == Status.OK, contrastive.last_error()
    dim = ctypes.c_int32(0)
    assert lib.ctr_model_output_dim(handle, 0, ctypes.byref(dim)) == Status.OK
    assert dim.value == 256  # a default ConvNet (arch was read, stem/in_channels defaulted)
    lib.ctr_model_free(handle)

    status, handle = raw_create(struct_size=0)
    assert status == Status.INVALID_ARGUMENT and handle.value is None
    assert "struct_size" in contrastive.last_error()


# ------------------------------------------------------------------------------------------
# Lifetime
# ------------------------------------------------------------------------------------------

def test_close_and_context_manager(tmp_path):
    m = Model(**SMALL)
    assert not m.closed
    m.close()
    m.close()  # idempotent
    assert m.closed
    for call in (lambda: m.feature_dim, lambda: m.num_params, lambda: m.train(),
                 lambda: m.embed(images_u8(1)), lambda: m.save(tmp_path / "x"),
                 lambda: m.load(tmp_path / "x"), lambda: m.training):
        with pytest.raises(contrastive.InvalidArgumentError, match="closed"):
            call()
    with Model(**SMALL) as m2:
        assert m2.feature_dim == 32
    assert m2.closed
    lib.ctr_model_free(None)  # NULL is a no-op


def test_garbage_collected_model_is_freed():
    import gc
    for _ in range(3):
        Model(**SMALL).embed(images_u8(2))
    gc.collect()


# ------------------------------------------------------------------------------------------
# Embedding
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mean,std", [(None, None), (CIFAR10_MEAN, CIFAR10_STD), ([0.5] * 3, None)])
def test_embed_u8_matches_f32(small_model, mean, std):
    x = images_u8(3)
    a = small_model.embed(x, mean=mean, std=std)
    b = small_model.embed(to_f32(x, mean, std))
    assert a.shape == b.shape == (3, 32)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-4)
    # float64 input is converted; a non-contiguous uint8 view is copied.
    c = small_model.embed(to_f32(x, mean, std).astype(np.float64))
    np.testing.assert_allclose(c, b, rtol=0, atol=1e-6)
    wide = np.zeros((3, 32, 64, 3), np.uint8)
    wide[:, :, ::2] = x
    np.testing.assert_allclose(small_model.embed(wide[:, :, ::2], mean=mean, std=std), a, atol=1e-6)


def test_embed_normalize_gives_unit_rows():
    with Model(**SMALL, head=dict(hidden=16, out=8)) as m:
        x = images_u8(4)
        for output in ("backbone", "projector"):
            raw = m.embed(x, output=output)
            z = m.embed(x, output=output, normalize=True)
            np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)
            np.testing.assert_allclose(z, raw / np.linalg.norm(raw, axis=1, keepdims=True), atol=1e-5)


def test_embed_single_image_and_grayscale_shapes():
    with Model(**SMALL) as m:
        x = images_u8(3)
        one = m.embed(x[0])  # (H, W, C)
        assert one.shape == (1, 32)
        np.testing.assert_allclose(one[0], m.embed(x)[0], atol=1e-5)
        one_f = m.embed(to_f32(x)[0])  # (C, H, W)
        np.testing.assert_allclose(one_f, one, atol=1e-4)
    with Model(**SMALL, stem="cifar", in_channels=1) as g:
        x = images_u8(3, 16, 16, 1)
        a = g.embed(x)                 # (N, H, W, 1)
        b = g.embed(x[..., 0])         # (N, H, W): C = 1
        c = g.embed(x[0])              # (H, W, 1): one image
        assert a.shape == b.shape == (3, 32) and c.shape == (1, 32)
        assert np.array_equal(a, b)
        np.testing.assert_allclose(c[0], a[0], atol=1e-5)


def test_embed_chunk_size_close_in_eval_mode(small_model):
    x = images_u8(5)
    ref = small_model.embed(x)
    for chunk in (1, 2, 3, 4, 5, 65536):
        np.testing.assert_allclose(small_model.embed(x, chunk=chunk), ref, rtol=0, atol=1e-5)
    assert np.array_equal(small_model.embed(x), ref)  # run to run: bit-identical


def test_embed_chunk_size_changes_eval_results_only_by_rounding(resnet18):
    # contrastive.h: results for different chunk sizes agree to float32 rounding (one GEMM
    # spans a chunk, so the last bits depend on its width); a fixed chunk is bit-identical.
    x = images_u8(4)
    ref = resnet18.embed(x)
    for chunk in (1, 2, 3):
        np.testing.assert_allclose(resnet18.embed(x, chunk=chunk), ref, rtol=1e-5, atol=1e-6)
        assert np.array_equal(resnet18.embed(x, chunk=chunk), resnet18.embed(x, chunk=chunk))


def test_train_mode_uses_batch_statistics_and_updates_running_stats():
    x = images_u8(4)
    with Model(**SMALL, head=dict(hidden=16, out=8, batch_norm=True)) as m:
        before = m.embed(x)
        assert m.train() is m and m.training
        t = m.embed(x)
        assert not np.allclose(t, before, atol=1e-4)  # batch statistics differ
        assert m.eval() is m and not m.training
        after = m.embed(x)
        assert not np.array_equal(after, before)  # running statistics were updated
        # Eval mode does not touch them.
        assert np.array_equal(m.embed(x), after)
        m.train(False)
        assert not m.training
        with pytest.raises(contrastive.InvalidArgumentError, match="training"):
            contrastive.check(lib.ctr_model_set_training(m._handle, 2))
        assert not m.training


def test_train_mode_changes_saved_buffers(tmp_path):
    with Model(**SMALL) as m:
        m.save(tmp_path / "a.safetensors")
        m.train().embed(images_u8(4))
        m.save(tmp_path / "b.safetensors")
    ha, off_a = read_header(tmp_path / "a.safetensors")
    hb, off_b = read_header(tmp_path / "b.safetensors")
    da = (tmp_path / "a.safetensors").read_bytes()[off_a:]
    db = (tmp_path / "b.safetensors").read_bytes()[off_b:]

    def tensor(h, data, name, dtype="<f4"):
        b, e = h[name]["data_offsets"]
        return np.frombuffer(data[b:e], dtype=dtype)

    assert np.array_equal(tensor(ha, da, "conv1.weight"), tensor(hb, db, "conv1.weight"))
    assert not np.array_equal(tensor(ha, da, "bn1.running_mean"), tensor(hb, db, "bn1.running_mean"))
    assert tensor(ha, da, "bn1.num_batches_tracked", "<i8")[0] == 0
    assert tensor(hb, db, "bn1.num_batches_tracked", "<i8")[0] == 1


def test_embed_errors(small_model):
    m = small_model
    x = images_u8(2)
    with pytest.raises(contrastive.NumericError, match="nan"):
        m.embed(np.full((1, 3, 32, 32), np.nan, dtype=np.float32))
    bad = to_f32(x)
    bad[1, 2, 5, 7] = np.inf
    with pytest.raises(contrastive.NumericError, match="image 1"):
        m.embed(bad)
    with pytest.raises(contrastive.ShapeMismatchError, match="channels"):
        m.embed(images_u8(2, 32, 32, 4))
    with pytest.raises(contrastive.ShapeMismatchError, match="channels"):
        m.embed(np.zeros((2, 1, 32, 32), np.float32))
    for empty in (np.zeros((0, 32, 32, 3), np.uint8), np.zeros((0, 3, 32, 32), np.float32)):
        with pytest.raises(contrastive.InvalidArgumentError, match="at least one image"):
            m.embed(empty)
    with pytest.raises(contrastive.InvalidArgumentError, match="projection head"):
        m.embed(x, output="projector")
    with pytest.raises(contrastive.InvalidArgumentError, match="output"):
        m.embed(x, output="logits")
    with pytest.raises(contrastive.InvalidArgumentError, match="chunk"):
        m.embed(x, chunk=0)
    with pytest.raises(contrastive.InvalidArgumentError, match="chunk"):
        m.embed(x, chunk=65537)
    with pytest.raises(contrastive.InvalidArgumentError, match="mean"):
        m.embed(x, mean=(0.5, 0.5))
    with pytest.raises(contrastive.InvalidArgumentError, match="std"):
        m.embed(x, std=0.5)
    with pytest.raises(contrastive.InvalidArgumentError, match="std > 0"):
        m.embed(x, std=(0.2, 0.0, 0.2))
    with pytest.raises(contrastive.InvalidArgumentError, match="finite"):
        m.embed(x, mean=(0.2, float("nan"), 0.2))
    with pytest.raises(contrastive.InvalidArgumentError, match="uint8 images only"):
        m.embed(to_f32(x), mean=CIFAR10_MEAN)
    for dtype in (np.int64, np.uint16, np.int8, bool):
        with pytest.raises(TypeError, match="dtype"):
            m.embed(np.zeros((1, 32, 32, 3), dtype=dtype))
    with pytest.raises(TypeError):
        m.embed([[1, 2], [3, 4]])
    with pytest.raises(contrastive.ShapeMismatchError):
        m.embed(np.zeros((32, 32), np.uint8))
    with pytest.raises(contrastive.ShapeMismatchError):
        m.embed(np.zeros((1, 1, 32, 32, 3), np.uint8))
    with Model("convnet", convnet_channels=(4, 8, 16)) as c:
        with pytest.raises(contrastive.ShapeMismatchError, match="too small"):
            c.embed(images_u8(2, 2, 2))
    # The model still works after all of that.
    assert m.embed(x).shape == (2, 32)


def test_embed_raw_buffer_too_small_leaves_out_untouched(small_model):
    x = images_u8(2)
    need = 2 * 32
    out = (ctypes.c_float * need)(*([7.0] * need))
    opts = embed_options()
    for capacity in (0, need - 1):
        contrastive.clear_error()
        st = lib.ctr_model_embed_u8(small_model._handle, u8_ptr(x), 2, 32, 32, 3,
                                    ctypes.byref(opts), out, capacity)
        assert st == Status.BUFFER_TOO_SMALL
        assert "ctr_model_embed_u8" in contrastive.last_error()
        assert list(out) == [7.0] * need
    xf = to_f32(x)
    st = lib.ctr_model_embed_f32(small_model._handle, f32_ptr(xf), 2, 3, 32, 32,
                                 ctypes.byref(opts), out, need - 1)
    assert st == Status.BUFFER_TOO_SMALL and list(out) == [7.0] * need
    # Exactly enough, NULL options (= defaults): OK.
    assert lib.ctr_model_embed_u8(small_model._handle, u8_ptr(x), 2, 32, 32, 3, None, out, need) == Status.OK
    assert np.array_equal(np.frombuffer(out, np.float32).reshape(2, 32), small_model.embed(x))


def test_embed_raw_null_and_bad_arguments(small_model):
    x = images_u8(2)
    out = (ctypes.c_float * 64)()
    h = small_model._handle
    cases = [
        (None, u8_ptr(x), 2, 32, 32, 3, None, out, 64),
        (h, None, 2, 32, 32, 3, None, out, 64),
        (h, u8_ptr(x), 2, 32, 32, 3, None, None, 64),
        (h, u8_ptr(x), -1, 32, 32, 3, None, out, 64),
        (h, u8_ptr(x), 2, 0, 32, 3, None, out, 64),
        (h, u8_ptr(x), 2, 32, -5, 3, None, out, 64),
        (h, u8_ptr(x), 2, 32, 32, 3, ctypes.byref(embed_options(normalize=2)), out, 64),
        (h, u8_ptr(x), 2, 32, 32, 3, ctypes.byref(embed_options(output=7)), out, 64),
        (h, u8_ptr(x), 2, 32, 32, 3, ctypes.byref(embed_options(struct_size=0)), out, 64),
    ]
    for args in cases:
        contrastive.clear_error()
        assert lib.ctr_model_embed_u8(*args) == Status.INVALID_ARGUMENT, args
        assert contrastive.last_error().startswith("ctr_model_embed_u8: ")


# ------------------------------------------------------------------------------------------
# Checkpoints
# ------------------------------------------------------------------------------------------

def test_save_load_round_trip(tmp_path):
    x = images_u8(3)
    path = tmp_path / "model.safetensors"
    with Model(**SMALL, head=dict(hidden=16, out=8), seed=5) as a, \
            Model(**SMALL, head=dict(hidden=16, out=8), seed=6) as b:
        a.train().embed(x)  # non-trivial running statistics
        a.eval()
        a.save(path)
        assert not np.array_equal(a.embed(x), b.embed(x))
        b.load(str(path))  # str and PathLike both work
        for output in ("backbone", "projector"):
            assert np.array_equal(a.embed(x, output=output), b.embed(x, output=output))
        b.load(path, strict=False)
        b.load(os.fsencode(str(path)))
    assert not list(tmp_path.glob("*.tmp-*"))  # the temporary file was renamed away


def test_checkpoint_header(resnet18, tmp_path):
    path = tmp_path / "r18.safetensors"
    resnet18.save(path)
    raw = path.read_bytes()
    header, data_start = read_header(path)
    assert data_start % 8 == 0  # data 8-byte aligned
    meta = header["__metadata__"]
    assert meta["arch"] == "resnet18" and meta["stem"] == "imagenet"
    assert meta["in_channels"] == "3"
    assert header["conv1.weight"] == {"dtype": "F32", "shape": [64, 3, 7, 7],
                                      "data_offsets": header["conv1.weight"]["data_offsets"]}
    assert header["bn1.num_batches_tracked"]["dtype"] == "I64"
    assert header["bn1.num_batches_tracked"]["shape"] == []
    assert header["layer1.0.conv1.weight"]["shape"] == [64, 64, 3, 3]
    assert header["layer2.0.downsample.0.weight"]["shape"] == [128, 64, 1, 1]
    assert "layer4.1.bn2.running_var" in header
    assert not any(k.startswith("fc.") for k in header)
    # Offsets tile the data exactly; the floats add up to params + buffers.
    spans = sorted(tuple(v["data_offsets"]) for k, v in header.items() if k != "__metadata__")
    assert spans[0][0] == 0 and all(p[1] == q[0] for p, q in zip(spans, spans[1:]))
    assert spans[-1][1] == len(raw) - data_start
    floats = sum(math.prod(v["shape"]) for k, v in header.items()
                 if k != "__metadata__" and v["dtype"] == "F32")
    i64 = sum(1 for k, v in header.items() if k != "__metadata__" and v["dtype"] == "I64")
    assert floats + i64 == resnet18.num_params + resnet18.num_buffers
    assert i64 == 20


def test_load_other_arch_fails_and_leaves_model_unchanged(tmp_path):
    path = tmp_path / "r18.safetensors"
    with Model("resnet18", width=0.0625) as r18:
        r18.save(path)
    with Model("resnet50", width=0.0625) as r50:
        x = images_u8(2)
        before = r50.embed(x)
        with pytest.raises(contrastive.FormatError) as info:
            r50.load(path)
        msg = info.value.message
        assert msg.startswith("ctr_model_load: ")
        assert "resnet18" in msg and "resnet50" in msg
        assert re.search(r"missing layer1\.0\.conv3\.weight", msg), msg
        assert np.array_equal(r50.embed(x), before)
        with pytest.raises(contrastive.FormatError):
            r50.load(path, strict=False)  # missing tensors are an error either way
        assert np.array_equal(r50.embed(x), before)


def test_strict_and_non_strict_load(tmp_path):
    path = tmp_path / "with_head.safetensors"
    x = images_u8(2)
    with Model(**SMALL, head=dict(hidden=16, out=8), seed=1) as headed, Model(**SMALL, seed=2) as plain:
        headed.save(path)
        before = plain.embed(x)
        with pytest.raises(contrastive.FormatError, match="unexpected projector.0.weight"):
            plain.load(path)  # strict=True by default
        assert np.array_equal(plain.embed(x), before)
        plain.load(path, strict=False)
        assert np.array_equal(plain.embed(x), headed.embed(x))
        # The other way round the head's tensors are missing: an error even when not strict.
        plain.save(tmp_path / "plain.safetensors")
        with pytest.raises(contrastive.FormatError, match="missing projector.0.weight"):
            headed.load(tmp_path / "plain.safetensors", strict=False)


def test_load_other_channels_or_width_fails(tmp_path):
    with Model(**SMALL, in_channels=1) as m:
        m.save(tmp_path / "c1.safetensors")
    with Model(**SMALL) as m:
        with pytest.raises(contrastive.FormatError, match=r"conv1\.weight has shape \[4, 1, 7, 7\]"):
            m.load(tmp_path / "c1.safetensors")
    with Model("resnet18", width=0.125) as m:
        with pytest.raises(contrastive.FormatError, match="shape"):
            m.load(tmp_path / "c1.safetensors", strict=False)


def test_load_nan_checkpoint_raises_numeric(tmp_path, small_model):
    path = tmp_path / "nan.safetensors"
    small_model.save(path)
    header, start = read_header(path)
    data = bytearray(path.read_bytes())
    b, _ = header["layer3.1.conv2.weight"]["data_offsets"]
    data[start + b + 4:start + b + 8] = struct.pack("<f", float("nan"))
    path.write_bytes(bytes(data))
    x = images_u8(2)
    before = small_model.embed(x)
    with pytest.raises(contrastive.NumericError, match="layer3.1.conv2.weight"):
        small_model.load(path)
    assert np.array_equal(small_model.embed(x), before)


def test_truncated_checkpoint_never_loads(tmp_path, small_model):
    path = tmp_path / "full.safetensors"
    with Model(**SMALL, head=dict(hidden=16, out=8), seed=9) as src:
        src.save(path)
    full = path.read_bytes()
    _, data_start = read_header(path)
    size = len(full)
    # ~30 cuts: the length field, inside the JSON header, at its end, throughout the data.
    cuts = {0, 1, 7, 8, 9, 20, data_start // 2, data_start - 9, data_start - 1, data_start,
            data_start + 1, data_start + 3, size - 8, size - 1}
    cuts |= {data_start + (size - data_start) * k // 16 for k in range(1, 16)}
    cuts |= {8 + (data_start - 8) * k // 5 for k in range(1, 5)}
    assert len(cuts) >= 30
    x = images_u8(2)
    before = small_model.embed(x)
    cut_path = tmp_path / "cut.safetensors"
    small_model_ckpt = Model(**SMALL, head=dict(hidden=16, out=8), seed=10)
    ref = small_model_ckpt.embed(x)
    for cut in sorted(cuts):
        assert 0 <= cut < size
        cut_path.write_bytes(full[:cut])
        for model, strict in ((small_model_ckpt, True), (small_model, False)):
            with pytest.raises((contrastive.FormatError, contrastive.ContrastiveIOError)) as info:
                model.load(cut_path, strict=strict)
            assert info.value.message.startswith("ctr_model_load: "), cut
    assert np.array_equal(small_model.embed(x), before)
    assert np.array_equal(small_model_ckpt.embed(x), ref)
    small_model_ckpt.load(path)  # the full file still loads
    small_model_ckpt.close()


@pytest.mark.parametrize("length", [2**62, 2**64 - 1, 2**63, 0, 1, (100 << 20) + 1])
def test_hostile_header_length(tmp_path, small_model, length):
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(struct.pack("<Q", length) + b'{"a": 1}' + b"\0" * 64)
    with pytest.raises(contrastive.FormatError, match="header length"):
        small_model.load(path)


@pytest.mark.parametrize("content", [
    b"",
    b"garbage, not a safetensors file at all",
    struct.pack("<Q", 2) + b"{}",  # a valid empty file: every tensor is missing
    struct.pack("<Q", 8) + b"[1,2,3] ",
    struct.pack("<Q", 60) + b'{"conv1.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}'[:60],
])
def test_malformed_checkpoint(tmp_path, small_model, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(contrastive.FormatError):
        small_model.load(path)


def test_load_and_save_io_errors(tmp_path, small_model):
    with pytest.raises(contrastive.ContrastiveIOError, match="No such file") as info:
        small_model.load(tmp_path / "does-not-exist.safetensors")
    assert isinstance(info.value, OSError)
    with pytest.raises(contrastive.ContrastiveIOError, match="not a regular file"):
        small_model.load(tmp_path)
    with pytest.raises(contrastive.ContrastiveIOError):
        small_model.save(tmp_path / "no" / "such" / "dir" / "m.safetensors")
    # Saving over a directory fails and leaves it alone.
    (tmp_path / "adir").mkdir()
    with pytest.raises(contrastive.ContrastiveIOError):
        small_model.save(tmp_path / "adir")
    assert (tmp_path / "adir").is_dir()
    with pytest.raises(contrastive.InvalidArgumentError, match="NUL"):
        small_model.save(str(tmp_path / "a\0b"))
    with pytest.raises(contrastive.InvalidArgumentError, match="NUL"):
        small_model.load(str(tmp_path / "a\0b"))
    with pytest.raises(contrastive.InvalidArgumentError, match="empty"):
        small_model.load("")
    assert not (tmp_path / "a").exists()


def test_failed_save_keeps_existing_file(tmp_path, small_model):
    path = tmp_path / "keep.safetensors"
    small_model.save(path)
    original = path.read_bytes()
    with Model(**SMALL, seed=99) as other:
        if os.geteuid() != 0:
            os.chmod(tmp_path, 0o500)  # no new files in the folder: no temporary file
            try:
                with pytest.raises(contrastive.ContrastiveIOError):
                    other.save(path)
            finally:
                os.chmod(tmp_path, 0o700)
        else:
            # Root ignores directory modes. White-box instead: occupy the temporary file's
            # name (<path>.tmp-<pid>) with a directory so it cannot be created.
            blocker = tmp_path / f"keep.safetensors.tmp-{os.getpid()}"
            blocker.mkdir()
            try:
                other.save(path)
            except contrastive.ContrastiveIOError as exc:
                assert str(blocker) in exc.message
            else:
                pytest.skip("the library names its temporary file differently")
            finally:
                blocker.rmdir()
    assert path.read_bytes() == original


# ------------------------------------------------------------------------------------------
# Threads
# ------------------------------------------------------------------------------------------

def test_shared_model_from_two_threads(small_model):
    x = images_u8(3)
    ref = small_model.embed(x)
    results, errors = [], []

    def worker():
        try:
            for _ in range(5):
                results.append(np.array_equal(small_model.embed(x), ref))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [True] * 10


# ------------------------------------------------------------------------------------------
# Struct layout against the C compiler
# ------------------------------------------------------------------------------------------

def test_struct_layout_matches_c(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    if not (INCLUDE_DIR / "contrastive.h").exists():
        pytest.skip("include/contrastive.h not found (binding installed outside the repo)")
    structs = {"ctr_model_options": _ffi.CtrModelOptions, "ctr_embed_options": _ffi.CtrEmbedOptions}
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "contrastive.h"',
             "int main(void) {"]
    for cname, cls in structs.items():
        lines.append(f'    printf("{cname} sizeof %zu\\n", sizeof({cname}));')
        lines.append(f'    printf("{cname} alignof %zu\\n", offsetof(struct {{ char c; {cname} s; }}, s));')
        for field, *_ in cls._fields_:
            lines.append(f'    printf("{cname} {field} %zu\\n", offsetof({cname}, {field}));')
    lines.append(f'    printf("max_stages %d\\n", CTR_CONVNET_MAX_STAGES);')
    lines += ["    return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c99", "-Wall", "-Werror", f"-I{INCLUDE_DIR}", str(src), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    c_layout = {}
    for line in out.splitlines():
        *key, value = line.split()
        c_layout[tuple(key)] = int(value)
    assert c_layout[("max_stages",)] == _ffi.CTR_CONVNET_MAX_STAGES
    for cname, cls in structs.items():
        assert c_layout[(cname, "sizeof")] == ctypes.sizeof(cls)
        assert c_layout[(cname, "alignof")] == ctypes.alignment(cls)
        for field, *_ in cls._fields_:
            assert c_layout[(cname, field)] == getattr(cls, field).offset, (cname, field)
    assert ctypes.sizeof(_ffi.CtrModelOptions) == 120
    assert ctypes.sizeof(_ffi.CtrEmbedOptions) == 32
