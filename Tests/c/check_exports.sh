#!/usr/bin/env bash
# check_exports.sh <libcontrastive.so> <contrastive.h>
#
# Keeps the shipped library and its header honest:
#   (a) the GLOBAL defined dynamic symbols of the .so are exactly the functions the header
#       declares (no more, no fewer);
#   (b) the .so needs no Swift runtime library (no NEEDED libswift*, nothing under /opt/swift,
#       no RPATH/RUNPATH into a Swift toolchain);
#   (c) its SONAME is libcontrastive.so.0;
#   (d) it loads and answers from a clean environment (no LD_LIBRARY_PATH, no /opt/swift on
#       PATH), and ldd resolves every dependency outside /opt/swift. Where the script may
#       create a private mount namespace (root + unshare), /opt/swift is also hidden for
#       that run, proving the library does not reach into the toolchain at all.
# Prints what it checked; exits non-zero on the first failing part.
#
# Needs: bash, nm, readelf, ldd, awk, sort, comm, and a C compiler ($CC, default cc) both to
# strip comments from the header (preprocessor only) and to build the dlopen probe.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 <path-to-libcontrastive.so> <path-to-contrastive.h>" >&2
    exit 2
fi
SO=$1
HEADER=$2
CC=${CC:-cc}
EXPECTED_SONAME=libcontrastive.so.0
SWIFT_ROOT=/opt/swift

fail() { echo "check_exports: FAILED: $*" >&2; exit 1; }
[ -f "$SO" ] || fail "no such library: $SO"
[ -f "$HEADER" ] || fail "no such header: $HEADER"
command -v "$CC" >/dev/null || fail "no C compiler ($CC); set CC"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------------
# (a) exported symbols == functions declared in the header
# ---------------------------------------------------------------------------------------------
# Exported: global (upper-case type letter) defined symbols, version suffix stripped. The
# version-node symbol (type A, e.g. LIBCONTRASTIVE_0) is not in T/D/B/R and drops out.
nm -D --defined-only "$SO" \
    | awk '$2 ~ /^[TDBR]$/ { sub(/@.*/, "", $3); print $3 }' \
    | sort -u > "$WORK/exported"

# Declared: run the header through the preprocessor (this removes comments and the
# `#ifdef __cplusplus` lines, so the text left is exactly what a C compiler sees), join it
# into one line, split it into top-level statements at ';', and keep statements of the form
# "<type> ctr_name(" — a function declaration. Typedefs (e.g. `typedef void (*ctr_log_fn)(...)`)
# and `static` inline definitions are not exported functions and are skipped; in a
# declaration the first `ctr_name (` is the function's name (return types such as
# `ctr_status` are never followed by '(').
"$CC" -E -P -x c "$HEADER" 2>"$WORK/cpp.err" > "$WORK/header.i" \
    || { cat "$WORK/cpp.err" >&2; fail "the preprocessor rejected $HEADER"; }
