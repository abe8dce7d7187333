"""Low-level loader and ctypes declarations for libcontrastive.

This module mirrors include/contrastive.h one to one: every exported function is declared
here with its C prototype as a comment, and nothing in here is "Pythonic" — the friendly API
lives in ``contrastive/__init__.py``. Import it as ``from contrastive import _ffi`` and call
``_ffi.lib.ctr_*`` when you need the raw C behaviour (tests do).

Where the library is looked for, in order:

1. the ``CONTRASTIVE_LIBRARY`` environment variable (a path to the ``.so``). When it is set
   it is authoritative: if it does not load, import fails rather than silently picking up a
   different copy;
2. ``libcontrastive.so.0`` / ``libcontrastive.so`` beside this file (a copy shipped inside
   the installed package);
3. the repository's build folder, ``<repo>/build/lib/libcontrastive.so.0``, found relative to
   this file (``bindings/python/contrastive/`` → ``../../../build/lib``);
4. the system's dynamic-linker search path (``LD_LIBRARY_PATH``, ``ld.so.cache``), for a
   library installed under e.g. ``/usr/local/lib``.

After loading, ``ctr_abi_version()`` must equal :data:`ABI_VERSION`, else
:class:`AbiMismatchError` is raised.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import List, Optional, Tuple

__all__ = [
    "ABI_VERSION",
    "ENV_VAR",
    "LibraryNotFoundError",
    "AbiMismatchError",
    "CTR_LOG_FN",
    "CTR_CONVNET_MAX_STAGES",
    "CtrModelOptions",
    "CtrEmbedOptions",
    "CtrDatasetInfo",
    "ctr_augment_options",
    "ctr_ntxent_options",
    "ctr_supcon_options",
    "ctr_barlow_twins_options",
    "ctr_vicreg_options",
    "ctr_sinkhorn_options",
    "CTR_SINKHORN_MAX_PROTOTYPES",
    "ctr_knn_options",
    "ctr_knn_result",
    "ctr_linear_probe_options",
    "ctr_linear_probe_result",
    "ctr_retrieval_options",
    "ctr_retrieval_result",
    "ctr_kmeans_options",
    "ctr_kmeans_result",
    "ctr_clustering_result",
    "candidate_paths",
    "load_library",
    "lib",
    "lib_path",
]

#: The ABI this binding was written against; equals ``CTR_ABI_VERSION`` in contrastive.h.
ABI_VERSION = 1

#: Environment variable naming the shared library to load.
ENV_VAR = "CONTRASTIVE_LIBRARY"

# File names tried beside the package, most specific first.
_LIB_NAMES = ("libcontrastive.so.0", "libcontrastive.so")

# bindings/python/contrastive/ — the package directory.
_PACKAGE_DIR = Path(__file__).resolve().parent

# <repo>/build/lib — three levels above the package directory.
_REPO_BUILD_LIB = _PACKAGE_DIR.parent.parent.parent / "build" / "lib"


class LibraryNotFoundError(ImportError):
    """libcontrastive could not be found or loaded. ``tried`` lists (place, reason) pairs."""

    def __init__(self, message: str, tried: Optional[List[Tuple[str, str]]] = None) -> None:
        super().__init__(message)
        self.tried = list(tried or [])


class AbiMismatchError(ImportError):
    """The loaded library implements a different ABI than this binding expects."""

    def __init__(self, path: str, library_abi: int, expected_abi: int) -> None:
        super().__init__(
            f"libcontrastive at {path} has ABI version {library_abi}, but this Python binding "
            f"requires ABI version {expected_abi}; rebuild the library or the binding so they "
            f"match"
        )
        self.path = path
        self.library_abi = library_abi
        self.expected_abi = expected_abi


# typedef void (*ctr_log_fn)(int32_t level, const char *message, void *user_data);
CTR_LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)

ctr_status = ctypes.c_int32

#: Most ConvNet stages accepted (``CTR_CONVNET_MAX_STAGES``).
CTR_CONVNET_MAX_STAGES = 16


class CtrModelOptions(ctypes.Structure):
    """``ctr_model_options``: fill with ``lib.ctr_model_options_default(byref(opts))``.

    Field for field the C struct (same order, types and therefore padding)::

        typedef struct ctr_model_options {
            uint32_t struct_size;
            int32_t arch;
            int32_t stem;
            int32_t in_channels;
            float width;
            int32_t zero_init_residual;
            int32_t convnet_stages;
            int32_t convnet_channels[CTR_CONVNET_MAX_STAGES];
            int32_t head_layers;
            int32_t head_hidden;
            int32_t head_out;
            int32_t head_batch_norm;
            int32_t head_last_batch_norm;
            uint64_t seed;
        } ctr_model_options;
    """

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("arch", ctypes.c_int32),
        ("stem", ctypes.c_int32),
        ("in_channels", ctypes.c_int32),
        ("width", ctypes.c_float),
        ("zero_init_residual", ctypes.c_int32),
        ("convnet_stages", ctypes.c_int32),
        ("convnet_channels", ctypes.c_int32 * CTR_CONVNET_MAX_STAGES),
        ("head_layers", ctypes.c_int32),
        ("head_hidden", ctypes.c_int32),
        ("head_out", ctypes.c_int32),
        ("head_batch_norm", ctypes.c_int32),
        ("head_last_batch_norm", ctypes.c_int32),
        ("seed", ctypes.c_uint64),
    ]


class CtrEmbedOptions(ctypes.Structure):
    """``ctr_embed_options``: fill with ``lib.ctr_embed_options_default(byref(opts))``.

    ::

        typedef struct ctr_embed_options {
            uint32_t struct_size;
            int32_t output;
            int32_t normalize;
            int32_t chunk;
            const float *mean;
            const float *std;
        } ctr_embed_options;
    """

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("output", ctypes.c_int32),
        ("normalize", ctypes.c_int32),
        ("chunk", ctypes.c_int32),
        ("mean", ctypes.POINTER(ctypes.c_float)),
        ("std", ctypes.POINTER(ctypes.c_float)),
    ]


class _NullableLogFn:
    """argtype for a ``ctr_log_fn`` parameter that also accepts ``None`` (NULL).

    ctypes' own CFUNCTYPE argtypes reject ``None``, but NULL is meaningful for ctr_log_set.
    """

    @classmethod
    def from_param(cls, obj):
        if obj is None:
            return None  # passed as a NULL pointer
        return CTR_LOG_FN.from_param(obj)


class ctr_augment_options(ctypes.Structure):
    """``ctr_augment_options`` (contrastive.h, section Augmentation) — keep in sync."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("preset", ctypes.c_char_p),
        ("description", ctypes.c_char_p),
        ("size", ctypes.c_int32),
        ("local_size", ctypes.c_int32),
        ("num_local", ctypes.c_int32),
        ("precision", ctypes.c_int32),
        ("num_norm", ctypes.c_int32),
        ("mean", ctypes.POINTER(ctypes.c_float)),
        ("std", ctypes.POINTER(ctypes.c_float)),
    ]


