"""How soon a call's function log reaches its owner after the answer, on a running devnet.

A reader waits on ``GET /_logs?wait=`` (what ``ape run logs --follow`` does) while the devnet's
``hello`` example is called; the figure is the time from the caller's answer to the reader's
answer holding that call's entry (negative: the entry came before the caller had read the body).
Prints one JSON document.

    ape run devnet --urls-json urls.json          # in another terminal
    python bench/log_latency.py urls.json [--calls 20]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from peerhost.devnet.accounts import DEVELOPER, derive
from peerhost.functionlogs import key_signer, sign_access
from peerhost.wire.headers import REQUEST_ID_HEADER


def measure(urls: dict[str, Any], calls: int) -> list[float]:
    """Milliseconds from each call's answer to its log entry at a waiting reader."""
    owner = derive(DEVELOPER)
    url = urls["functions"]["hello"]
    logs = f"{urls['gateway']}/_logs/{owner.address}/examples"
    headers = sign_access(key_signer(owner.private_key), owner.address, "examples")
    deltas: list[float] = []
    with httpx.Client(timeout=60) as http:
        for n in range(calls):
            last = http.get(logs, headers=headers).json()["last"]
            seen: dict[str, Any] = {}

            def follow(last: int = last, seen: dict[str, Any] = seen) -> None:
                answer = http.get(logs, params={"after": last, "wait": 30}, headers=headers)
                seen["at"], seen["entries"] = time.monotonic(), answer.json()["entries"]

            reader = threading.Thread(target=follow)
            reader.start()
            time.sleep(0.3)  # the reader is waiting at the gateway
            answer = http.get(url, params={"name": f"n{n}"})
            answered = time.monotonic()
            reader.join()
            request_id = answer.headers[REQUEST_ID_HEADER]
            if not any(e["request_id"] == request_id for e in seen["entries"]):
                raise SystemExit(f"the reader got no entry for {request_id}")
            deltas.append((seen["at"] - answered) * 1000)
    return deltas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", type=Path, help="the devnet's --urls-json file")
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    deltas = sorted(measure(json.loads(args.urls.read_text()), args.calls))
    print(
        json.dumps(
            {
                "calls": len(deltas),
                "log_after_answer_ms": {
                    "median": round(deltas[len(deltas) // 2], 1),
                    "max": round(deltas[-1], 1),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
