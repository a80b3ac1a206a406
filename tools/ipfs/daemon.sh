#!/usr/bin/env bash
# Run a local js-ipfs daemon in the foreground: offline, loopback only, no
# bootstrap peers, test profile. Options (all optional):
#   --repo DIR          repo directory (default .cache/ipfs at the project root)
#   --api-port N        RPC API port on 127.0.0.1 (default 5001, 0 = any free)
#   --gateway-port N    HTTP gateway port on 127.0.0.1 (default 8080, 0 = any free)
# Installs js-ipfs first when it is missing (tools/ipfs/install.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "${PEERHOST_JSIPFS:-}" ]]; then bash "$root/tools/ipfs/install.sh"; fi
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$root/.venv/bin/python" ]]; then python="$root/.venv/bin/python"; else python=python3; fi
fi
cd "$root"
exec "$python" -m peerhost.storage.daemon "$@"