# --- Objectives (contrastive.h, section Objectives) — keep in sync; sizes are tested vs gcc ---


class ctr_ntxent_options(ctypes.Structure):
    """``ctr_ntxent_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("temperature", ctypes.c_float),
        ("similarity", ctypes.c_int32),
        ("decoupled", ctypes.c_int32),
        ("queue", ctypes.POINTER(ctypes.c_float)),
        ("queue_size", ctypes.c_int64),
    ]


class ctr_supcon_options(ctypes.Structure):
    """``ctr_supcon_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("temperature", ctypes.c_float),
        ("similarity", ctypes.c_int32),
    ]


class ctr_barlow_twins_options(ctypes.Structure):
    """``ctr_barlow_twins_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("lambda_", ctypes.c_float),
        ("scale", ctypes.c_float),
    ]


class ctr_vicreg_options(ctypes.Structure):
    """``ctr_vicreg_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("invariance", ctypes.c_float),
        ("variance", ctypes.c_float),
        ("covariance", ctypes.c_float),
        ("eps", ctypes.c_float),
        ("gamma", ctypes.c_float),
    ]


class ctr_sinkhorn_options(ctypes.Structure):
    """``ctr_sinkhorn_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("epsilon", ctypes.c_float),
        ("iterations", ctypes.c_int32),
        ("use_double", ctypes.c_int32),
    ]



# --- Evaluation (contrastive.h, section Evaluation) — keep in sync; sizes are tested vs gcc ---


class ctr_knn_options(ctypes.Structure):
    """``ctr_knn_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("k", ctypes.c_int32),
        ("temperature", ctypes.c_float),
    ]


