/*
 * hello.c — first steps with libcontrastive from C.
 *
 * Shows the conventions every part of the API follows (see include/contrastive.h):
 *   - check that the header and the library agree on the ABI;
 *   - read a variable-length string with the size-query convention;
 *   - route the library's log messages to your own callback (with user_data);
 *   - set the thread count;
 *   - handle a failing call: a ctr_status plus ctr_last_error().
 *
 * Build (from the repository root; `make examples` does this):
 *   gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -Iinclude examples/c/hello.c \
 *       -o build/bin/hello -Lbuild/lib -lcontrastive -Wl,-rpath,'$ORIGIN/../lib' -lm
 */
#include "contrastive.h"

#include <stdio.h>
#include <stdlib.h>

/* Receives every log message at or above the level set with ctr_log_set_level().
 * user_data is whatever pointer was passed to ctr_log_set(); here, a prefix string.
 * A log callback must not call back into the library. */
static void print_log(int32_t level, const char *message, void *user_data) {
    static const char *const names[] = {"debug", "info", "warn", "error"};
    const char *prefix = (const char *)user_data;
    const char *name = (level >= 0 && level <= CTR_LOG_ERROR) ? names[level] : "?";
    printf("%s [%s] %s\n", prefix, name, message);
}

/* Print a failed call's status and message, then exit. */
static void die(const char *what, ctr_status status) {
    fprintf(stderr, "hello: %s failed: %s (%s)\n", what, ctr_status_string(status),
            ctr_last_error());
    exit(EXIT_FAILURE);
}

int main(void) {
    ctr_status status;
    size_t needed = 0;
    char *info;

    /* 1. The header this program was compiled with must match the loaded library. */
    if (ctr_abi_version() != CTR_ABI_VERSION) {
        fprintf(stderr, "hello: library ABI %u, header ABI %d\n",
                (unsigned)ctr_abi_version(), CTR_ABI_VERSION);
        return EXIT_FAILURE;
    }
    printf("libcontrastive %s, ABI %u\n", ctr_version_string(), (unsigned)ctr_abi_version());

    /* 2. Size query: with no buffer the call reports BUFFER_TOO_SMALL and the bytes needed
     *    (NUL included); then call again with a buffer that large. */
    status = ctr_build_info(NULL, 0, &needed);
    if (status != CTR_STATUS_BUFFER_TOO_SMALL) die("ctr_build_info (size query)", status);
    info = malloc(needed);
    if (info == NULL) {
        fprintf(stderr, "hello: out of memory\n");
        return EXIT_FAILURE;
    }
    status = ctr_build_info(info, needed, &needed);
    if (status != CTR_STATUS_OK) die("ctr_build_info", status);
    printf("build info:\n%s", info); /* "key=value" lines, each ending in '\n' */
    free(info);

    /* 3. Send log messages to our callback, and ask for everything down to DEBUG. */
    ctr_log_set(print_log, "  log");
    status = ctr_log_set_level(CTR_LOG_DEBUG);
    if (status != CTR_STATUS_OK) die("ctr_log_set_level", status);

    /* 4. Use every online CPU (0); the library logs the change at debug level. */
    status = ctr_set_num_threads(0);
    if (status != CTR_STATUS_OK) die("ctr_set_num_threads", status);
    printf("threads: %d\n", (int)ctr_get_num_threads());

    /* 5. A call that fails on purpose: an out-of-range thread count. The status says what
     *    kind of failure it was; ctr_last_error() says what exactly, on this thread. */
    status = ctr_set_num_threads(-1);
    printf("ctr_set_num_threads(-1): %s: %s\n", ctr_status_string(status), ctr_last_error());
    if (status != CTR_STATUS_INVALID_ARGUMENT) return EXIT_FAILURE;
    ctr_clear_error();

    /* Back to the defaults: messages to stderr, level WARN. */
    ctr_log_set(NULL, NULL);
    ctr_log_set_level(CTR_LOG_WARN);
    return EXIT_SUCCESS;
}
