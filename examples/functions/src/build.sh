#!/usr/bin/env bash
# Rebuilds the C examples into WASI preview1 command modules next to this
# folder (examples/functions/<name>.wasm). Needs Debian's clang, lld and
# wasi-libc (tools/quickjs/build.sh installs them). The .wasm files are
# committed, so running this is only needed after editing a source.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for name in hello echo; do
    clang --target=wasm32-wasi --sysroot=/usr -O2 -fno-ident -Wl,--strip-all \
        "$HERE/$name.c" -o "$HERE/../$name.wasm"
    echo "built $name.wasm ($(stat -c %s "$HERE/../$name.wasm") bytes)"
done
