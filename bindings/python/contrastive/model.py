"""Models: a backbone (ResNet or ConvNet) with an optional MLP projection head.

A :class:`Model` owns one ``ctr_model`` handle (see the "Models" section of
include/contrastive.h)::

    from contrastive import Model

    with Model("resnet18", stem="cifar", head=dict(layers=2, hidden=2048, out=128), seed=42) as m:
        z = m.embed(images_uint8_nhwc, output="projector", normalize=True,
                    mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616))
        m.save("simclr.safetensors")

Checkpoints are safetensors files with torchvision's ``state_dict`` names, so a ResNet
checkpoint loads into ``torchvision.models.resnet18()`` (with ``fc = nn.Identity()``).

:meth:`Model.embed` needs numpy; creating, saving and loading models do not.
"""

from __future__ import annotations

import ctypes
import os
import threading
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

from . import _ffi
from .errors import InvalidArgumentError, ShapeMismatchError, check

try:  # numpy is an optional dependency of the package; only embed() needs it.
    import numpy as np
except ImportError:  # pragma: no cover - exercised only without numpy
    np = None  # type: ignore[assignment]

__all__ = ["Model", "ARCHS", "STEMS", "OUTPUTS"]

#: Architecture names and their ``ctr_arch`` values.
ARCHS: Dict[str, int] = {
    "resnet18": 18,
    "resnet34": 34,
    "resnet50": 50,
    "resnet101": 101,
    "resnet152": 152,
    "convnet": 1,
}

#: ResNet stems and their ``ctr_stem`` values.
STEMS: Dict[str, int] = {"imagenet": 0, "cifar": 1}

#: ``ctr_embed_output`` values.
OUTPUTS: Dict[str, int] = {"backbone": 0, "projector": 1}

#: Defaults of the ``head`` dict (the header's defaults, with two layers).
HEAD_DEFAULTS: Dict[str, Any] = {
    "layers": 2,
    "hidden": 2048,
    "out": 128,
    "batch_norm": False,
    "last_batch_norm": False,
}

PathArg = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

_lib = _ffi.lib


def _int32(value: Any, name: str) -> int:
    """An int that fits int32_t (ctypes would silently wrap larger values)."""
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = _as_int(value)
        except TypeError:
            raise TypeError(f"{name} must be an int, got {type(value).__name__}") from None
    if not -(2**31) <= value < 2**31:
        raise InvalidArgumentError(f"{name} = {value} does not fit in int32_t")
    return int(value)


def _as_int(value: Any) -> int:
    """int(value) for ints and integer-like objects (numpy integers), refusing floats/bools."""
    if isinstance(value, bool):
        raise TypeError
    if hasattr(value, "__index__"):
        return int(value.__index__())
    raise TypeError


def _enum(value: Union[str, int], table: Mapping[str, int], name: str) -> int:
    """A name from `table`, or a raw int passed through for the library to validate."""
    if isinstance(value, str):
        try:
            return table[value.lower()]
        except KeyError:
            raise InvalidArgumentError(
                f"{name} {value!r} is not one of {', '.join(repr(k) for k in table)}"
            ) from None
    return _int32(value, name)


def _path(path: PathArg, name: str = "path") -> bytes:
    """A file-system path as the bytes the C library gets; NUL bytes are refused
    (c_char_p would silently cut the path at the first one)."""
    raw = os.fsencode(os.fspath(path))
    if b"\0" in raw:
        raise InvalidArgumentError(f"{name} contains a NUL byte: {path!r}")
    return raw


