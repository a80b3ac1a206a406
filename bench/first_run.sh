#!/usr/bin/env bash
# Times the first run of a fresh clone: `git clone`, then `bin/devnet` (set-up included) until the
# devnet answers its first call (hello, fast mode). Prints the set-up steps with their times and
# one JSON line of figures. Caches (pip, npm) are the machine's, as for CI on a warm runner.
# Usage: bench/first_run.sh [REPO (default: this checkout)] [BRANCH (default: its current one)]
set -euo pipefail
src="${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}"
branch="${2:-$(git -C "$src" branch --show-current)}"
work="$(mktemp -d)"
solc_link="$HOME/.solcx/solc-v0.8.28"
solc_before="$(readlink "$solc_link" 2>/dev/null || true)"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # bin/setup points the shared solc front end at the clone: point it back before deleting it
  if [[ -n "$solc_before" ]]; then ln -sf "$solc_before" "$solc_link"; fi
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
t0=$(now)
git clone -q --branch "$branch" "$src" "$work/peerhost"
t_clone=$(now)
cd "$work/peerhost"
bin/devnet --port 0 --urls-json "$work/urls.json" >"$work/devnet.log" 2>&1 &
pid=$!
while [[ ! -s "$work/urls.json" ]]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "bin/devnet exited before it was up:" >&2
    tail -40 "$work/devnet.log" >&2
    exit 1
  fi
  sleep 0.2
done
t_up=$(now)
hello="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["functions"]["hello"])' "$work/urls.json")"
code="$(curl -s -o "$work/hello.out" -w '%{http_code}' --max-time 60 "$hello?name=first-run")"
t_call=$(now)
grep -E '^==> .*\[[0-9]+ s\]$' "$work/devnet.log" >&2 || true
grep -E '^==> |done in' "$work/devnet.log" | grep -v '\[[0-9]* s\]$' >&2 || true
python3 - "$t0" "$t_clone" "$t_up" "$t_call" "$code" <<'PY'
import json, sys
t0, clone, up, call = map(float, sys.argv[1:5])
print(json.dumps({
    "clone_s": round(clone - t0, 1),
    "devnet_up_s": round(up - clone, 1),   # bin/setup + ape run devnet until the URLs are written
    "first_call_s": round(call - up, 2),
    "total_to_first_answer_s": round(call - t0, 1),
    "first_call_status": int(sys.argv[5]),
}))
PY
