// header_cxx.cpp — include/contrastive.h is valid C++ and links with C linkage.
//
// Built by the Makefile as (one command)
//   g++ -std=c++17 -Wall -Wextra -Werror -O2 -Iinclude Tests/c/header_cxx.cpp
//       -o build/tests/header_cxx -Lbuild/lib -lcontrastive -Wl,-rpath,'$ORIGIN/../lib'
// If the header lacked its extern "C" guard, the calls below would reference C++-mangled
// names and the link would fail. Exits 0 when the library answers consistently.
#include "contrastive.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

// The types and constants are usable at compile time, with the documented widths.
static_assert(std::is_same<ctr_status, std::int32_t>::value, "ctr_status is int32_t");
static_assert(CTR_ABI_VERSION >= 1, "CTR_ABI_VERSION");
static_assert(CTR_STATUS_OK == 0 && CTR_STATUS_INTERNAL == 10, "status values");
static_assert(CTR_LOG_DEBUG == 0 && CTR_LOG_ERROR == 3, "log levels");
static_assert(std::is_same<decltype(&ctr_build_info),
                           ctr_status (*)(char *, std::size_t, std::size_t *)>::value,
              "ctr_build_info signature");

namespace {

struct LogState {
    int calls = 0;
    std::string last;
};

// A callback with C language linkage, as ctr_log_fn is declared inside extern "C".
extern "C" void on_log(std::int32_t, const char *message, void *user_data) {
    auto *state = static_cast<LogState *>(user_data);
    state->calls++;
    state->last = message ? message : "";
}

int failures = 0;

void expect(bool ok, const char *what) {
    if (!ok) {
        std::fprintf(stderr, "header_cxx: FAILED: %s (ctr_last_error: \"%s\")\n", what,
                     ctr_last_error());
        failures++;
    }
}

} // namespace

int main() {
    expect(ctr_abi_version() == CTR_ABI_VERSION, "ABI version matches the header");
    expect(std::strlen(ctr_version_string()) > 0, "version string");
    expect(std::string(ctr_status_string(CTR_STATUS_OK)) == "ok", "status string of OK");

    // Size query, then the real call (nullptr is a fine NULL).
    std::size_t needed = 0;
    expect(ctr_build_info(nullptr, 0, &needed) == CTR_STATUS_BUFFER_TOO_SMALL, "size query");
    std::vector<char> info(needed);
    expect(ctr_build_info(info.data(), info.size(), nullptr) == CTR_STATUS_OK, "build info");
    expect(std::strstr(info.data(), "version=") != nullptr, "build info has version=");

    // A C-linkage callback with user_data.
    LogState state;
    const std::int32_t threads = ctr_get_num_threads();
    ctr_log_set(on_log, &state);
    expect(ctr_log_set_level(CTR_LOG_DEBUG) == CTR_STATUS_OK, "log level DEBUG");
    expect(ctr_set_num_threads(threads) == CTR_STATUS_OK, "set threads");
    expect(state.calls > 0 && state.last.find("threads set to") != std::string::npos,
           "debug message delivered");
    ctr_log_set(nullptr, nullptr);
    expect(ctr_log_set_level(CTR_LOG_WARN) == CTR_STATUS_OK, "log level WARN");

    // An error and its message.
    expect(ctr_set_num_threads(-1) == CTR_STATUS_INVALID_ARGUMENT, "invalid thread count");
    expect(ctr_last_error()[0] != '\0', "error message set");
    ctr_clear_error();
    expect(ctr_last_error()[0] == '\0', "error cleared");

    if (failures) return 1;
    std::printf("header_cxx: header compiles as C++17 and links with C linkage (ABI %u, %s)\n",
                static_cast<unsigned>(ctr_abi_version()), ctr_version_string());
    return 0;
}
