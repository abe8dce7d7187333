"""Exceptions raised for failing libcontrastive calls.

Every ``ctr_status`` other than ``CTR_STATUS_OK`` maps to one subclass of
:class:`ContrastiveError`, which carries the numeric ``status`` and the library's
``ctr_last_error()`` text as ``message``. Where a Python built-in means the same thing the
class also derives from it, so ``except ValueError`` or ``except OSError`` work naturally.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

from . import _ffi
from ._ffi import AbiMismatchError, LibraryNotFoundError

__all__ = [
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
    "error_class",
    "error_for_status",
    "check",
]


class ContrastiveError(Exception):
    """A libcontrastive call failed.

    Attributes:
        status:  the ``ctr_status`` the call returned (an int).
        message: the ``ctr_last_error()`` text recorded by the failing call.
    """

    #: The status this class stands for; the base class is used for unknown statuses.
    STATUS: Optional[int] = None

    def __init__(self, message: str = "", status: Optional[int] = None) -> None:
        if status is None:
            status = self.STATUS if self.STATUS is not None else -1
        self.status = int(status)
        self.message = message
        super().__init__(message or _status_text(self.status))

    def __str__(self) -> str:
        return self.message or _status_text(self.status)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r})"

    def __reduce__(self):  # keep pickling (e.g. multiprocessing) working with our signature
        return (type(self), (self.message, self.status))


class InvalidArgumentError(ContrastiveError, ValueError):
    """CTR_STATUS_INVALID_ARGUMENT: NULL pointer, out-of-range value, bad option."""

    STATUS = 1


class ShapeMismatchError(ContrastiveError, ValueError):
    """CTR_STATUS_SHAPE_MISMATCH: array shapes do not fit together."""

    STATUS = 2


class ContrastiveIOError(ContrastiveError, OSError):
    """CTR_STATUS_IO: a file could not be opened, read or written."""

    STATUS = 3


class FormatError(ContrastiveError, ValueError):
    """CTR_STATUS_FORMAT: a file or description is malformed or unsupported."""

    STATUS = 4


class OutOfMemoryError(ContrastiveError, MemoryError):
    """CTR_STATUS_OUT_OF_MEMORY: an allocation failed or a size is too large."""

    STATUS = 5


class NumericError(ContrastiveError, ArithmeticError):
    """CTR_STATUS_NUMERIC: NaN or Inf where a finite value is required."""

    STATUS = 6


class CancelledError(ContrastiveError):
    """CTR_STATUS_CANCELLED: a callback asked to stop."""

    STATUS = 7


class BufferTooSmallError(ContrastiveError):
    """CTR_STATUS_BUFFER_TOO_SMALL: a caller buffer is too small."""

    STATUS = 8


class UnsupportedError(ContrastiveError, NotImplementedError):
    """CTR_STATUS_UNSUPPORTED: valid, but not supported by this build."""

    STATUS = 9


class InternalError(ContrastiveError):
    """CTR_STATUS_INTERNAL: a bug in the library; please report it."""

    STATUS = 10


_BY_STATUS: Dict[int, Type[ContrastiveError]] = {
    cls.STATUS: cls
    for cls in (
        InvalidArgumentError,
        ShapeMismatchError,
        ContrastiveIOError,
        FormatError,
        OutOfMemoryError,
        NumericError,
        CancelledError,
        BufferTooSmallError,
        UnsupportedError,
        InternalError,
    )
}


def _status_text(status: int) -> str:
    return _ffi.lib.ctr_status_string(status).decode("utf-8", "replace")


def error_class(status: int) -> Type[ContrastiveError]:
    """The exception class for a (non-OK) status; unknown statuses give ContrastiveError."""
    return _BY_STATUS.get(int(status), ContrastiveError)


def error_for_status(status: int, message: Optional[str] = None) -> ContrastiveError:
    """An exception instance for ``status``; ``message`` defaults to ``ctr_last_error()``."""
    if message is None:
        message = _ffi.lib.ctr_last_error().decode("utf-8", "replace")
    return error_class(status)(message, int(status))


def check(status: int) -> None:
    """Raise the mapped exception (with this thread's ``ctr_last_error()``) if status != 0.

    Call it on the calling thread right after the failing call: the message is per thread.
    """
    if status != 0:
        raise error_for_status(status)
