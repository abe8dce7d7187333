"""contrastive — Python binding for libcontrastive (self-supervised contrastive learning).

The binding talks to ``libcontrastive.so`` through ctypes; no PyTorch or other ML stack is
needed. See :mod:`contrastive._ffi` for where the library is looked for.

Core API::

    import contrastive
    contrastive.version()            # "0.1.0"
    contrastive.build_info()         # {"version": "0.1.0", "abi": "1", "threads": "2", ...}
    contrastive.set_num_threads(2)
    contrastive.set_log_callback(lambda level, msg: print(level, msg),
                                 level=contrastive.LogLevel.DEBUG)

Models (see :mod:`contrastive.model`; embedding needs numpy)::

    with contrastive.Model("resnet18", stem="cifar", head=dict(out=128)) as m:
        z = m.embed(uint8_images_nhwc, output="projector", normalize=True)
        m.save("model.safetensors")

Objectives for your own networks (see :mod:`contrastive.objectives`; needs numpy)::

    loss, dz1, dz2 = contrastive.ntxent(z1, z2, temperature=0.5)
    codes = contrastive.sinkhorn(scores, epsilon=0.05, iterations=3)

Evaluation of frozen features (see :mod:`contrastive.evaluate`; needs numpy)::

    r = contrastive.knn(train, train_labels, test, test_labels, k=200, temperature=0.1)
    p = contrastive.linear_probe(train, train_labels, test, test_labels)
    contrastive.effective_rank(embeddings)

Failing calls raise a subclass of :class:`ContrastiveError` (see :mod:`contrastive.errors`).
"""

from __future__ import annotations

import ctypes
import sys
import threading
import traceback
from enum import IntEnum
from typing import Callable, Dict, Optional, Union

from . import _ffi
from ._ffi import ABI_VERSION, lib_path
from .errors import (
    AbiMismatchError,
    BufferTooSmallError,
    CancelledError,
    ContrastiveError,
    ContrastiveIOError,
    FormatError,
    InternalError,
    InvalidArgumentError,
    LibraryNotFoundError,
    NumericError,
    OutOfMemoryError,
    ShapeMismatchError,
    UnsupportedError,
    check,
)
from .model import Model
from .train import Trainer

__all__ = [
    "__version__",
    "ABI_VERSION",
    "lib_path",
    "Status",
    "LogLevel",
    "abi_version",
    "version",
    "build_info",
    "status_string",
    "last_error",
    "clear_error",
    "set_num_threads",
    "get_num_threads",
    "set_log_callback",
    "set_log_level",
    "check",
    "Model",
    "Trainer",
    "ContrastiveError",
    "InvalidArgumentError",
    "ShapeMismatchError",
    "ContrastiveIOError",
    "FormatError",
    "OutOfMemoryError",
    "NumericError",
    "CancelledError",
    "BufferTooSmallError",
    "UnsupportedError",
    "InternalError",
    "LibraryNotFoundError",
    "AbiMismatchError",
    "Augmenter",
    "preview_png",
    "ntxent",
    "supcon",
    "moco_loss",
    "byol_loss",
    "barlow_twins",
    "vicreg",
    "sinkhorn",
    "knn",
    "linear_probe",
    "retrieval_map",
    "kmeans",
    "clustering_scores",
    "topk_accuracy",
    "effective_rank",
]

_lib = _ffi.lib


class Status(IntEnum):
    """``ctr_status`` values (append-only, mirrors contrastive.h)."""

    OK = 0
    INVALID_ARGUMENT = 1
    SHAPE_MISMATCH = 2
    IO = 3
    FORMAT = 4
    OUT_OF_MEMORY = 5
    NUMERIC = 6
    CANCELLED = 7
    BUFFER_TOO_SMALL = 8
    UNSUPPORTED = 9
    INTERNAL = 10


class LogLevel(IntEnum):
    """``ctr_log_level`` values."""

    DEBUG = 0
    INFO = 1
    WARN = 2
    ERROR = 3


def _text(raw: Optional[bytes]) -> str:
    return "" if raw is None else raw.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# Library information
# --------------------------------------------------------------------------------------------

def abi_version() -> int:
    """The loaded library's ABI version (``ctr_abi_version()``)."""
    return int(_lib.ctr_abi_version())


def version() -> str:
    """The library version, ``"MAJOR.MINOR.PATCH"`` (``ctr_version_string()``)."""
    return _text(_lib.ctr_version_string())


