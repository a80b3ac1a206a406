#!/usr/bin/env bash
# Builds the PeerHost JavaScript runtime: QuickJS-NG + harness.c + prelude.js -> a WASI
# preview1 reactor, initialized once (engine started, prelude evaluated) and snapshotted
# into a command module (tools/quickjs/dist/quickjs-peerhost.wasm) by
# peerhost/sandbox/js_snapshot.py.
#
# Inputs are pinned: the QuickJS-NG source comes from the PyPI sdist
# `quickjs-ng==$QJS_VERSION`, verified by sha256 before use; the toolchain is
# Debian bookworm's clang/lld 14 with wasi-libc. The build is reproducible:
# the result is checked against dist/quickjs-peerhost.wasm.sha256.
#
# Usage: tools/quickjs/build.sh [--force]   (about 45 s cold, <1 s when built)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
QJS_VERSION="0.17.0.2"
QJS_SDIST="quickjs_ng-${QJS_VERSION}.tar.gz"
QJS_SHA256="43d2e48272208721a7aaea8e3f02d4b9318f12ef20cc4f5421b59d9a470706ef"
DIST="$HERE/dist"
OUT="$DIST/quickjs-peerhost.wasm"
PINNED_SHA="$(cut -d' ' -f1 "$DIST/quickjs-peerhost.wasm.sha256" 2>/dev/null || true)"
WORK="${PEERHOST_QJS_WORK:-$HERE/.work}"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"

# The sources this script compiles besides the pinned QuickJS: their sha256 is stamped next to
# the engine, so an edited prelude or harness without a rebuild is noticed (here and in tests).
SOURCES=(harness.c prelude.js compile_prelude.c)
sources_sha() { (cd "$HERE" && cat "${SOURCES[@]}") | sha256sum | cut -d' ' -f1; }
STAMP="$DIST/sources.sha256"

if [[ "${1:-}" != "--force" && -f "$OUT" && -n "$PINNED_SHA" ]]; then
    if [[ "$(sha256sum "$OUT" | cut -d' ' -f1)" == "$PINNED_SHA" ]]; then
        if [[ "$(cat "$STAMP" 2>/dev/null)" != "$(sources_sha)" ]]; then
            echo "quickjs: ${SOURCES[*]} changed since the engine was built: rebuild with" \
                 "--force (a protocol upgrade, see docs/functions.md)" >&2
            exit 1
        fi
        echo "quickjs: $OUT is built and matches its pinned sha256"
        exit 0
    fi
fi

need=()
command -v clang >/dev/null || need+=(clang)
command -v wasm-ld >/dev/null || need+=(lld)
[[ -f /usr/lib/wasm32-wasi/libc.a ]] || need+=(wasi-libc)
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null \
    || need+=(libclang-rt-dev-wasm32)
if ((${#need[@]})); then
    echo "quickjs: installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p "$WORK" "$DIST"
if [[ ! -f "$WORK/$QJS_SDIST" ]] || ! echo "$QJS_SHA256  $WORK/$QJS_SDIST" | sha256sum -c --quiet; then
    "$PY" -m pip download --quiet --no-deps --no-binary :all: --no-build-isolation \
        -d "$WORK" "quickjs-ng==$QJS_VERSION" 2>/dev/null \
        || "$PY" -m pip download --quiet --no-deps --no-binary :all: -d "$WORK" "quickjs-ng==$QJS_VERSION"
fi
echo "$QJS_SHA256  $WORK/$QJS_SDIST" | sha256sum -c --quiet
rm -rf "$WORK/src"
mkdir -p "$WORK/src"
tar -xzf "$WORK/$QJS_SDIST" -C "$WORK/src" --strip-components=1
SRC="$WORK/src/upstream-quickjs"

CFLAGS=(--target=wasm32-wasi --sysroot=/usr -O2 -std=gnu11 -D_GNU_SOURCE
        -D_WASI_EMULATED_SIGNAL -funsigned-char -fno-ident
        -ffile-prefix-map="$WORK"=. -ffile-prefix-map="$HERE"=.
        -Wno-everything -I"$SRC" -I"$WORK")
# The prelude (prelude.js) is compiled to QuickJS bytecode by a native build
# of the same QuickJS source and embedded as a C array (prelude.h): its bytes
# are part of the engine.
NATIVE=(-O1 -std=gnu11 -D_GNU_SOURCE -funsigned-char -Wno-everything -I"$SRC")
clang "${NATIVE[@]}" "$HERE/compile_prelude.c" "$SRC/dtoa.c" "$SRC/libregexp.c" \
    "$SRC/libunicode.c" "$SRC/quickjs.c" -lm -lpthread -o "$WORK/compile_prelude" &
objs=()
for c in dtoa.c libregexp.c libunicode.c quickjs.c; do
    clang "${CFLAGS[@]}" -c "$SRC/$c" -o "$WORK/${c%.c}.o" &
    objs+=("$WORK/${c%.c}.o")
done
wait
"$WORK/compile_prelude" "$HERE/prelude.js" "$WORK/prelude.h"
clang "${CFLAGS[@]}" -c "$HERE/harness.c" -o "$WORK/harness.o"
objs+=("$WORK/harness.o")
clang --target=wasm32-wasi --sysroot=/usr -O2 -mexec-model=reactor \
    -Wl,-z,stack-size=1048576 -Wl,--strip-all \
    -lwasi-emulated-signal "${objs[@]}" -o "$WORK/quickjs-reactor.wasm"
# The snapshot: the reactor's memory and globals after peerhost_init, as a command module.
(cd "$ROOT" && "$PY" -m peerhost.sandbox.js_snapshot "$WORK/quickjs-reactor.wasm" "$OUT.tmp")
mv "$OUT.tmp" "$OUT"

built="$(sha256sum "$OUT" | cut -d' ' -f1)"
if [[ -n "$PINNED_SHA" && "$built" != "$PINNED_SHA" ]]; then
    echo "quickjs: WARNING built sha256 $built differs from pinned $PINNED_SHA" >&2
    exit 1
fi
[[ -n "$PINNED_SHA" ]] || echo "$built  quickjs-peerhost.wasm" > "$DIST/quickjs-peerhost.wasm.sha256"
sources_sha > "$STAMP"
echo "quickjs: built $OUT ($(stat -c %s "$OUT") bytes, sha256 $built)"
