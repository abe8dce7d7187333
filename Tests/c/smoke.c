/*
 * smoke.c — the C ABI core seen from a plain C99 program.
 *
 * Checks the contract of include/contrastive.h for the core functions: versions, status
 * strings, the per-thread last error, the build-info size query, thread count, logging, and
 * that every function given NULL or out-of-range values returns the documented status with
 * a message instead of crashing.
 *
 * Built by the Makefile rule $(BUILD)/tests/%: Tests/c/%.c, i.e.
 *   gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -Iinclude -D_POSIX_C_SOURCE=200809L \
 *       Tests/c/smoke.c -o build/tests/smoke -Lbuild/lib -lcontrastive \
 *       -Wl,-rpath,'$ORIGIN/../lib' -lm -lpthread
 * Prints one line per group and exits non-zero at the first failed check.
 */
#include "contrastive.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Check helpers                                                                               */
/* ------------------------------------------------------------------------------------------ */

static int checks_passed = 0;

/* Fail the whole run at the first broken expectation, saying where and what. */
#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "smoke: FAILED at %s:%d: %s\n  ctr_last_error(): \"%s\"\n",      \
                    __FILE__, __LINE__, #cond, ctr_last_error());                            \
            exit(1);                                                                         \
        }                                                                                    \
        checks_passed++;                                                                     \
    } while (0)

/* A call must return `expected` and leave a non-empty message naming the function. */
#define CHECK_FAILS(call, expected, fname)                                                   \
    do {                                                                                     \
        ctr_clear_error();                                                                   \
        CHECK((call) == (expected));                                                         \
        CHECK(ctr_last_error() != NULL && ctr_last_error()[0] != '\0');                      \
        CHECK(strstr(ctr_last_error(), (fname)) != NULL);                                    \
    } while (0)

static void group_done(const char *name, int first_check) {
    printf("smoke: %-28s ok (%d checks)\n", name, checks_passed - first_check);
}

/* ------------------------------------------------------------------------------------------ */
/* Groups                                                                                      */
/* ------------------------------------------------------------------------------------------ */

/* Must run first: no failing call has happened yet on this thread. */
static void check_initial_last_error(void) {
    int first = checks_passed;
    const char *e = ctr_last_error();
    CHECK(e != NULL);
    CHECK(e[0] == '\0');
    group_done("initial last error", first);
}

static void check_versions(void) {
    int first = checks_passed;
    const char *v = ctr_version_string();
    int major = -1, minor = -1, patch = -1;
    CHECK(ctr_abi_version() == CTR_ABI_VERSION);
    CHECK(v != NULL && v[0] != '\0');
    CHECK(sscanf(v, "%d.%d.%d", &major, &minor, &patch) == 3);
    CHECK(major >= 0 && minor >= 0 && patch >= 0);
    CHECK(ctr_version_string() == v); /* a static string: the same pointer every time */
    group_done("versions", first);
}

static void check_status_strings(void) {
    static const ctr_status unknown[] = {11, 100, -1, INT32_MAX, INT32_MIN};
    const char *texts[CTR_STATUS_INTERNAL + 1];
    int first = checks_passed;
    int i, j;
    for (i = CTR_STATUS_OK; i <= CTR_STATUS_INTERNAL; i++) {
        texts[i] = ctr_status_string(i);
        CHECK(texts[i] != NULL && texts[i][0] != '\0');
        CHECK(strcmp(texts[i], "unknown status") != 0);
        CHECK(ctr_status_string(i) == texts[i]); /* static */
        for (j = 0; j < i; j++) CHECK(strcmp(texts[i], texts[j]) != 0);
    }
    CHECK(strcmp(texts[CTR_STATUS_OK], "ok") == 0);
    CHECK(strcmp(texts[CTR_STATUS_INVALID_ARGUMENT], "invalid argument") == 0);
    for (i = 0; i < (int)(sizeof unknown / sizeof unknown[0]); i++) {
        const char *s = ctr_status_string(unknown[i]);
        CHECK(s != NULL && strcmp(s, "unknown status") == 0);
    }
    group_done("status strings", first);
}

