/*
 * contrastive.h — the C API of libcontrastive.
 *
 * libcontrastive trains and evaluates image encoders by self-supervised contrastive learning
 * (SimCLR, MoCo, BYOL, SwAV, ...) on the CPU. This header is the whole contract: everything
 * the library exports is declared here, and nothing else is exported.
 *
 * ------------------------------------------------------------------------------------------
 * CONVENTIONS (every part of the API follows them)
 *
 * Names      Functions and types start with `ctr_`, macros and enum values with `CTR_`.
 *            Functions are named ctr_<object>_<action>.
 *
 * Status     Every call that can fail returns a ctr_status. CTR_STATUS_OK (0) is success.
 *            On failure a human-readable message is available from ctr_last_error() on the
 *            same thread until the next failing call on that thread. A failed call leaves
 *            its handle and the caller's buffers as they were unless its documentation says
 *            otherwise. New status values may be appended; existing ones never change.
 *
 * Handles    Objects are opaque: `typedef struct ctr_x ctr_x;`. They are made by
 *            ctr_x_create(..., ctr_x **out) and released by ctr_x_free(x);
 *            ctr_x_free(NULL) does nothing. A handle may be used from any thread, but from
 *            one thread at a time unless a function says otherwise; different handles may be
 *            used concurrently.
 *
 * Options    Constructors take a pointer to an options struct whose first field is
 *            `uint32_t struct_size`. Fill it with ctr_x_options_default(&opts) (which sets
 *            struct_size = sizeof(opts)) and change what you need. The library reads only
 *            the first struct_size bytes, so fields appended in later versions never break
 *            callers compiled against an older header.
 *
 * Arrays     Arrays cross as a pointer plus an explicit shape. Inputs are only read during
 *            the call (never retained). Outputs go into caller-owned buffers whose capacity
 *            is passed in; when it is too small the call returns CTR_STATUS_BUFFER_TOO_SMALL
 *            and, where a size pointer is given, stores the size needed. Images are uint8
 *            H×W×C (interleaved) or float32 N×C×H×W; matrices are row-major.
 *
 * Strings    Strings returned by the library are NUL-terminated UTF-8 owned by the library:
 *            static ones live forever, ctr_last_error() until the next failing call on the
 *            calling thread. Never free them.
 *
 * Threads    ctr_set_num_threads() sets how many threads the library uses for its own
 *            parallel loops and for OpenBLAS. For a fixed seed and thread count, results are
 *            bit-identical from run to run.
 *
 * Callbacks  Callbacks receive the `void *user_data` registered with them. They may be
 *            called from library threads and must not call back into the library unless
 *            documented.
 *
 * ABI        CTR_ABI_VERSION changes whenever a declaration here changes incompatibly;
 *            compare it with ctr_abi_version() at start-up (the Python binding does).
 * ------------------------------------------------------------------------------------------
 */
#ifndef CONTRASTIVE_H
#define CONTRASTIVE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of the ABI described by this header. */
#define CTR_ABI_VERSION 1

/* ======================================================================================== */
/* Status and errors                                                                         */
/* ======================================================================================== */

/** Result of a fallible call (an int32_t; values are append-only). */
typedef int32_t ctr_status;

enum {
    CTR_STATUS_OK = 0,               /**< success */
    CTR_STATUS_INVALID_ARGUMENT = 1, /**< NULL pointer, out-of-range value, bad option */
    CTR_STATUS_SHAPE_MISMATCH = 2,   /**< array shapes do not fit together */
    CTR_STATUS_IO = 3,               /**< a file could not be opened, read or written */
    CTR_STATUS_FORMAT = 4,           /**< a file or description is malformed or unsupported */
    CTR_STATUS_OUT_OF_MEMORY = 5,    /**< an allocation failed or a size is too large */
    CTR_STATUS_NUMERIC = 6,          /**< NaN or Inf where a finite value is required */
    CTR_STATUS_CANCELLED = 7,        /**< a callback asked to stop */
    CTR_STATUS_BUFFER_TOO_SMALL = 8, /**< a caller buffer is too small (size reported) */
    CTR_STATUS_UNSUPPORTED = 9,      /**< valid, but not supported by this build */
    CTR_STATUS_INTERNAL = 10         /**< a bug in the library; please report it */
};