tr '\n' ' ' < "$WORK/header.i" \
    | tr ';' '\n' \
    | awk '
        /(^|[^A-Za-z0-9_])typedef([^A-Za-z0-9_]|$)/ { next }
        /(^|[^A-Za-z0-9_])static([^A-Za-z0-9_]|$)/  { next }
        match($0, /(^|[^A-Za-z0-9_])ctr_[a-z0-9_]+[ \t]*\(/) {
            name = substr($0, RSTART, RLENGTH)
            sub(/^[^c]*/, "", name)           # leading non-identifier character, if any
            sub(/[ \t]*\($/, "", name)         # the "(" and any blanks before it
            print name
        }' \
    | sort -u > "$WORK/declared"

n_exported=$(wc -l < "$WORK/exported")
n_declared=$(wc -l < "$WORK/declared")
[ "$n_declared" -gt 0 ] || fail "found no ctr_* function declarations in $HEADER"

comm -23 "$WORK/exported" "$WORK/declared" > "$WORK/extra"
comm -13 "$WORK/exported" "$WORK/declared" > "$WORK/missing"
if [ -s "$WORK/extra" ] || [ -s "$WORK/missing" ]; then
    if [ -s "$WORK/extra" ]; then
        echo "exported by $SO but not declared in $HEADER:" >&2
        sed 's/^/  /' "$WORK/extra" >&2
    fi
    if [ -s "$WORK/missing" ]; then
        echo "declared in $HEADER but not exported by $SO:" >&2
        sed 's/^/  /' "$WORK/missing" >&2
    fi
    fail "(a) exported symbols and header declarations differ"
fi
echo "check_exports: (a) $n_exported exported symbols == $n_declared functions declared in $HEADER"

# Local symbols in the dynamic table are not resolvable from outside; mention them only.
n_local=$(nm -D --defined-only "$SO" | awk '$2 ~ /^[a-z]$/' | wc -l)
if [ "$n_local" -gt 0 ]; then
    echo "check_exports:     note: $n_local LOCAL symbol(s) in .dynsym (not exported, harmless)"
fi

# ---------------------------------------------------------------------------------------------
# (b) no Swift runtime dependency
# ---------------------------------------------------------------------------------------------
readelf -d "$SO" > "$WORK/dynamic"
{ grep '(NEEDED)' "$WORK/dynamic" || true; } | sed 's/.*\[\(.*\)\]/\1/' > "$WORK/needed"
if grep -E 'libswift|swift|^/opt/' "$WORK/needed" >&2; then
    fail "(b) $SO needs a Swift runtime library (see above)"
fi
if grep -E '\((RPATH|RUNPATH)\)' "$WORK/dynamic" | grep -iE 'swift|/opt/' >&2; then
    fail "(b) $SO has an RPATH/RUNPATH into a Swift toolchain (see above)"
fi
echo "check_exports: (b) NEEDED: $(tr '\n' ' ' < "$WORK/needed")— no Swift runtime"

# ---------------------------------------------------------------------------------------------
# (c) SONAME
# ---------------------------------------------------------------------------------------------
soname=$(sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p' "$WORK/dynamic")
[ "$soname" = "$EXPECTED_SONAME" ] || fail "(c) SONAME is '${soname:-<none>}', expected $EXPECTED_SONAME"
echo "check_exports: (c) SONAME $soname"

# ---------------------------------------------------------------------------------------------
# (d) loads without the Swift toolchain
# ---------------------------------------------------------------------------------------------
CLEAN_PATH=/usr/local/bin:/usr/bin:/bin
clean_env() { env -i PATH="$CLEAN_PATH" HOME="${HOME:-/}" "$@"; }

clean_env ldd "$SO" > "$WORK/ldd" 2>&1 || { cat "$WORK/ldd" >&2; fail "(d) ldd failed on $SO"; }
if grep -F "$SWIFT_ROOT" "$WORK/ldd" >&2; then
    fail "(d) ldd resolves a dependency under $SWIFT_ROOT (see above)"
fi
if grep -F 'not found' "$WORK/ldd" >&2; then
    fail "(d) ldd: unresolved dependency (see above)"
fi

# A probe that dlopens the library by path and calls into it.
cat > "$WORK/probe.c" <<'EOF'
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *(*version)(void);
    uint32_t (*abi)(void);
    void *sym;
    void *h;
    if (argc != 2) return 2;
    h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    /* memcpy: ISO C has no conversion from object to function pointers. */
    if (!(sym = dlsym(h, "ctr_version_string"))) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    memcpy(&version, &sym, sizeof sym);
    if (!(sym = dlsym(h, "ctr_abi_version"))) { fprintf(stderr, "%s\n", dlerror()); return 1; }
    memcpy(&abi, &sym, sizeof sym);
    printf("%s abi=%u\n", version(), (unsigned)abi());
    return dlclose(h) == 0 ? 0 : 1;
}
EOF
"$CC" -std=c99 -Wall -Wextra -Werror -pedantic -D_POSIX_C_SOURCE=200809L \
    "$WORK/probe.c" -o "$WORK/probe" -ldl \
    || fail "(d) could not build the dlopen probe"

SO_ABS=$(cd "$(dirname "$SO")" && pwd)/$(basename "$SO")
out=$(clean_env "$WORK/probe" "$SO_ABS" 2>&1) || { echo "$out" >&2; fail "(d) dlopen probe failed"; }
how="LD_LIBRARY_PATH unset, PATH=$CLEAN_PATH"

# Stronger, where possible: hide the Swift toolchain entirely in a private mount namespace
# (affects only this one command, never the rest of the machine).
if [ -d "$SWIFT_ROOT" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null \
    && unshare -m --propagation private true 2>/dev/null; then
    out=$(clean_env unshare -m --propagation private \
              sh -c 'mount -t tmpfs none "$1" && exec "$2" "$3"' sh \
              "$SWIFT_ROOT" "$WORK/probe" "$SO_ABS" 2>&1) \
        || { echo "$out" >&2; fail "(d) dlopen probe failed with $SWIFT_ROOT hidden"; }
    how="$how, $SWIFT_ROOT hidden by a private tmpfs mount"
fi
echo "check_exports: (d) dlopen + ctr_version_string ok ($out; $how); ldd mentions no $SWIFT_ROOT"

echo "check_exports: all checks passed for $SO"