class ctr_knn_result(ctypes.Structure):
    """``ctr_knn_result``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("top1", ctypes.c_double),
        ("top5", ctypes.c_double),
    ]


class ctr_linear_probe_options(ctypes.Structure):
    """``ctr_linear_probe_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("solver", ctypes.c_int32),
        ("l2", ctypes.c_double),
        ("standardize", ctypes.c_int32),
        ("max_iterations", ctypes.c_int32),
        ("tolerance", ctypes.c_double),
        ("epochs", ctypes.c_int32),
        ("batch_size", ctypes.c_int32),
        ("learning_rate", ctypes.c_double),
        ("momentum", ctypes.c_double),
        ("seed", ctypes.c_uint64),
    ]


class ctr_linear_probe_result(ctypes.Structure):
    """``ctr_linear_probe_result``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("iterations", ctypes.c_int32),
        ("top1", ctypes.c_double),
        ("top5", ctypes.c_double),
        ("train_top1", ctypes.c_double),
        ("loss", ctypes.c_double),
    ]


class ctr_retrieval_options(ctypes.Structure):
    """``ctr_retrieval_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("k", ctypes.c_int32),
    ]


class ctr_retrieval_result(ctypes.Structure):
    """``ctr_retrieval_result``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("num_queries", ctypes.c_int32),
        ("num_without_relevant", ctypes.c_int32),
        ("map", ctypes.c_double),
        ("map_at_k", ctypes.c_double),
        ("precision_at_k", ctypes.c_double),
        ("recall_at_1", ctypes.c_double),
        ("recall_at_k", ctypes.c_double),
    ]


class ctr_kmeans_options(ctypes.Structure):
    """``ctr_kmeans_options``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("max_iterations", ctypes.c_int32),
        ("tolerance", ctypes.c_double),
        ("seed", ctypes.c_uint64),
        ("restarts", ctypes.c_int32),
    ]


class ctr_kmeans_result(ctypes.Structure):
    """``ctr_kmeans_result``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("iterations", ctypes.c_int32),
        ("converged", ctypes.c_int32),
        ("inertia", ctypes.c_double),
    ]


class ctr_clustering_result(ctypes.Structure):
    """``ctr_clustering_result``."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("num_classes", ctypes.c_int32),
        ("num_clusters", ctypes.c_int32),
        ("nmi", ctypes.c_double),
        ("ari", ctypes.c_double),
        ("purity", ctypes.c_double),
    ]


#: ``CTR_SINKHORN_MAX_PROTOTYPES``
CTR_SINKHORN_MAX_PROTOTYPES = 65536


def candidate_paths() -> List[str]:
    """The places tried when ``CONTRASTIVE_LIBRARY`` is not set, in order."""
    beside = [str(_PACKAGE_DIR / name) for name in _LIB_NAMES]
    build = [str(_REPO_BUILD_LIB / "libcontrastive.so.0")]
    return beside + build


def _open(path: str) -> ctypes.CDLL:
    return ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)


def _find_and_open() -> Tuple[ctypes.CDLL, str]:
    """Load the library following the search order in the module docstring."""
    tried: List[Tuple[str, str]] = []

    explicit = os.environ.get(ENV_VAR)
    if explicit:
        try:
            return _open(explicit), explicit
        except OSError as exc:
            tried.append((f"${ENV_VAR}={explicit}", str(exc)))
            raise LibraryNotFoundError(_not_found_message(tried), tried) from exc

    for path in candidate_paths():
        if not os.path.exists(path):
            tried.append((path, "no such file"))
            continue
        try:
            return _open(path), path
        except OSError as exc:  # present but unloadable (wrong arch, missing dependency, ...)
            tried.append((path, str(exc)))

    # Last resort: let the dynamic linker search its usual places.
    try:
        return _open("libcontrastive.so.0"), "libcontrastive.so.0"
    except OSError as exc:
        tried.append(("libcontrastive.so.0 (dynamic-linker search path)", str(exc)))

    raise LibraryNotFoundError(_not_found_message(tried), tried)


