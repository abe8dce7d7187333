"""Tests for the core of the binding: loading, ABI check, errors, threads, logging.

Run from bindings/python:
    CONTRASTIVE_LIBRARY=$PWD/../../build/lib/libcontrastive.so.0 python3 -m pytest -q tests
or without the variable (the repository build folder is found relative to the package).
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import contrastive
from contrastive import LogLevel, Status, _ffi, errors

BINDINGS_DIR = Path(__file__).resolve().parent.parent
HEADER = BINDINGS_DIR.parent.parent / "include" / "contrastive.h"
lib = _ffi.lib

# (status, exception class, Python built-in it should also be) for every failure status.
STATUS_CLASSES = [
    (1, contrastive.InvalidArgumentError, ValueError),
    (2, contrastive.ShapeMismatchError, ValueError),
    (3, contrastive.ContrastiveIOError, OSError),
    (4, contrastive.FormatError, ValueError),
    (5, contrastive.OutOfMemoryError, MemoryError),
    (6, contrastive.NumericError, ArithmeticError),
    (7, contrastive.CancelledError, None),
    (8, contrastive.BufferTooSmallError, None),
    (9, contrastive.UnsupportedError, NotImplementedError),
    (10, contrastive.InternalError, None),
]


# ------------------------------------------------------------------------------------------
# Fixtures and helpers
# ------------------------------------------------------------------------------------------

@pytest.fixture
def restore_threads():
    """Put the process-wide thread count back after the test."""
    before = contrastive.get_num_threads()
    yield before
    contrastive.set_num_threads(before)


@pytest.fixture
def restore_logging():
    """Back to the defaults after the test: stderr sink, level WARN."""
    yield
    contrastive.set_log_callback(None)
    contrastive.set_log_level(LogLevel.WARN)


def run_python(code: str, library: "str | None",
               python_dir: Path = BINDINGS_DIR) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter that imports the package found in `python_dir`.

    `library` is the CONTRASTIVE_LIBRARY value, or None to leave it unset.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = str(python_dir)
    env.pop(_ffi.ENV_VAR, None)
    if library is not None:
        env[_ffi.ENV_VAR] = library
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=str(python_dir),
        capture_output=True, text=True, timeout=120,
    )


def raw_last_error() -> str:
    return lib.ctr_last_error().decode()


def make_error() -> str:
    """Record a known error on the calling thread and return its text."""
    assert lib.ctr_log_set_level(99) == Status.INVALID_ARGUMENT
    return raw_last_error()


# ------------------------------------------------------------------------------------------
# Version and ABI
# ------------------------------------------------------------------------------------------

def test_version_and_abi_match():
    assert _ffi.ABI_VERSION == 1
    assert contrastive.abi_version() == contrastive.ABI_VERSION == _ffi.ABI_VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+", contrastive.version())
    assert contrastive.__version__ == contrastive.version()
    assert os.path.exists(contrastive.lib_path)


def test_binding_constants_match_header():
    """ABI_VERSION, Status and LogLevel mirror include/contrastive.h (when it is at hand)."""
    if not HEADER.exists():
        pytest.skip("include/contrastive.h not found (binding installed outside the repo)")
    text = HEADER.read_text()
    abi = re.search(r"#define\s+CTR_ABI_VERSION\s+(\d+)", text)
    assert abi and int(abi.group(1)) == _ffi.ABI_VERSION
    statuses = {k: int(v) for k, v in re.findall(r"\bCTR_STATUS_([A-Z_]+)\s*=\s*(\d+)", text)}
    assert statuses == {s.name: s.value for s in Status}
    levels = {k: int(v) for k, v in re.findall(r"\bCTR_LOG_([A-Z]+)\s*=\s*(\d+)", text)}
    assert levels == {lv.name: lv.value for lv in LogLevel}


def test_build_info_dict():
    info = contrastive.build_info()
    assert info["version"] == contrastive.version()
    assert info["abi"] == str(contrastive.ABI_VERSION)
    assert info["threads"] == str(contrastive.get_num_threads())
    assert all(isinstance(k, str) and k for k in info)


def test_build_info_size_query_raw():
    needed = ctypes.c_size_t(0)
    assert lib.ctr_build_info(None, 0, ctypes.byref(needed)) == Status.BUFFER_TOO_SMALL
    n = needed.value
    assert n > 1

    # One byte short: BUFFER_TOO_SMALL, buffer untouched, size reported again.
    short = ctypes.create_string_buffer(b"\x5a" * (n - 1), n - 1)
    needed.value = 0
    assert lib.ctr_build_info(short, n - 1, ctypes.byref(needed)) == Status.BUFFER_TOO_SMALL
    assert needed.value == n
    assert short.raw == b"\x5a" * (n - 1)

    exact = ctypes.create_string_buffer(n)
    assert lib.ctr_build_info(exact, n, None) == Status.OK
    assert len(exact.value) == n - 1
    assert exact.raw[n - 1] == 0

    # NULL with a non-zero capacity is an invalid argument.
    assert lib.ctr_build_info(None, 10, None) == Status.INVALID_ARGUMENT
    assert "ctr_build_info" in raw_last_error()


# ------------------------------------------------------------------------------------------
# Loader
# ------------------------------------------------------------------------------------------

def test_loader_honours_env_var():
    real = os.path.realpath(_ffi.lib_path)
    proc = run_python("import contrastive; print(contrastive.lib_path); print(contrastive.version())", real)
    assert proc.returncode == 0, proc.stderr
    path, ver = proc.stdout.split()
    assert path == real
    assert ver == contrastive.version()


def test_loader_bogus_env_var_fails_clearly():
    bogus = "/nonexistent/dir/libcontrastive.so.0"
    proc = run_python("import contrastive", bogus)
    assert proc.returncode != 0
    assert "LibraryNotFoundError" in proc.stderr
    assert bogus in proc.stderr
    assert _ffi.ENV_VAR in proc.stderr


def test_loader_bogus_env_var_in_process(monkeypatch):
    monkeypatch.setenv(_ffi.ENV_VAR, "/nonexistent/libcontrastive.so.0")
    with pytest.raises(_ffi.LibraryNotFoundError) as info:
        _ffi.load_library()
    assert isinstance(info.value, ImportError)
    assert "/nonexistent/libcontrastive.so.0" in str(info.value)
    assert len(info.value.tried) == 1  # an explicit setting is not second-guessed


def test_loader_without_env_var_uses_fallbacks():
    proc = run_python("import contrastive; print(contrastive.lib_path)", None)
    assert proc.returncode == 0, proc.stderr
    path = proc.stdout.strip()
    assert path in _ffi.candidate_paths()
    assert os.path.exists(path)


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package at <tmp>/repo/bindings/python/contrastive (no library yet).

    Returns (python_dir, package_dir, build_lib_dir); the build folder is where the loader's
    repository fallback looks for this copy.
    """
    python_dir = tmp_path / "repo" / "bindings" / "python"
    package_dir = python_dir / "contrastive"
    shutil.copytree(BINDINGS_DIR / "contrastive", package_dir,
                    ignore=shutil.ignore_patterns("__pycache__", "libcontrastive.so*"))
    return python_dir, package_dir, tmp_path / "repo" / "build" / "lib"


