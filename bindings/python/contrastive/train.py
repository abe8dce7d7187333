"""Self-supervised pre-training: :class:`Trainer` owns a ``ctr_trainer`` handle.

    import contrastive, contrastive.datasets as cds
    data = cds.load_idx(".../train-images-idx3-ubyte.gz", ".../train-labels-idx1-ubyte.gz")
    train, val = data.split(0.1, seed=0)
    t = contrastive.Trainer(train, val, method="simclr", epochs=5, batch_size=256,
                            model=dict(arch="convnet", in_channels=1, head=dict(hidden=512, out=128)))
    for epoch in t.fit(lambda step, epoch: print(step["loss"])):   # or: for step in t.steps(): ...
        ...
    t.save("run.safetensors"); t.export_encoder("encoder.safetensors")
    feats = t.embed(val)          # (len(val), 256) float32, eval transform

Options not named in the signature go through ``**options`` with the C field names
(``temperature``, ``queue_size``, ``tau_base``, ``accumulation``, ``warmup_epochs``, ...).
"""
from __future__ import annotations

import ctypes
import os
import threading
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Union

from . import _ffi
from . import _ffi_train as _t
from .errors import InvalidArgumentError, check
from .model import ARCHS, HEAD_DEFAULTS, STEMS, Model, _enum

_lib = _ffi.lib

METHODS = {"simclr": 0, "mocov2": 1, "byol": 2, "swav": 3, "simsiam": 4, "barlow": 5, "vicreg": 6, "nnclr": 7, "supcon": 8}
OPTIMIZERS = {"default": 0, "sgd": 1, "lars": 2, "adamw": 3}
SCHEDULES = {"cosine": 0, "constant": 1, "step": 2}
LR_SCALINGS = {"none": 0, "linear": 1, "sqrt": 2}
NONFINITE = {"skip": 0, "stop": 1}
_ENUM_OPTIONS = {"schedule": SCHEDULES, "lr_scaling": LR_SCALINGS, "nonfinite": NONFINITE}


def _struct_dict(s: ctypes.Structure) -> Dict[str, Any]:
    return {name: getattr(s, name) for name, _ in s._fields_ if name != "struct_size"}


def _step_dict(m: _t.CtrStepMetrics) -> Dict[str, Any]:
    d = _struct_dict(m)
    d["skipped"], d["ended_epoch"] = bool(d["skipped"]), bool(d["ended_epoch"])
    return d


