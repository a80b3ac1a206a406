#!/usr/bin/env bash
# Install js-ipfs (npm "ipfs" 0.66.1, with the overrides that keep it working on
# Node 20) into tools/ipfs/node_modules. Idempotent: a no-op when already installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
stamp="node_modules/.peerhost-installed"
if [[ -x node_modules/.bin/jsipfs && -f "$stamp" ]] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
command -v npm >/dev/null || { echo "tools/ipfs/install.sh: npm is required (Node 20)" >&2; exit 1; }
start=$SECONDS
# Not `npm ci`: the lock cannot list an optional dependency (electron-eval's git
# tarball) that never installs here, and npm ci refuses such a lock. Optional
# dependencies (wrtc, electron) download binaries at install and are not needed.
npm install --prefer-offline --omit=optional --no-save --no-audit --no-fund --loglevel=error
node_modules/.bin/jsipfs --version >/dev/null
cp package-lock.json "$stamp"
echo "js-ipfs installed in tools/ipfs/node_modules ($((SECONDS - start)) s)"