def _not_found_message(tried: List[Tuple[str, str]]) -> str:
    lines = ["could not load libcontrastive; tried:"]
    lines += [f"  - {place}: {reason}" for place, reason in tried]
    lines.append(
        f"Build it with `make lib` in the repository, or set {ENV_VAR} to the path of "
        f"libcontrastive.so.0."
    )
    return "\n".join(lines)


class CtrDatasetInfo(ctypes.Structure):
    """``ctr_dataset_info`` (contrastive.h)."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("height", ctypes.c_int32),
        ("width", ctypes.c_int32),
        ("channels", ctypes.c_int32),
        ("count", ctypes.c_int64),
        ("has_labels", ctypes.c_int32),
        ("num_classes", ctypes.c_int32),
    ]


class CtrFolderOptions(ctypes.Structure):
    """``ctr_folder_options`` (contrastive.h)::

        typedef struct ctr_folder_options {
            uint32_t struct_size;
            int32_t height, width, channels, layout;
        } ctr_folder_options;
    """

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("height", ctypes.c_int32),
        ("width", ctypes.c_int32),
        ("channels", ctypes.c_int32),
        ("layout", ctypes.c_int32),
    ]


def _declare(dll: ctypes.CDLL, path: str, name: str, restype, argtypes) -> None:
    try:
        fn = getattr(dll, name)
    except AttributeError:
        raise ImportError(
            f"libcontrastive at {path} does not export {name}, although its ABI version "
            f"matches; the library and include/contrastive.h are out of sync"
        ) from None
    fn.restype = restype
    fn.argtypes = argtypes


def load_library(expected_abi: Optional[int] = None) -> Tuple[ctypes.CDLL, str]:
    """Find, load, ABI-check and declare libcontrastive. Returns ``(dll, path)``.

    ``expected_abi`` defaults to the module's :data:`ABI_VERSION` at call time.
    """
    if expected_abi is None:
        expected_abi = ABI_VERSION
    dll, path = _find_and_open()

    # uint32_t ctr_abi_version(void);
    _declare(dll, path, "ctr_abi_version", ctypes.c_uint32, [])
    library_abi = int(dll.ctr_abi_version())
    if library_abi != expected_abi:
        raise AbiMismatchError(path, library_abi, expected_abi)

    # --- Status and errors ---------------------------------------------------------------
    # const char *ctr_status_string(ctr_status status);
    _declare(dll, path, "ctr_status_string", ctypes.c_char_p, [ctr_status])
    # const char *ctr_last_error(void);
    _declare(dll, path, "ctr_last_error", ctypes.c_char_p, [])
    # void ctr_clear_error(void);
    _declare(dll, path, "ctr_clear_error", None, [])

    # --- Library information -------------------------------------------------------------
    # const char *ctr_version_string(void);
    _declare(dll, path, "ctr_version_string", ctypes.c_char_p, [])
    # ctr_status ctr_build_info(char *buf, size_t capacity, size_t *needed);
    _declare(
        dll, path, "ctr_build_info", ctr_status,
        [ctypes.POINTER(ctypes.c_char), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)],
    )

    # --- Threads -------------------------------------------------------------------------
    # ctr_status ctr_set_num_threads(int32_t n);
    _declare(dll, path, "ctr_set_num_threads", ctr_status, [ctypes.c_int32])
    # int32_t ctr_get_num_threads(void);
    _declare(dll, path, "ctr_get_num_threads", ctypes.c_int32, [])

    # --- Logging -------------------------------------------------------------------------
    # void ctr_log_set(ctr_log_fn fn, void *user_data);
    _declare(dll, path, "ctr_log_set", None, [_NullableLogFn, ctypes.c_void_p])
    # ctr_status ctr_log_set_level(int32_t level);
    _declare(dll, path, "ctr_log_set_level", ctr_status, [ctypes.c_int32])

    # --- Models --------------------------------------------------------------------------
    # Handles (ctr_model *) travel as c_void_p; NULL is None.
    model_p = ctypes.c_void_p
    c_float_p = ctypes.POINTER(ctypes.c_float)
    # void ctr_model_options_default(ctr_model_options *opts);
    _declare(dll, path, "ctr_model_options_default", None, [ctypes.POINTER(CtrModelOptions)])
    # ctr_status ctr_model_create(const ctr_model_options *opts, ctr_model **out);
    _declare(
        dll, path, "ctr_model_create", ctr_status,
        [ctypes.POINTER(CtrModelOptions), ctypes.POINTER(model_p)],
    )
    # void ctr_model_free(ctr_model *model);
    _declare(dll, path, "ctr_model_free", None, [model_p])
    # ctr_status ctr_model_set_training(ctr_model *model, int32_t training);
    _declare(dll, path, "ctr_model_set_training", ctr_status, [model_p, ctypes.c_int32])
    # ctr_status ctr_model_output_dim(const ctr_model *model, int32_t output, int32_t *dim);
    _declare(
        dll, path, "ctr_model_output_dim", ctr_status,
        [model_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_int32)],
    )
    # ctr_status ctr_model_num_params(const ctr_model *model, int64_t *count, int64_t *buffers);
    _declare(
        dll, path, "ctr_model_num_params", ctr_status,
        [model_p, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_int64)],
    )
    # ctr_status ctr_model_save(const ctr_model *model, const char *path);
    _declare(dll, path, "ctr_model_save", ctr_status, [model_p, ctypes.c_char_p])
    # ctr_status ctr_model_load(ctr_model *model, const char *path, int32_t strict);
    _declare(dll, path, "ctr_model_load", ctr_status, [model_p, ctypes.c_char_p, ctypes.c_int32])
    # void ctr_embed_options_default(ctr_embed_options *opts);
    _declare(dll, path, "ctr_embed_options_default", None, [ctypes.POINTER(CtrEmbedOptions)])
    # ctr_status ctr_model_embed_u8(ctr_model *model, const uint8_t *images, int64_t n, int32_t h,
    #                               int32_t w, int32_t channels, const ctr_embed_options *opts,
    #                               float *out, size_t out_capacity);
    _declare(
        dll, path, "ctr_model_embed_u8", ctr_status,
        [model_p, ctypes.POINTER(ctypes.c_uint8), ctypes.c_int64, ctypes.c_int32, ctypes.c_int32,
         ctypes.c_int32, ctypes.POINTER(CtrEmbedOptions), c_float_p, ctypes.c_size_t],
    )
    # ctr_status ctr_model_embed_f32(ctr_model *model, const float *images, int64_t n,
    #                                int32_t channels, int32_t h, int32_t w,
    #                                const ctr_embed_options *opts, float *out, size_t out_capacity);
    _declare(
        dll, path, "ctr_model_embed_f32", ctr_status,
        [model_p, c_float_p, ctypes.c_int64, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
         ctypes.POINTER(CtrEmbedOptions), c_float_p, ctypes.c_size_t],
    )
    # --- Augmentation --------------------------------------------------------------------
    vp, u8p, f32p = ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint8), ctypes.POINTER(ctypes.c_float)
    i32, sz = ctypes.c_int32, ctypes.c_size_t
    # void ctr_augment_options_default(ctr_augment_options *opts);
    _declare(dll, path, "ctr_augment_options_default", None, [ctypes.POINTER(ctr_augment_options)])
    # ctr_status ctr_augmenter_create(const ctr_augment_options *opts, ctr_augmenter **out);
    _declare(dll, path, "ctr_augmenter_create", ctr_status,
             [ctypes.POINTER(ctr_augment_options), ctypes.POINTER(vp)])
    # void ctr_augmenter_free(ctr_augmenter *aug);
    _declare(dll, path, "ctr_augmenter_free", None, [vp])
    # int32_t ctr_augmenter_view_count(const ctr_augmenter *aug);
    _declare(dll, path, "ctr_augmenter_view_count", i32, [vp])
    # ctr_status ctr_augmenter_view_shape(const ctr_augmenter *aug, int32_t view, int32_t h,
    #                                     int32_t w, int32_t c, int32_t shape[3]);
    _declare(dll, path, "ctr_augmenter_view_shape", ctr_status,
             [vp, i32, i32, i32, i32, ctypes.POINTER(i32)])
    # ctr_status ctr_augmenter_output_size(const ctr_augmenter *aug, size_t n, int32_t h,
    #                                      int32_t w, int32_t c, size_t *floats);
    _declare(dll, path, "ctr_augmenter_output_size", ctr_status,
             [vp, sz, i32, i32, i32, ctypes.POINTER(sz)])
    # ctr_status ctr_augmenter_describe(const ctr_augmenter *aug, char *buf, size_t capacity,
    #                                   size_t *needed);
    _declare(dll, path, "ctr_augmenter_describe", ctr_status,
             [vp, ctypes.POINTER(ctypes.c_char), sz, ctypes.POINTER(sz)])
    # ctr_status ctr_augmenter_apply(const ctr_augmenter *aug, const uint8_t *images, size_t n,
    #     int32_t h, int32_t w, int32_t c, uint64_t seed, uint64_t epoch,
    #     const int64_t *indices, float *out, size_t out_capacity);
    _declare(dll, path, "ctr_augmenter_apply", ctr_status,
             [vp, u8p, sz, i32, i32, i32, ctypes.c_uint64, ctypes.c_uint64,
              ctypes.POINTER(ctypes.c_int64), f32p, sz])
    # ctr_status ctr_augment_preview_png(const ctr_augmenter *aug, const char *path,
    #     const uint8_t *images, size_t n, int32_t h, int32_t w, int32_t c, uint64_t seed,
    #     uint64_t epoch);
    _declare(dll, path, "ctr_augment_preview_png", ctr_status,
             [vp, ctypes.c_char_p, u8p, sz, i32, i32, i32, ctypes.c_uint64, ctypes.c_uint64])

    # --- datasets -------------------------------------------------------------------------
    i64, i32, u64 = ctypes.c_int64, ctypes.c_int32, ctypes.c_uint64
    # ctr_status ctr_dataset_load_idx(const char *images_path, const char *labels_path, ctr_dataset **out);
    _declare(dll, path, "ctr_dataset_load_idx", ctr_status, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)])
    # ctr_status ctr_dataset_from_memory(const uint8_t *images, int64_t n, int32_t h, int32_t w, int32_t channels,
    #                                    const int32_t *labels, ctr_dataset **out);
    _declare(dll, path, "ctr_dataset_from_memory", ctr_status,
             [ctypes.c_void_p, i64, i32, i32, i32, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)])
    # ctr_status ctr_dataset_procedural(int64_t n, int32_t size, uint64_t seed, ctr_dataset **out);
    _declare(dll, path, "ctr_dataset_procedural", ctr_status, [i64, i32, u64, ctypes.POINTER(ctypes.c_void_p)])
    # ctr_status ctr_dataset_load_cifar(const char *const *paths, int32_t n_paths, int32_t format, ctr_dataset **out);
    _declare(dll, path, "ctr_dataset_load_cifar", ctr_status,
             [ctypes.POINTER(ctypes.c_char_p), i32, i32, ctypes.POINTER(ctypes.c_void_p)])
    # ctr_status ctr_dataset_load_npy(const char *images_path, const char *labels_path, ctr_dataset **out);
    _declare(dll, path, "ctr_dataset_load_npy", ctr_status, [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)])
    # void ctr_folder_options_default(ctr_folder_options *opts);
    _declare(dll, path, "ctr_folder_options_default", None, [ctypes.POINTER(CtrFolderOptions)])
    # ctr_status ctr_dataset_load_folder(const char *root, const ctr_folder_options *opts, ctr_dataset **out);
    _declare(dll, path, "ctr_dataset_load_folder", ctr_status,
             [ctypes.c_char_p, ctypes.POINTER(CtrFolderOptions), ctypes.POINTER(ctypes.c_void_p)])
    # ctr_status ctr_dataset_class_name(const ctr_dataset *dataset, int32_t label, char *buf, size_t capacity,
    #                                   size_t *needed);
    _declare(dll, path, "ctr_dataset_class_name", ctr_status,
             [ctypes.c_void_p, i32, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)])
    # void ctr_dataset_free(ctr_dataset *dataset);
    _declare(dll, path, "ctr_dataset_free", None, [ctypes.c_void_p])
    # ctr_status ctr_dataset_get_info(const ctr_dataset *dataset, ctr_dataset_info *info);
    _declare(dll, path, "ctr_dataset_get_info", ctr_status, [ctypes.c_void_p, ctypes.POINTER(CtrDatasetInfo)])
    # ctr_status ctr_dataset_copy_images(const ctr_dataset *dataset, int64_t start, int64_t count,
    #                                    uint8_t *out, size_t out_capacity);
    _declare(dll, path, "ctr_dataset_copy_images", ctr_status, [ctypes.c_void_p, i64, i64, ctypes.c_void_p, ctypes.c_size_t])
    # ctr_status ctr_dataset_copy_labels(const ctr_dataset *dataset, int64_t start, int64_t count,
    #                                    int32_t *out, size_t out_capacity);
    _declare(dll, path, "ctr_dataset_copy_labels", ctr_status, [ctypes.c_void_p, i64, i64, ctypes.c_void_p, ctypes.c_size_t])
    # ctr_status ctr_dataset_split(const ctr_dataset *dataset, double validation_fraction, uint64_t seed,
    #                              ctr_dataset **train, ctr_dataset **validation);
    _declare(dll, path, "ctr_dataset_split", ctr_status,
             [ctypes.c_void_p, ctypes.c_double, u64, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)])
    # --- Training (declared in _ffi_train.py) ------------------------------------------------
    from . import _ffi_train
    _ffi_train.declare(dll, path, _declare)
    # --- Objectives ------------------------------------------------------------------------
    i64 = ctypes.c_int64
    # void ctr_ntxent_options_default(ctr_ntxent_options *opts);  (and the four like it)
    for name, st in (("ctr_ntxent_options_default", ctr_ntxent_options),
                     ("ctr_supcon_options_default", ctr_supcon_options),
                     ("ctr_barlow_twins_options_default", ctr_barlow_twins_options),
                     ("ctr_vicreg_options_default", ctr_vicreg_options),
                     ("ctr_sinkhorn_options_default", ctr_sinkhorn_options)):
        _declare(dll, path, name, None, [ctypes.POINTER(st)])
    # ctr_status ctr_ntxent(const float *z1, const float *z2, int64_t n1, int64_t n2, int64_t dim,
    #                       const ctr_ntxent_options *opts, float *loss, float *dz1, float *dz2);
    _declare(dll, path, "ctr_ntxent", ctr_status,
             [f32p, f32p, i64, i64, i64, ctypes.POINTER(ctr_ntxent_options), f32p, f32p, f32p])
    # ctr_status ctr_supcon(const float *z, const int32_t *labels, int64_t n, int64_t dim,
    #                       const ctr_supcon_options *opts, float *loss, float *dz);
    _declare(dll, path, "ctr_supcon", ctr_status,
             [f32p, ctypes.POINTER(i32), i64, i64, ctypes.POINTER(ctr_supcon_options), f32p, f32p])
    # ctr_status ctr_byol_loss(const float *p, const float *z, int64_t n1, int64_t n2, int64_t dim,
    #                          float *loss, float *dp, float *dz);
    _declare(dll, path, "ctr_byol_loss", ctr_status, [f32p, f32p, i64, i64, i64, f32p, f32p, f32p])
    # ctr_status ctr_moco_loss(const float *q, const float *k, int64_t n1, int64_t n2, int64_t dim,
    #     const float *queue, int64_t queue_size, float temperature, float *loss, float *dq,
    #     float *dk);
    _declare(dll, path, "ctr_moco_loss", ctr_status,
             [f32p, f32p, i64, i64, i64, f32p, i64, ctypes.c_float, f32p, f32p, f32p])
    # ctr_status ctr_barlow_twins(const float *z1, const float *z2, int64_t n1, int64_t n2,
    #     int64_t dim, const ctr_barlow_twins_options *opts, float *loss, float *dz1, float *dz2);
    _declare(dll, path, "ctr_barlow_twins", ctr_status,
             [f32p, f32p, i64, i64, i64, ctypes.POINTER(ctr_barlow_twins_options), f32p, f32p, f32p])
    # ctr_status ctr_vicreg(const float *z1, const float *z2, int64_t n1, int64_t n2, int64_t dim,
    #                       const ctr_vicreg_options *opts, float *loss, float *dz1, float *dz2);
    _declare(dll, path, "ctr_vicreg", ctr_status,
             [f32p, f32p, i64, i64, i64, ctypes.POINTER(ctr_vicreg_options), f32p, f32p, f32p])
    # ctr_status ctr_sinkhorn(const float *scores, int64_t b, int64_t k,
    #                         const ctr_sinkhorn_options *opts, float *codes, size_t codes_capacity);
    _declare(dll, path, "ctr_sinkhorn", ctr_status,
             [f32p, i64, i64, ctypes.POINTER(ctr_sinkhorn_options), f32p, sz])

    # --- Evaluation -------------------------------------------------------------------------
    i32p, f64p = ctypes.POINTER(ctypes.c_int32), ctypes.POINTER(ctypes.c_double)
    # void ctr_knn_options_default(ctr_knn_options *opts);  (and the three like it)
    for name, st in (("ctr_knn_options_default", ctr_knn_options),
                     ("ctr_linear_probe_options_default", ctr_linear_probe_options),
                     ("ctr_retrieval_options_default", ctr_retrieval_options),
                     ("ctr_kmeans_options_default", ctr_kmeans_options)):
        _declare(dll, path, name, None, [ctypes.POINTER(st)])
    # ctr_status ctr_knn_evaluate(const float *train, const int32_t *train_labels, int64_t n_train,
    #     const float *test, const int32_t *test_labels, int64_t n_test, int64_t dim,
    #     int32_t num_classes, const ctr_knn_options *opts, ctr_knn_result *result,
    #     int32_t *predictions, size_t predictions_capacity, float *scores, size_t scores_capacity);
    _declare(dll, path, "ctr_knn_evaluate", ctr_status,
             [f32p, i32p, i64, f32p, i32p, i64, i64, i32, ctypes.POINTER(ctr_knn_options),
              ctypes.POINTER(ctr_knn_result), i32p, sz, f32p, sz])
    # ctr_status ctr_linear_probe(const float *train, const int32_t *train_labels, int64_t n_train,
    #     const float *test, const int32_t *test_labels, int64_t n_test, int64_t dim,
    #     int32_t num_classes, const ctr_linear_probe_options *opts, ctr_linear_probe_result *result,
    #     float *weights, size_t weights_capacity, float *bias, size_t bias_capacity);
    _declare(dll, path, "ctr_linear_probe", ctr_status,
             [f32p, i32p, i64, f32p, i32p, i64, i64, i32, ctypes.POINTER(ctr_linear_probe_options),
              ctypes.POINTER(ctr_linear_probe_result), f32p, sz, f32p, sz])
    # ctr_status ctr_retrieval_map(const float *train, const int32_t *train_labels, int64_t n_train,
    #     const float *test, const int32_t *test_labels, int64_t n_test, int64_t dim,
    #     const ctr_retrieval_options *opts, ctr_retrieval_result *result,
    #     double *average_precision, size_t ap_capacity);
    _declare(dll, path, "ctr_retrieval_map", ctr_status,
             [f32p, i32p, i64, f32p, i32p, i64, i64, ctypes.POINTER(ctr_retrieval_options),
              ctypes.POINTER(ctr_retrieval_result), f64p, sz])
    # ctr_status ctr_kmeans(const float *x, int64_t n, int64_t dim, int32_t k,
    #     const ctr_kmeans_options *opts, ctr_kmeans_result *result, int32_t *assignments_out,
    #     size_t assignments_capacity, float *centroids_out, size_t centroids_capacity);
    _declare(dll, path, "ctr_kmeans", ctr_status,
             [f32p, i64, i64, i32, ctypes.POINTER(ctr_kmeans_options), ctypes.POINTER(ctr_kmeans_result),
              i32p, sz, f32p, sz])
    # ctr_status ctr_clustering_scores(const int32_t *labels, const int32_t *assignments, int64_t n,
    #                                  ctr_clustering_result *result);
    _declare(dll, path, "ctr_clustering_scores", ctr_status,
             [i32p, i32p, i64, ctypes.POINTER(ctr_clustering_result)])
    # ctr_status ctr_topk_accuracy(const float *scores, const int32_t *labels, int64_t n,
    #                              int32_t num_classes, int32_t k, double *accuracy);
    _declare(dll, path, "ctr_topk_accuracy", ctr_status, [f32p, i32p, i64, i32, i32, f64p])
    # ctr_status ctr_effective_rank(const float *x, int64_t n, int64_t dim, int32_t centered, double *rank);
    _declare(dll, path, "ctr_effective_rank", ctr_status, [f32p, i64, i64, i32, f64p])

    return dll, path


#: The loaded library (a ``ctypes.CDLL``) and the path it was loaded from.
lib, lib_path = load_library()