static void check_build_info(void) {
    int first = checks_passed;
    size_t n = 0, n2 = 0, i;
    char *buf, *big;
    char expect_version[64], expect_abi[32];

    /* NULL buffer with a capacity is an error; *needed may be left alone. */
    CHECK_FAILS(ctr_build_info(NULL, 10, NULL), CTR_STATUS_INVALID_ARGUMENT, "ctr_build_info");
    CHECK_FAILS(ctr_build_info(NULL, SIZE_MAX, NULL), CTR_STATUS_INVALID_ARGUMENT, "ctr_build_info"); /* size_t, not signed */

    /* Size query. */
    CHECK_FAILS(ctr_build_info(NULL, 0, &n), CTR_STATUS_BUFFER_TOO_SMALL, "ctr_build_info");
    CHECK(n > 1);
    CHECK(ctr_build_info(NULL, 0, NULL) == CTR_STATUS_BUFFER_TOO_SMALL); /* no size pointer */

    /* Exactly n bytes: success, NUL-terminated text of length n - 1. */
    buf = malloc(n);
    CHECK(buf != NULL);
    CHECK(ctr_build_info(buf, n, &n2) == CTR_STATUS_OK);
    CHECK(n2 == n);
    CHECK(buf[n - 1] == '\0' && strlen(buf) == n - 1);
    snprintf(expect_version, sizeof expect_version, "version=%s\n", ctr_version_string());
    snprintf(expect_abi, sizeof expect_abi, "abi=%u\n", (unsigned)CTR_ABI_VERSION);
    CHECK(strstr(buf, expect_version) != NULL);
    CHECK(strstr(buf, expect_abi) != NULL);
    CHECK(strstr(buf, "threads=") != NULL);

    /* One byte short: BUFFER_TOO_SMALL, the size reported again, the buffer untouched. */
    memset(buf, 0x5a, n);
    n2 = 0;
    CHECK_FAILS(ctr_build_info(buf, n - 1, &n2), CTR_STATUS_BUFFER_TOO_SMALL, "ctr_build_info");
    CHECK(n2 == n);
    for (i = 0; i < n && buf[i] == 0x5a; i++) {
    }
    CHECK(i == n);
    free(buf);

    /* A larger buffer is fine too; bytes after the NUL are not promised, so not checked. */
    big = malloc(n + 100);
    CHECK(big != NULL);
    CHECK(ctr_build_info(big, n + 100, NULL) == CTR_STATUS_OK);
    CHECK(strlen(big) == n - 1);
    free(big);
    group_done("build info", first);
}

static void check_threads(void) {
    int first = checks_passed;
    int32_t before = ctr_get_num_threads();
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK(before >= 1);

    CHECK(ctr_set_num_threads(1) == CTR_STATUS_OK);
    CHECK(ctr_get_num_threads() == 1);
    CHECK(ctr_set_num_threads(2) == CTR_STATUS_OK);
    CHECK(ctr_get_num_threads() == 2);

    /* Out of range: refused with a message, count unchanged. */
    CHECK_FAILS(ctr_set_num_threads(-1), CTR_STATUS_INVALID_ARGUMENT, "ctr_set_num_threads");
    CHECK(ctr_get_num_threads() == 2);
    CHECK_FAILS(ctr_set_num_threads(257), CTR_STATUS_INVALID_ARGUMENT, "ctr_set_num_threads");
    CHECK(ctr_get_num_threads() == 2);
    CHECK_FAILS(ctr_set_num_threads(INT32_MIN), CTR_STATUS_INVALID_ARGUMENT, "ctr_set_num_threads");
    CHECK_FAILS(ctr_set_num_threads(INT32_MAX), CTR_STATUS_INVALID_ARGUMENT, "ctr_set_num_threads");
    CHECK(ctr_get_num_threads() == 2);

    /* 0 means all online CPUs (capped at the documented maximum of 256). */
    CHECK(ctr_set_num_threads(0) == CTR_STATUS_OK);
    CHECK(cpus >= 1);
    CHECK(ctr_get_num_threads() == (cpus > 256 ? 256 : (int32_t)cpus));

    CHECK(ctr_set_num_threads(before) == CTR_STATUS_OK);
    CHECK(ctr_get_num_threads() == before);
    group_done("threads", first);
}

/* What the log callback saw; user_data points at one of these. */
typedef struct {
    int calls;
    int32_t last_level;
    char last_message[256];
    int saw_threads_message;
    int expected_threads;
} log_record;

static void record_log(int32_t level, const char *message, void *user_data) {
    log_record *rec = (log_record *)user_data;
    char expected[64];
    rec->calls++;
    rec->last_level = level;
    snprintf(rec->last_message, sizeof rec->last_message, "%s", message ? message : "(null)");
    snprintf(expected, sizeof expected, "threads set to %d", rec->expected_threads);
    if (level == CTR_LOG_DEBUG && message && strcmp(message, expected) == 0)
        rec->saw_threads_message = 1;
}

