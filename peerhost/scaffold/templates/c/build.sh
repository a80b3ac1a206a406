#!/usr/bin/env bash
# Builds src/hello.c into functions/hello.wasm (a WASI preview1 command module). Needs clang,
# lld and wasi-libc (Debian: apt-get install clang lld wasi-libc libclang-rt-dev-wasm32).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
clang --target=wasm32-wasi --sysroot=/usr -O2 -fno-ident -Wl,--strip-all \
    "$HERE/src/hello.c" -o "$HERE/functions/hello.wasm"
echo "built functions/hello.wasm ($(stat -c %s "$HERE/functions/hello.wasm") bytes)"