def build_info() -> Dict[str, str]:
    """The build/runtime description from ``ctr_build_info`` as a ``{key: value}`` dict."""
    needed = ctypes.c_size_t(0)
    # Size query (NULL, 0) → BUFFER_TOO_SMALL with the size needed. The text includes the
    # current thread count, so it can grow between the two calls if another thread changes
    # it; retry a few times in that case.
    status = _lib.ctr_build_info(None, 0, ctypes.byref(needed))
    for _ in range(4):
        if status not in (Status.OK, Status.BUFFER_TOO_SMALL):
            check(status)
        buf = ctypes.create_string_buffer(needed.value)
        status = _lib.ctr_build_info(buf, len(buf), ctypes.byref(needed))
        if status == Status.OK:
            return _parse_key_values(_text(buf.value))
    check(status)
    raise AssertionError("unreachable")  # check() raised


def _parse_key_values(text: str) -> Dict[str, str]:
    info: Dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            info[key.strip()] = value.strip()
    return info


# --------------------------------------------------------------------------------------------
# Status and errors
# --------------------------------------------------------------------------------------------

def status_string(status: int) -> str:
    """Static English text for a status; unknown values give ``"unknown status"``."""
    return _text(_lib.ctr_status_string(int(status)))


def last_error() -> str:
    """The calling thread's last error message (``""`` if none)."""
    return _text(_lib.ctr_last_error())


def clear_error() -> None:
    """Clear the calling thread's last error message."""
    _lib.ctr_clear_error()


# --------------------------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------------------------

def set_num_threads(n: int) -> None:
    """Threads used by the library and OpenBLAS, process-wide: 1..256, or 0 for all CPUs.

    Raises InvalidArgumentError outside that range. Do not call while another thread is
    inside the library.
    """
    check(_lib.ctr_set_num_threads(_int32(n)))


def get_num_threads() -> int:
    """The thread count in effect (>= 1)."""
    return int(_lib.ctr_get_num_threads())


def _int32(value: int) -> int:
    """Reject values ctypes would silently wrap into int32 (e.g. 2**32 + 1 → 1)."""
    value = int(value)
    if not -(2**31) <= value < 2**31:
        raise InvalidArgumentError(f"{value} does not fit in int32_t", Status.INVALID_ARGUMENT)
    return value


# --------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------

LogCallback = Callable[[int, str], None]

# The installed ctypes trampoline. It must stay referenced while the library may call it,
# or the garbage collector would free the C thunk under the library's feet.
_log_callback: Optional[object] = None
_log_lock = threading.Lock()


def _make_trampoline(fn: LogCallback):
    def trampoline(level: int, message: Optional[bytes], _user_data: Optional[int]) -> None:
        # An exception must never unwind into C: report it and carry on.
        try:
            fn(int(level), _text(message))
        except BaseException:  # noqa: BLE001 — includes KeyboardInterrupt raised in fn
            try:
                sys.stderr.write("contrastive: exception in log callback ignored:\n")
                traceback.print_exc(file=sys.stderr)
            except BaseException:  # noqa: BLE001 — stderr itself may be broken
                pass

    return _ffi.CTR_LOG_FN(trampoline)


def set_log_level(level: Union[LogLevel, int]) -> None:
    """Minimum level delivered (default WARN). Raises InvalidArgumentError for other values."""
    check(_lib.ctr_log_set_level(_int32(level)))


def set_log_callback(fn: Optional[LogCallback], level: Optional[Union[LogLevel, int]] = None) -> None:
    """Send library log messages to ``fn(level: int, message: str)``.

    ``fn=None`` restores the default (messages go to stderr). ``level``, if given, also sets
    the minimum level (see :func:`set_log_level`); it is validated before anything changes.

    The callback may run on a library thread and must not call back into the library (doing
    so can deadlock: the library holds its log lock while delivering). Exceptions it raises
    are printed to stderr and otherwise ignored.
    """
    global _log_callback
    if fn is not None and not callable(fn):
        raise TypeError("log callback must be callable or None")
    if level is not None:
        set_log_level(level)
    with _log_lock:
        trampoline = None if fn is None else _make_trampoline(fn)
        _lib.ctr_log_set(trampoline, None)
        # ctr_log_set swaps the sink under the library's log lock, so once it returns no
        # thread is still inside the previous callback and it can be released.
        _log_callback = trampoline


_EVALUATE_NAMES = ("knn", "linear_probe", "retrieval_map", "kmeans", "clustering_scores", "topk_accuracy",
                   "effective_rank")


def __getattr__(name: str):
    """Augmenter, preview_png, the objectives and the evaluation calls load lazily: they need numpy, the core
    binding does not."""
    if name in ("Augmenter", "preview_png"):
        from . import augment

        return getattr(augment, name)
    if name in ("ntxent", "supcon", "moco_loss", "byol_loss", "barlow_twins", "vicreg", "sinkhorn"):
        from . import objectives

        return getattr(objectives, name)
    if name in _EVALUATE_NAMES:
        from . import evaluate

        return getattr(evaluate, name)
    raise AttributeError(f"module 'contrastive' has no attribute {name!r}")


#: Library version string, e.g. "0.1.0".
__version__ = version()
