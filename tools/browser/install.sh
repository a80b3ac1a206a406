#!/usr/bin/env bash
# Installs Debian's chromium and chromium-driver for the status page's browser tests, when absent.
# Only the browser tests need them (bin/setup --browser; bin/test asks for it); the devnet does not.
# Uses apt-get (as root, or through sudo when available). A no-op when both are installed.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
start=$SECONDS
as_root=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || {
    echo "tools/browser/install.sh: run as root, or: sudo apt-get install chromium chromium-driver" >&2
    exit 1
  }
  as_root=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
echo "chromium $(chromium --version 2>/dev/null | awk '{print $2}') installed ($((SECONDS - start)) s)"