class Model:
    """A backbone with an optional projection head, owning a ``ctr_model`` handle.

    Args:
        arch: ``"resnet18"``, ``"resnet34"``, ``"resnet50"``, ``"resnet101"``,
            ``"resnet152"`` or ``"convnet"`` (or the raw ``ctr_arch`` value).
        stem: ResNet stem, ``"imagenet"`` (7x7/2 conv + max-pool) or ``"cifar"`` (3x3/1 conv).
        in_channels: image channels (1..4096).
        width: ResNet channel multiplier (1/16..16).
        zero_init_residual: zero the last BN gamma of each residual branch.
        convnet_channels: ConvNet channels per stage (1..16 stages).
        head: ``None`` for no projection head, or a dict with any of ``layers`` (2),
            ``hidden`` (2048), ``out`` (128), ``batch_norm`` (False), ``last_batch_norm`` (False).
        seed: initialisation seed (0..2**64-1).

    A new model is in eval mode. Invalid options raise :class:`InvalidArgumentError` with the
    library's message. Release the handle with :meth:`close` or a ``with`` block (it is also
    released when the object is garbage collected). Calls on one model are serialised by a
    lock, so a model may be shared between threads (the C API allows one thread at a time).
    """

    def __init__(
        self,
        arch: Union[str, int] = "resnet18",
        stem: Union[str, int] = "imagenet",
        in_channels: int = 3,
        width: float = 1.0,
        zero_init_residual: bool = False,
        convnet_channels: Sequence[int] = (32, 64, 128, 256),
        head: Optional[Mapping[str, Any]] = None,
        seed: int = 0,
    ) -> None:
        self._handle: Optional[ctypes.c_void_p] = None
        self._lock = threading.RLock()

        opts = _ffi.CtrModelOptions()
        _lib.ctr_model_options_default(ctypes.byref(opts))
        opts.arch = _enum(arch, ARCHS, "arch")
        opts.stem = _enum(stem, STEMS, "stem")
        opts.in_channels = _int32(in_channels, "in_channels")
        try:
            opts.width = float(width)
        except (TypeError, ValueError):
            raise TypeError(f"width must be a number, got {type(width).__name__}") from None
        opts.zero_init_residual = 1 if zero_init_residual else 0

        channels = [_int32(c, "convnet_channels[i]") for c in convnet_channels]
        if len(channels) > _ffi.CTR_CONVNET_MAX_STAGES:
            raise InvalidArgumentError(
                f"convnet_channels has {len(channels)} stages, at most "
                f"{_ffi.CTR_CONVNET_MAX_STAGES} are supported"
            )
        opts.convnet_stages = len(channels)
        for i in range(_ffi.CTR_CONVNET_MAX_STAGES):
            opts.convnet_channels[i] = channels[i] if i < len(channels) else 0

        head_cfg: Optional[Dict[str, Any]] = None
        if head is not None:
            if not isinstance(head, Mapping):
                raise TypeError(f"head must be None or a dict, got {type(head).__name__}")
            unknown = set(head) - set(HEAD_DEFAULTS)
            if unknown:
                raise TypeError(
                    f"unknown head option(s) {', '.join(sorted(map(repr, unknown)))}; "
                    f"expected {', '.join(HEAD_DEFAULTS)}"
                )
            head_cfg = {**HEAD_DEFAULTS, **head}
            opts.head_layers = _int32(head_cfg["layers"], "head['layers']")
            opts.head_hidden = _int32(head_cfg["hidden"], "head['hidden']")
            opts.head_out = _int32(head_cfg["out"], "head['out']")
            opts.head_batch_norm = 1 if head_cfg["batch_norm"] else 0
            opts.head_last_batch_norm = 1 if head_cfg["last_batch_norm"] else 0
        else:
            opts.head_layers = 0

        seed = _as_seed(seed)
        opts.seed = seed

        handle = ctypes.c_void_p()
        check(_lib.ctr_model_create(ctypes.byref(opts), ctypes.byref(handle)))
        self._handle = handle
        self._training = False
        self._in_channels = int(opts.in_channels)
        self._has_head = opts.head_layers > 0
        self._config = {
            "arch": arch,
            "stem": stem,
            "in_channels": self._in_channels,
            "width": float(opts.width),
            "zero_init_residual": bool(opts.zero_init_residual),
            "convnet_channels": tuple(channels),
            "head": head_cfg if self._has_head else None,
            "seed": seed,
        }

    def finetune(self, train, test, *, epochs: int = 5, batch_size: int = 256, lr: float = 0.05, momentum: float = 0.9,
                 weight_decay: float = 5e-4, freeze_backbone: bool = False, seed: int = 0) -> Dict[str, Any]:
        """Transfer by fine-tuning: this backbone + a new linear classifier trained on the labelled
        ``train`` dataset, evaluated on ``test``; the weights change in place. Returns
        ``{"top1", "top5", "train_loss", "steps"}``."""
        from . import _ffi_train as _t
        o = _t.CtrFinetuneOptions()
        _lib.ctr_finetune_options_default(ctypes.byref(o))
        o.epochs, o.batch_size, o.learning_rate, o.momentum = int(epochs), int(batch_size), float(lr), float(momentum)
        o.weight_decay, o.freeze_backbone, o.seed = float(weight_decay), 1 if freeze_backbone else 0, _as_seed(seed)
        r = _t.CtrFinetuneResult()
        r.struct_size = ctypes.sizeof(r)
        with self._lock:
            check(_lib.ctr_model_finetune(self._require(), train._h, test._h, ctypes.byref(o), ctypes.byref(r)))
        return {"top1": r.top1, "top5": r.top5, "train_loss": r.train_loss, "steps": r.steps}

    @classmethod
    def _from_handle(cls, handle: ctypes.c_void_p, config: Dict[str, Any]) -> "Model":
        """Wrap a ``ctr_model`` handle made by the library (e.g. a trainer's encoder)."""
        m = cls.__new__(cls)
        m._lock = threading.RLock()
        m._handle = handle
        m._training = False
        m._in_channels = int(config.get("in_channels", 3))
        head = ctypes.c_int32(0)
        m._has_head = _lib.ctr_model_output_dim(handle, OUTPUTS["projector"], ctypes.byref(head)) == 0
        m._config = config
        return m

    # ------------------------------------------------------------------------------------
    # Lifetime
    # ------------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the handle (idempotent). The model is unusable afterwards."""
        lock = getattr(self, "_lock", None)
        if lock is None:  # __init__ failed before the lock existed
            return
        with lock:
            handle, self._handle = getattr(self, "_handle", None), None
            if handle is not None and handle.value:
                _lib.ctr_model_free(handle)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 — interpreter shutdown: the library may be gone
            pass

    def __enter__(self) -> "Model":
        self._require()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._handle is None

    def _require(self) -> ctypes.c_void_p:
        handle = self._handle
        if handle is None:
            raise InvalidArgumentError("the model is closed")
        return handle

    def __repr__(self) -> str:
        if self._handle is None:
            return "<contrastive.Model (closed)>"
        c = self._config
        parts = [f"arch={c['arch']!r}"]
        if _enum(c["arch"], ARCHS, "arch") == 1:
            parts.append(f"convnet_channels={c['convnet_channels']}")
        else:
            parts.append(f"stem={c['stem']!r}")
        parts.append(f"in_channels={c['in_channels']}")
        if c["head"]:
            parts.append(f"head={c['head']}")
        parts.append(f"feature_dim={self.feature_dim}")
        parts.append("training" if self._training else "eval")
        return f"<contrastive.Model {' '.join(parts)}>"

    # ------------------------------------------------------------------------------------
    # Sizes and mode
    # ------------------------------------------------------------------------------------

    @property
    def config(self) -> Dict[str, Any]:
        """The options the model was created with (a copy)."""
        return dict(self._config)

    @property
    def in_channels(self) -> int:
        """Image channels the model expects."""
        return self._in_channels

    def _output_dim(self, output: int) -> int:
        dim = ctypes.c_int32(0)
        with self._lock:
            check(_lib.ctr_model_output_dim(self._require(), output, ctypes.byref(dim)))
        return int(dim.value)

    @property
    def feature_dim(self) -> int:
        """Dimension of the pooled backbone features (512 for ResNet-18, 2048 for -50)."""
        return self._output_dim(OUTPUTS["backbone"])

    @property
    def projection_dim(self) -> Optional[int]:
        """Output dimension of the projection head, or None without a head."""
        if not self._has_head:
            self._require()
            return None
        return self._output_dim(OUTPUTS["projector"])

    def _counts(self) -> Tuple[int, int]:
        count, buffers = ctypes.c_int64(0), ctypes.c_int64(0)
        with self._lock:
            check(_lib.ctr_model_num_params(self._require(), ctypes.byref(count), ctypes.byref(buffers)))
        return int(count.value), int(buffers.value)

    @property
    def num_params(self) -> int:
        """Number of trainable parameters (11,176,512 for a 3-channel ResNet-18)."""
        return self._counts()[0]

    @property
    def num_buffers(self) -> int:
        """Number of buffer values (BN running statistics and num_batches_tracked)."""
        return self._counts()[1]

    @property
    def training(self) -> bool:
        """True in training mode (batch statistics in BN), False in eval mode."""
        self._require()
        return self._training

    def train(self, mode: bool = True) -> "Model":
        """Switch to training mode (or eval mode with ``mode=False``); returns self.

        In training mode BN uses batch statistics and :meth:`embed` updates the running
        statistics, as in PyTorch.
        """
        flag = 1 if mode else 0
        with self._lock:
            check(_lib.ctr_model_set_training(self._require(), flag))
            self._training = bool(flag)
        return self

    def eval(self) -> "Model":
        """Switch to eval mode (running statistics in BN); returns self."""
        return self.train(False)

    # ------------------------------------------------------------------------------------
    # Checkpoints
    # ------------------------------------------------------------------------------------

    def save(self, path: PathArg) -> None:
        """Save all weights and buffers as a safetensors file, atomically.

        Raises ContrastiveIOError when the file cannot be written (an existing file at
        ``path`` is then left intact).
        """
        raw = _path(path)
        with self._lock:
            check(_lib.ctr_model_save(self._require(), raw))

    def load(self, path: PathArg, strict: bool = True) -> None:
        """Load weights from a safetensors file (ours or a torchvision state_dict).

        With ``strict`` tensors the model does not have are an error, otherwise ignored.
        Raises ContrastiveIOError (cannot read), FormatError (malformed file or another
        architecture; the message names the offending tensors) or NumericError (NaN/Inf
        values). On failure the model is unchanged.
        """
        raw = _path(path)
        with self._lock:
            check(_lib.ctr_model_load(self._require(), raw, 1 if strict else 0))

    # ------------------------------------------------------------------------------------
    # Embedding
    # ------------------------------------------------------------------------------------

    def embed(
        self,
        images: Any,
        output: Union[str, int] = "backbone",
        normalize: bool = False,
        mean: Optional[Sequence[float]] = None,
        std: Optional[Sequence[float]] = None,
        chunk: int = 128,
    ) -> "np.ndarray":
        """Embed a batch of images; returns a float32 array of shape (N, D).

        ``images`` is either

        * uint8, interleaved: (N, H, W, C); (H, W, C) for one image; or (N, H, W) for
          single-channel images (when the model has one input channel). They are normalised
          inside as ``(v / 255 - mean[c]) / std[c]`` with ``mean`` (default 0) and ``std``
          (default 1) given as C values in [0, 1] units; or
        * floating point, planar and already normalised: (N, C, H, W), or (C, H, W) for one
          image. It is converted to contiguous float32; ``mean``/``std`` are not accepted.

        ``output`` is ``"backbone"`` (pooled features) or ``"projector"`` (needs a head);
        ``normalize`` L2-normalises each row; ``chunk`` images go through each internal
        forward pass (bounds memory; in eval mode it does not change the results).

        Raises TypeError for other dtypes, ShapeMismatchError for a wrong channel count or
        images too small for the backbone, NumericError for NaN/Inf input, and
        InvalidArgumentError for bad options or an empty batch.
        """
        if np is None:  # pragma: no cover
            raise ImportError("Model.embed needs numpy (pip install numpy)")
        out_code = _enum(output, OUTPUTS, "output")
        chunk = _int32(chunk, "chunk")
        arr = np.asarray(images)

        opts = _ffi.CtrEmbedOptions()
        _lib.ctr_embed_options_default(ctypes.byref(opts))
        opts.output = out_code
        opts.normalize = 1 if normalize else 0
        opts.chunk = chunk

        if arr.dtype == np.uint8:
            if arr.ndim == 3:
                if self._in_channels == 1 and arr.shape[-1] != 1:
                    arr = arr[..., np.newaxis]  # (N, H, W) single-channel images
                else:
                    arr = arr[np.newaxis]  # one (H, W, C) image
            if arr.ndim != 4:
                raise ShapeMismatchError(
                    f"uint8 images must be (N, H, W, C), (H, W, C) or (N, H, W); got shape {arr.shape}"
                )
            n, h, w, c = arr.shape
            arr = np.ascontiguousarray(arr)
            # The library reads `channels` floats from each pointer: the arrays must hold
            # exactly that many, and stay alive (local variables) until the call returns.
            mean_arr = self._per_channel(mean, c, "mean")
            std_arr = self._per_channel(std, c, "std")
            if mean_arr is not None:
                opts.mean = mean_arr.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            if std_arr is not None:
                opts.std = std_arr.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            fn = _lib.ctr_model_embed_u8
            data = arr.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
            dims = (_int64(n), _int32(h, "height"), _int32(w, "width"), _int32(c, "channels"))
        elif np.issubdtype(arr.dtype, np.floating):
            if mean is not None or std is not None:
                raise InvalidArgumentError(
                    "mean/std apply to uint8 images only; normalise float images before embedding"
                )
            if arr.ndim == 3:
                arr = arr[np.newaxis]  # one (C, H, W) image
            if arr.ndim != 4:
                raise ShapeMismatchError(
                    f"float images must be (N, C, H, W) or (C, H, W); got shape {arr.shape}"
                )
            arr = np.ascontiguousarray(arr, dtype=np.float32)
            n, c, h, w = arr.shape
            fn = _lib.ctr_model_embed_f32
            data = arr.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            dims = (_int64(n), _int32(c, "channels"), _int32(h, "height"), _int32(w, "width"))
        else:
            raise TypeError(
                f"images must be uint8 (N, H, W, C) or floating point (N, C, H, W), got dtype {arr.dtype}"
            )

        with self._lock:
            handle = self._require()
            if n < 1:
                dim = 1  # let the library report the empty batch with its own message
            else:
                dim = self._output_dim(out_code)
            out = np.empty((max(n, 0), dim), dtype=np.float32)
            # An empty out array may have a dangling data pointer; give the library a real one.
            keep = out if out.size else np.empty(1, dtype=np.float32)
            out_ptr = keep.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            check(fn(handle, data, *dims, ctypes.byref(opts), out_ptr, out.size))
        return out

    @staticmethod
    def _per_channel(values: Optional[Sequence[float]], channels: int, name: str) -> Optional["np.ndarray"]:
        if values is None:
            return None
        arr = np.ascontiguousarray(values, dtype=np.float32)
        if arr.ndim == 0:
            raise InvalidArgumentError(f"{name} must be a sequence of {channels} values, got a scalar")
        if arr.ndim != 1 or arr.shape[0] != channels:
            raise InvalidArgumentError(
                f"{name} must hold one value per channel ({channels}), got shape {arr.shape}"
            )
        return arr


def _int64(value: Any) -> int:
    value = int(value)
    if not -(2**63) <= value < 2**63:
        raise InvalidArgumentError(f"{value} does not fit in int64_t")
    return value


def _as_seed(seed: Any) -> int:
    try:
        seed = _as_int(seed)
    except TypeError:
        raise TypeError(f"seed must be an int, got {type(seed).__name__}") from None
    if not 0 <= seed < 2**64:
        raise InvalidArgumentError(f"seed = {seed} outside 0..2**64-1")
    return seed