/** Static English text for a status ("ok", "invalid argument", ...). Never NULL; unknown
 *  values give "unknown status". */
const char *ctr_status_string(ctr_status status);

/** Message of the last failing call on the calling thread ("" if none). Never NULL. The text
 *  stays valid until the next failing call on this thread. Successful calls do not clear it;
 *  a size query answered with CTR_STATUS_BUFFER_TOO_SMALL counts as a failing call. */
const char *ctr_last_error(void);

/** Clear the calling thread's last error message (ctr_last_error() then returns ""). */
void ctr_clear_error(void);

/* ======================================================================================== */
/* Library information                                                                       */
/* ======================================================================================== */

/** The library's ABI version; equals CTR_ABI_VERSION of the header it was built with. */
uint32_t ctr_abi_version(void);

/** Library version, "MAJOR.MINOR.PATCH". Static string. */
const char *ctr_version_string(void);

/** A description of the build and runtime (version, ABI, threads, BLAS, CPU target) as
 *  "key=value" lines, written NUL-terminated into buf.
 *  @param buf       destination, may be NULL when capacity is 0 (size query)
 *  @param capacity  bytes available in buf
 *  @param needed    if not NULL, receives the bytes needed including the NUL (set on OK and
 *                   on BUFFER_TOO_SMALL, untouched on INVALID_ARGUMENT)
 *  @return CTR_STATUS_OK, CTR_STATUS_BUFFER_TOO_SMALL (buf untouched, *needed set), or
 *          CTR_STATUS_INVALID_ARGUMENT (buf NULL with capacity > 0). */
ctr_status ctr_build_info(char *buf, size_t capacity, size_t *needed);

/* ======================================================================================== */
/* Threads                                                                                   */
/* ======================================================================================== */

/** Set the number of threads used by the library's loops and by OpenBLAS, process-wide.
 *  @param n  1..256, or 0 for the number of online CPUs.
 *  The default is the CTR_NUM_THREADS environment variable when it is a number >= 1, else
 *  the number of online CPUs. OpenBLAS may cap its own share (this build: 64).
 *  Do not call while another thread is inside the library.
 *  @return CTR_STATUS_OK or CTR_STATUS_INVALID_ARGUMENT (n < 0 or n > 256). */
ctr_status ctr_set_num_threads(int32_t n);

/** The thread count in effect (>= 1). */
int32_t ctr_get_num_threads(void);

/* ======================================================================================== */
/* Logging                                                                                   */
/* ======================================================================================== */

/** Severity of a log message. */
typedef enum ctr_log_level {
    CTR_LOG_DEBUG = 0,
    CTR_LOG_INFO = 1,
    CTR_LOG_WARN = 2,
    CTR_LOG_ERROR = 3
} ctr_log_level;

/** Receives one log message (NUL-terminated, no trailing newline, valid during the call).
 *  May be called from any library thread, never concurrently with itself. Must not call
 *  into the library. */
typedef void (*ctr_log_fn)(int32_t level, const char *message, void *user_data);

/** Route log messages at or above the current level to fn(level, message, user_data).
 *  fn == NULL restores the default: messages go to stderr. Thread-safe. */
void ctr_log_set(ctr_log_fn fn, void *user_data);

/** Set the minimum level delivered (default CTR_LOG_WARN). Thread-safe.
 *  @return CTR_STATUS_OK or CTR_STATUS_INVALID_ARGUMENT for a level outside the enum. */
ctr_status ctr_log_set_level(int32_t level);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONTRASTIVE_H */
