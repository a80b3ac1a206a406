#!/usr/bin/env bash
# Install js-ipfs (npm "ipfs" 0.66.1, with the overrides that keep it working on
# Node 20) into tools/ipfs/node_modules.
#
# Idempotent: a no-op when already installed for this package-lock.json. A
# finished install is also kept in a per-user cache keyed by package.json and
# the lock (${PEERHOST_TOOLS_CACHE:-~/.cache/peerhost}), so a fresh clone on
# the same machine (CI) links it in seconds instead of a 2-3.5 min npm install.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
stamp="node_modules/.peerhost-installed"
if [[ -x node_modules/.bin/jsipfs && -f "$stamp" ]] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
start=$SECONDS
key="$(cat package.json package-lock.json | sha256sum | cut -c1-16)"
cache_root="${PEERHOST_TOOLS_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/peerhost}"
cached="$cache_root/jsipfs-$key"

if [[ -x "$cached/node_modules/.bin/jsipfs" && -f "$cached/node_modules/.peerhost-installed" ]]; then
  rm -rf node_modules
  cp -al "$cached/node_modules" node_modules 2>/dev/null || { rm -rf node_modules; cp -a "$cached/node_modules" node_modules; }
  if node_modules/.bin/jsipfs --version >/dev/null 2>&1; then
    echo "js-ipfs linked from $cached ($((SECONDS - start)) s)"
    exit 0
  fi
  echo "cached js-ipfs in $cached is broken; installing from npm" >&2
  rm -rf node_modules
fi

command -v npm >/dev/null || { echo "tools/ipfs/install.sh: npm is required (Node 20)" >&2; exit 1; }
# Not `npm ci`: the lock cannot list an optional dependency (electron-eval's git
# tarball) that never installs here, and npm ci refuses such a lock. Optional
# dependencies (wrtc, electron) download binaries at install and are not needed.
npm install --prefer-offline --omit=optional --no-save --no-audit --no-fund --loglevel=error
node_modules/.bin/jsipfs --version >/dev/null
cp package-lock.json "$stamp"
echo "js-ipfs installed in tools/ipfs/node_modules ($((SECONDS - start)) s)"

# Keep a copy for the next clone on this machine (best effort).
if mkdir -p "$cache_root" 2>/dev/null; then
  tmp="$(mktemp -d "$cache_root/.jsipfs-XXXXXX")"
  if cp -al node_modules "$tmp/node_modules" 2>/dev/null || cp -a node_modules "$tmp/node_modules"; then
    rm -rf "$cached" && mv "$tmp" "$cached" || rm -rf "$tmp"
  else
    rm -rf "$tmp"
  fi
fi