class Trainer:
    """Pre-train an encoder with a self-supervised method on a :class:`contrastive.datasets.Dataset`.

    Args:
        train: the training dataset, or None for :meth:`step` with your own batches
            (then give ``image_size``).
        validation: a labelled dataset of the same image size for online kNN, or None.
        method: ``"simclr"``, ``"mocov2"``, ``"byol"``, ``"swav"``, ``"simsiam"``,
            ``"barlow"``, ``"vicreg"``, ``"nnclr"`` or ``"supcon"``.
        model: :class:`Model` arguments (``arch``, ``stem``, ``in_channels``, ``width``,
            ``convnet_channels``, ``head``, ``seed``); default ResNet-18 with the CIFAR stem
            and the method's projection head.
        augment: a preset name (``"simclr-cifar"``, ...) or a pipeline description; None =
            the method's preset.
        optimizer: ``"sgd"``, ``"lars"``, ``"adamw"`` or None for the method's.
        lr, weight_decay: None = the method's recipe.
        progress: print a progress line with ETA to stderr during :meth:`fit`.
        options: any other ``ctr_trainer_options`` field by name.
    """

    def __init__(self, train=None, validation=None, *, method: str = "simclr", model: Optional[Mapping[str, Any]] = None,
                 epochs: int = 10, batch_size: int = 256, seed: int = 0, augment: Optional[str] = None,
                 optimizer: Optional[str] = None, lr: Optional[float] = None, weight_decay: Optional[float] = None,
                 image_size: Optional[int] = None, progress: bool = False, **options: Any) -> None:
        self._h: Optional[ctypes.c_void_p] = None
        self._lock = threading.RLock()
        o = _t.CtrTrainerOptions()
        _lib.ctr_trainer_options_default(ctypes.byref(o))
        o.method = _enum(method, METHODS, "method")
        self._model_config = self._fill_model(o, dict(model or {}))
        self._keep = []                      # bytes objects the struct points to
        if augment is not None:
            raw = os.fsencode(augment) if isinstance(augment, str) else bytes(augment)
            self._keep.append(raw)
            if b"view" in raw or b"\n" in raw or b";" in raw:
                o.augment_description = raw
            else:
                o.augment_preset = raw
        o.epochs, o.batch_size, o.seed = int(epochs), int(batch_size), int(seed)
        if optimizer is not None:
            o.optimizer = _enum(optimizer, OPTIMIZERS, "optimizer")
        if lr is not None:
            o.learning_rate = float(lr)
        if weight_decay is not None:
            o.weight_decay = float(weight_decay)
        if image_size is not None:
            o.image_height = o.image_width = int(image_size)
        o.progress = 1 if progress else 0
        fields = {name for name, _ in o._fields_}
        for k, v in options.items():
            if k == "step_milestones":
                ms = list(v)
                if len(ms) > _t.CTR_MAX_MILESTONES:
                    raise InvalidArgumentError(0, f"at most {_t.CTR_MAX_MILESTONES} milestones")
                o.num_milestones = len(ms)
                for i, m in enumerate(ms):
                    o.step_milestones[i] = int(m)
            elif k in _ENUM_OPTIONS:
                setattr(o, k, _enum(v, _ENUM_OPTIONS[k], k))
            elif k in fields and k not in ("struct_size", "model", "augment_preset", "augment_description"):
                setattr(o, k, int(v) if isinstance(v, bool) else v)
            else:
                raise TypeError(f"unknown trainer option {k!r}")
        self.method = method
        self._train, self._validation = train, validation
        h = ctypes.c_void_p()
        check(_lib.ctr_trainer_create(ctypes.byref(o), train._h if train is not None else None,
                                      validation._h if validation is not None else None, ctypes.byref(h)))
        self._h = h

    @staticmethod
    def _fill_model(o: _t.CtrTrainerOptions, m: Dict[str, Any]) -> Dict[str, Any]:
        mo = o.model
        unknown = set(m) - {"arch", "stem", "in_channels", "width", "zero_init_residual", "convnet_channels", "head", "seed"}
        if unknown:
            raise TypeError(f"unknown model option(s) {sorted(unknown)}")
        if "arch" in m:
            mo.arch = _enum(m["arch"], ARCHS, "arch")
        if "stem" in m:
            mo.stem = _enum(m["stem"], STEMS, "stem")
        if "in_channels" in m:
            mo.in_channels = int(m["in_channels"])
        if "width" in m:
            mo.width = float(m["width"])
        mo.zero_init_residual = 1 if m.get("zero_init_residual") else 0
        if "convnet_channels" in m:
            ch = [int(c) for c in m["convnet_channels"]]
            if not 1 <= len(ch) <= _ffi.CTR_CONVNET_MAX_STAGES:
                raise InvalidArgumentError(0, f"convnet_channels needs 1..{_ffi.CTR_CONVNET_MAX_STAGES} stages")
            mo.convnet_stages = len(ch)
            for i in range(_ffi.CTR_CONVNET_MAX_STAGES):
                mo.convnet_channels[i] = ch[i] if i < len(ch) else 0
        head = m.get("head")
        if head:
            h = {**HEAD_DEFAULTS, **head}
            mo.head_layers, mo.head_hidden, mo.head_out = int(h["layers"]), int(h["hidden"]), int(h["out"])
            mo.head_batch_norm, mo.head_last_batch_norm = int(bool(h["batch_norm"])), int(bool(h["last_batch_norm"]))
        if "seed" in m:
            mo.seed = int(m["seed"])
        return m

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release the handle (idempotent)."""
        with self._lock:
            if self._h is not None:
                _lib.ctr_trainer_free(self._h)
                self._h = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> "Trainer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _require(self) -> ctypes.c_void_p:
        if self._h is None:
            raise InvalidArgumentError(0, "the trainer is closed")
        return self._h

    # -- training ---------------------------------------------------------------------------
    def fit(self, callback: Optional[Callable[[Dict[str, Any], Optional[Dict[str, Any]]], Any]] = None) -> List[Dict[str, Any]]:
        """Train to the configured epochs (or continue). ``callback(step, epoch)`` gets a dict
        per step (``epoch`` is a dict at the end of an epoch, else None); returning False
        cancels (:class:`contrastive.CancelledError`; the trainer stays resumable). An exception
        in the callback cancels and is re-raised. Returns :attr:`history`."""
        error: List[BaseException] = []

        def trampoline(step_p, epoch_p, _user):
            try:
                if callback is None:
                    return 0
                step = _step_dict(step_p.contents)
                epoch = _struct_dict(epoch_p.contents) if epoch_p else None
                return 1 if callback(step, epoch) is False else 0
            except BaseException as e:          # noqa: BLE001 — re-raised below
                error.append(e)
                return 1

        cb = _t.CTR_TRAIN_CALLBACK(trampoline)
        with self._lock:
            status = _lib.ctr_trainer_fit(self._require(), cb, None)
        if error:
            raise error[0]
        check(status)
        return self.history

    def step(self, images=None, labels=None) -> Dict[str, Any]:
        """One step: on the next dataset batch, or on your own uint8 batch (N, H, W, C)."""
        m = _t.CtrStepMetrics()
        m.struct_size = ctypes.sizeof(m)
        with self._lock:
            if images is None:
                check(_lib.ctr_trainer_step(self._require(), ctypes.byref(m)))
            else:
                import numpy as np
                x = np.ascontiguousarray(images, dtype=np.uint8)
                if x.ndim == 3:
                    x = x[..., None]
                if x.ndim != 4:
                    raise InvalidArgumentError(0, f"images must be (N, H, W[, C]) uint8, got shape {x.shape}")
                lab = None
                if labels is not None:
                    lab = np.ascontiguousarray(labels, dtype=np.int32)
                    if lab.shape != (x.shape[0],):
                        raise InvalidArgumentError(0, f"labels must have shape ({x.shape[0]},), got {lab.shape}")
                check(_lib.ctr_trainer_step_batch(self._require(), x.ctypes.data, x.shape[0], x.shape[1], x.shape[2], x.shape[3],
                                                  lab.ctypes.data if lab is not None else None, ctypes.byref(m)))
        return _step_dict(m)

    def steps(self) -> Iterator[Dict[str, Any]]:
        """Iterate over the remaining steps, one dict each (an iterator form of :meth:`fit`)."""
        while not self.state["finished"]:
            yield self.step()

    @property
    def state(self) -> Dict[str, Any]:
        """Position: epoch, epochs, step_in_epoch, steps_per_epoch, global_step, total_steps,
        skipped_steps, finished, crop_height, crop_width, channels."""
        s = _t.CtrTrainState()
        s.struct_size = ctypes.sizeof(s)
        with self._lock:
            check(_lib.ctr_trainer_get_state(self._require(), ctypes.byref(s)))
        d = _struct_dict(s)
        d["finished"] = bool(d["finished"])
        return d

    @property
    def history(self) -> List[Dict[str, Any]]:
        """Per-epoch metrics so far: mean_loss, effective_rank, knn_top1, knn_top5, seconds, ..."""
        n = ctypes.c_size_t(0)
        with self._lock:
            h = self._require()
            _lib.ctr_trainer_history(h, None, 0, ctypes.byref(n))
            arr = (_t.CtrEpochMetrics * max(n.value, 1))()
            check(_lib.ctr_trainer_history(h, arr, n.value, ctypes.byref(n)))
        return [_struct_dict(arr[i]) for i in range(n.value)]

    # -- checkpoints ------------------------------------------------------------------------
    def save(self, path) -> None:
        """Save the full training state atomically (resume with :meth:`load`)."""
        with self._lock:
            check(_lib.ctr_trainer_save(self._require(), os.fsencode(os.fspath(path))))

    def load(self, path) -> None:
        """Restore a state saved by :meth:`save` (same method and architecture)."""
        with self._lock:
            check(_lib.ctr_trainer_load(self._require(), os.fsencode(os.fspath(path))))

    def export_encoder(self, path, include_head: bool = False) -> None:
        """Write the encoder as a model checkpoint (torchvision names; loads with :meth:`Model.load`)."""
        with self._lock:
            check(_lib.ctr_trainer_export_encoder(self._require(), os.fsencode(os.fspath(path)), 1 if include_head else 0))

    @property
    def model(self) -> Model:
        """A :class:`Model` sharing the encoder's weights (do not use it while training)."""
        h = ctypes.c_void_p()
        with self._lock:
            check(_lib.ctr_trainer_get_model(self._require(), ctypes.byref(h)))
        return Model._from_handle(h, dict(self._model_config))

    def embed(self, dataset, output: str = "backbone", normalize: bool = False):
        """Features of every image of ``dataset`` with the evaluation transform: (N, dim) float32."""
        import numpy as np
        out_code = {"backbone": 0, "projector": 1}[output]
        m = self.model
        dim = m.feature_dim if out_code == 0 else m.projection_dim
        m.close()
        out = np.empty((len(dataset), dim), dtype=np.float32)
        with self._lock:
            check(_lib.ctr_trainer_embed_dataset(self._require(), dataset._h, out_code, 1 if normalize else 0,
                                                 out.ctypes.data, out.size))
        return out

    def __repr__(self) -> str:
        if self._h is None:
            return "<contrastive.Trainer closed>"
        s = self.state
        return f"<contrastive.Trainer {self.method} epoch {s['epoch']}/{s['epochs']} step {s['global_step']}/{s['total_steps']}>"