def test_loader_finds_repository_build_folder(package_copy):
    python_dir, _, build_lib = package_copy
    build_lib.mkdir(parents=True)
    (build_lib / "libcontrastive.so.0").symlink_to(os.path.realpath(_ffi.lib_path))
    proc = run_python("import contrastive; print(contrastive.lib_path)", None, python_dir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(build_lib / "libcontrastive.so.0")


def test_loader_prefers_library_beside_package(package_copy):
    python_dir, package_dir, build_lib = package_copy
    build_lib.mkdir(parents=True)
    real = os.path.realpath(_ffi.lib_path)
    (build_lib / "libcontrastive.so.0").symlink_to(real)
    (package_dir / "libcontrastive.so.0").symlink_to(real)
    proc = run_python("import contrastive; print(contrastive.lib_path)", None, python_dir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(package_dir / "libcontrastive.so.0")


def test_loader_reports_every_place_tried(package_copy):
    python_dir, package_dir, build_lib = package_copy
    code = (
        "import contrastive._ffi\n"
        "print('UNEXPECTED', contrastive._ffi.lib_path)"
    )
    proc = run_python(code, None, python_dir)
    if proc.returncode == 0:
        pytest.skip("libcontrastive.so.0 is installed on the dynamic-linker search path")
    err = proc.stderr
    assert "LibraryNotFoundError" in err
    for place in (package_dir / "libcontrastive.so.0", package_dir / "libcontrastive.so",
                  build_lib / "libcontrastive.so.0"):
        assert str(place) in err
    assert "dynamic-linker search path" in err
    assert _ffi.ENV_VAR in err


# ------------------------------------------------------------------------------------------
# ABI mismatch
# ------------------------------------------------------------------------------------------

def test_abi_mismatch_refused(monkeypatch):
    monkeypatch.setattr(_ffi, "ABI_VERSION", 999)
    with pytest.raises(_ffi.AbiMismatchError) as info:
        _ffi.load_library()
    exc = info.value
    assert isinstance(exc, ImportError)
    assert (exc.library_abi, exc.expected_abi) == (1, 999)
    assert "999" in str(exc) and "ABI version 1" in str(exc)


def test_abi_mismatch_refused_at_import(tmp_path):
    """A library reporting another ABI makes `import contrastive` fail (needs a C compiler)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build a fake library")
    src = tmp_path / "fake.c"
    src.write_text("#include <stdint.h>\nuint32_t ctr_abi_version(void) { return 7; }\n")
    fake = tmp_path / "libcontrastive.so.0"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(fake), str(src)], check=True)
    proc = run_python("import contrastive", str(fake))
    assert proc.returncode != 0
    assert "AbiMismatchError" in proc.stderr
    assert "ABI version 7" in proc.stderr and "ABI version 1" in proc.stderr


# ------------------------------------------------------------------------------------------
# Status strings and errors
# ------------------------------------------------------------------------------------------

def test_status_strings():
    texts = [contrastive.status_string(s) for s in Status]
    assert all(texts), texts
    assert len(set(texts)) == len(texts), "status strings must be distinct"
    assert "unknown status" not in texts
    assert contrastive.status_string(Status.OK) == "ok"
    assert contrastive.status_string(Status.INVALID_ARGUMENT) == "invalid argument"
    for unknown in (11, 100, -1, 2**31 - 1, -(2**31)):
        assert contrastive.status_string(unknown) == "unknown status"


@pytest.mark.parametrize("status,cls,builtin", STATUS_CLASSES)
def test_status_maps_to_exception(status, cls, builtin):
    assert errors.error_class(status) is cls
    message = make_error()  # a real ctr_last_error text on this thread
    with pytest.raises(cls) as info:
        errors.check(status)
    exc = info.value
    assert isinstance(exc, contrastive.ContrastiveError)
    assert exc.status == status == cls.STATUS
    assert exc.message == message and str(exc) == message
    if builtin is not None:
        assert isinstance(exc, builtin)
    clone = pickle.loads(pickle.dumps(exc))
    assert type(clone) is cls and clone.status == status and clone.message == message


def test_unknown_status_maps_to_base_class():
    exc = errors.error_for_status(42, "")
    assert type(exc) is contrastive.ContrastiveError
    assert exc.status == 42
    assert str(exc) == "unknown status"  # empty message falls back to the status text
    errors.check(0)  # OK does not raise


def test_invalid_argument_from_library():
    with pytest.raises(contrastive.InvalidArgumentError) as info:
        contrastive.set_num_threads(-1)
    assert info.value.status == Status.INVALID_ARGUMENT
    assert "ctr_set_num_threads" in info.value.message
    assert info.value.message == contrastive.last_error()

    with pytest.raises(ValueError) as info:  # catchable as the built-in
        contrastive.set_log_level(99)
    assert "ctr_log_set_level" in str(info.value)


def test_buffer_too_small_from_library():
    buf = ctypes.create_string_buffer(4)
    with pytest.raises(contrastive.BufferTooSmallError) as info:
        errors.check(lib.ctr_build_info(buf, len(buf), None))
    assert info.value.status == Status.BUFFER_TOO_SMALL
    assert "ctr_build_info" in info.value.message


def test_last_error_is_per_thread():
    main_error = make_error()
    assert "ctr_log_set_level" in main_error
    seen = {}

    def worker():
        seen["before"] = raw_last_error()
        seen["status"] = lib.ctr_set_num_threads(-1)
        seen["after"] = raw_last_error()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen["before"] == ""  # the main thread's error is not visible here
    assert seen["status"] == Status.INVALID_ARGUMENT
    assert "ctr_set_num_threads" in seen["after"]
    assert raw_last_error() == main_error  # and the worker's is not visible on main


def test_clear_error_and_success_does_not_clear():
    message = make_error()
    assert contrastive.get_num_threads() >= 1  # successful calls leave the message alone
    assert contrastive.status_string(0) == "ok"
    assert contrastive.last_error() == message
    contrastive.clear_error()
    assert contrastive.last_error() == ""
    contrastive.clear_error()  # clearing twice is fine
    assert contrastive.last_error() == ""


# ------------------------------------------------------------------------------------------
# Threads
# ------------------------------------------------------------------------------------------

def test_threads_round_trip(restore_threads):
    for n in (1, 2):
        contrastive.set_num_threads(n)
        assert contrastive.get_num_threads() == n
    contrastive.set_num_threads(0)
    assert contrastive.get_num_threads() == min(os.sysconf("SC_NPROCESSORS_ONLN"), 256)


def test_threads_invalid_leaves_count(restore_threads):
    contrastive.set_num_threads(1)
    for bad in (-1, 257, -(2**31), 2**31 - 1):
        with pytest.raises(contrastive.InvalidArgumentError):
            contrastive.set_num_threads(bad)
        assert contrastive.get_num_threads() == 1
    # Values that do not fit int32_t are refused by the binding instead of wrapping around.
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.set_num_threads(2**32 + 1)
    assert contrastive.get_num_threads() == 1


# ------------------------------------------------------------------------------------------
# Logging
# ------------------------------------------------------------------------------------------

def test_log_callback_receives_debug_messages(restore_threads, restore_logging, capfd):
    received = []
    contrastive.set_log_callback(lambda level, msg: received.append((level, msg)),
                                 level=LogLevel.DEBUG)
    gc.collect()  # the binding must keep its ctypes thunk alive
    n = 1 if restore_threads != 1 else 2
    contrastive.set_num_threads(n)
    assert (LogLevel.DEBUG, f"threads set to {n}") in received
    assert all(isinstance(level, int) and isinstance(m, str) for level, m in received)

    # After set_log_callback(None) nothing more arrives; messages go to stderr instead.
    contrastive.set_log_callback(None)
    count = len(received)
    contrastive.set_num_threads(restore_threads)
    assert len(received) == count
    assert f"threads set to {restore_threads}" in capfd.readouterr().err


def test_log_level_filters(restore_threads, restore_logging):
    received = []
    contrastive.set_log_callback(lambda level, msg: received.append((level, msg)),
                                 level=LogLevel.WARN)
    contrastive.set_num_threads(restore_threads)
    assert not any(level == LogLevel.DEBUG for level, _ in received)
    for bad in (-1, 4, 99):
        with pytest.raises(contrastive.InvalidArgumentError):
            contrastive.set_log_level(bad)


def test_invalid_level_leaves_callback_unchanged(restore_threads, restore_logging):
    first, second = [], []
    contrastive.set_log_callback(lambda lv, m: first.append(m), level=LogLevel.DEBUG)
    with pytest.raises(contrastive.InvalidArgumentError):
        contrastive.set_log_callback(lambda lv, m: second.append(m), level=42)
    contrastive.set_num_threads(restore_threads)
    assert first and not second
    with pytest.raises(TypeError):
        contrastive.set_log_callback("not callable")


def test_raising_log_callback_does_not_crash(restore_threads, restore_logging, capfd):
    calls = []

    def bad(level, msg):
        calls.append(msg)
        raise RuntimeError("boom from the log callback")

    contrastive.set_log_callback(bad, level=LogLevel.DEBUG)
    contrastive.set_num_threads(restore_threads)
    contrastive.set_num_threads(restore_threads)
    assert len(calls) == 2  # still called: the exception did not break the sink
    err = capfd.readouterr().err
    assert "exception in log callback ignored" in err
    assert "boom from the log callback" in err
    assert contrastive.get_num_threads() == restore_threads