static void check_logging(void) {
    int first = checks_passed;
    int32_t threads = ctr_get_num_threads();
    log_record rec;
    memset(&rec, 0, sizeof rec);
    rec.expected_threads = threads;

    /* Invalid levels. */
    CHECK_FAILS(ctr_log_set_level(-1), CTR_STATUS_INVALID_ARGUMENT, "ctr_log_set_level");
    CHECK_FAILS(ctr_log_set_level(4), CTR_STATUS_INVALID_ARGUMENT, "ctr_log_set_level");
    CHECK_FAILS(ctr_log_set_level(INT32_MIN), CTR_STATUS_INVALID_ARGUMENT, "ctr_log_set_level");
    ctr_log_set(NULL, NULL); /* restoring the default is always allowed */

    /* DEBUG level: ctr_set_num_threads reports "threads set to N" with our user_data. */
    ctr_log_set(record_log, &rec);
    CHECK(ctr_log_set_level(CTR_LOG_DEBUG) == CTR_STATUS_OK);
    CHECK(ctr_set_num_threads(threads) == CTR_STATUS_OK);
    CHECK(rec.saw_threads_message);
    CHECK(rec.last_level == CTR_LOG_DEBUG);

    /* A refused level change keeps the current level (DEBUG still delivered). */
    CHECK(ctr_log_set_level(99) == CTR_STATUS_INVALID_ARGUMENT);
    rec.saw_threads_message = 0;
    CHECK(ctr_set_num_threads(threads) == CTR_STATUS_OK);
    CHECK(rec.saw_threads_message);

    /* WARN level: debug messages are filtered out. */
    CHECK(ctr_log_set_level(CTR_LOG_WARN) == CTR_STATUS_OK);
    rec.calls = 0;
    CHECK(ctr_set_num_threads(threads) == CTR_STATUS_OK);
    CHECK(rec.calls == 0);

    /* ctr_log_set(NULL, NULL): the callback is no longer called. */
    CHECK(ctr_log_set_level(CTR_LOG_DEBUG) == CTR_STATUS_OK);
    ctr_log_set(NULL, NULL);
    fprintf(stderr, "smoke: (expect one libcontrastive debug line on stderr next)\n");
    CHECK(ctr_set_num_threads(threads) == CTR_STATUS_OK);
    CHECK(rec.calls == 0);
    CHECK(ctr_log_set_level(CTR_LOG_WARN) == CTR_STATUS_OK);
    group_done("logging", first);
}

/* Runs on a second thread: sees none of main's error, then records its own. */
typedef struct {
    int started_empty;
    int status;
    char own_error[256];
    int own_error_after_clear_empty;
} thread_result;

static void *error_thread(void *arg) {
    thread_result *r = (thread_result *)arg;
    r->started_empty = ctr_last_error() != NULL && ctr_last_error()[0] == '\0';
    r->status = ctr_set_num_threads(-5);
    snprintf(r->own_error, sizeof r->own_error, "%s", ctr_last_error());
    return NULL;
}

static void check_per_thread_errors(void) {
    int first = checks_passed;
    pthread_t tid;
    thread_result r;
    char main_error[256];
    memset(&r, 0, sizeof r);

    /* Main thread records an error, then a second thread fails differently. */
    CHECK_FAILS(ctr_log_set_level(-7), CTR_STATUS_INVALID_ARGUMENT, "ctr_log_set_level");
    snprintf(main_error, sizeof main_error, "%s", ctr_last_error());
    CHECK(pthread_create(&tid, NULL, error_thread, &r) == 0);
    CHECK(pthread_join(tid, NULL) == 0);

    CHECK(r.started_empty);                                   /* main's error not visible there */
    CHECK(r.status == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(strstr(r.own_error, "ctr_set_num_threads") != NULL);
    CHECK(strcmp(ctr_last_error(), main_error) == 0);         /* its error not visible here */

    /* Successful calls do not clear the message. */
    CHECK(ctr_get_num_threads() >= 1);
    CHECK(ctr_set_num_threads(ctr_get_num_threads()) == CTR_STATUS_OK);
    CHECK(strcmp(ctr_last_error(), main_error) == 0);
    group_done("per-thread last error", first);
}

static void check_clear_error(void) {
    int first = checks_passed;
    CHECK(ctr_set_num_threads(-1) == CTR_STATUS_INVALID_ARGUMENT);
    CHECK(ctr_last_error()[0] != '\0');
    ctr_clear_error();
    CHECK(ctr_last_error() != NULL && ctr_last_error()[0] == '\0');
    ctr_clear_error(); /* twice is harmless */
    CHECK(ctr_last_error() != NULL && ctr_last_error()[0] == '\0');
    group_done("clear error", first);
}

int main(void) {
    check_initial_last_error();
    check_versions();
    check_status_strings();
    check_build_info();
    check_threads();
    check_logging();
    check_per_thread_errors();
    check_clear_error();
    printf("smoke: all %d checks passed\n", checks_passed);
    return 0;
}
