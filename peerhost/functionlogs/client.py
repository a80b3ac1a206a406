"""Reading logs from a gateway as the owner: fetch, follow, print.

``GET <gateway>/_logs/<wallet>/<project>?function=&request=&after=&wait=`` with the owner's
access headers (:mod:`.access`); the answer is ``{"entries": [...], "last": <seq>}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from peerhost.functionlogs.access import sign_access
from peerhost.functionlogs.errors import LogsUnavailable

#: Longest a follow request waits on the gateway for new entries, in seconds.
FOLLOW_WAIT = 20.0


def logs_url(gateway_url: str, wallet: str, project: str) -> str:
    return f"{gateway_url.rstrip('/')}/_logs/{wallet}/{project}"


def fetch(
    gateway_url: str,
    wallet: str,
    project: str,
    sign: Callable[[str], bytes],
    *,
    function: str | None = None,
    request_id: str | None = None,
    after: int = 0,
    wait: float = 0.0,
    client: httpx.Client | None = None,
) -> dict[str, Any]:
    """One read: ``{"entries": [...], "last": seq}``. Raises LogsUnavailable with the reason."""
    params: dict[str, str] = {"after": str(after)}
    if function:
        params["function"] = function
    if request_id:
        params["request"] = request_id
    if wait > 0:
        params["wait"] = f"{wait:g}"
    headers = sign_access(sign, wallet, project)
    url = logs_url(gateway_url, wallet, project)
    own = client is None
    http = client or httpx.Client(timeout=wait + 30.0)
    try:
        response = http.get(url, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise LogsUnavailable(url, f"cannot reach the gateway ({type(exc).__name__})") from exc
    finally:
        if own:
            http.close()
    if response.status_code != 200:
        try:
            doc = response.json()
            reason = str(doc.get("detail") or doc.get("message") or response.text)
        except ValueError:
            reason = response.text[:300]
        raise LogsUnavailable(url, f"HTTP {response.status_code}: {reason}")
    answer: dict[str, Any] = response.json()
    return answer


def follow(
    gateway_url: str,
    wallet: str,
    project: str,
    sign: Callable[[str], bytes],
    *,
    function: str | None = None,
    request_id: str | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Iterator[dict[str, Any]]:
    """The existing entries, then each new one as it arrives, until ``stop()`` is true."""
    after, wait = 0, 0.0
    with httpx.Client(timeout=FOLLOW_WAIT + 30.0) as client:
        while not stop():
            answer = fetch(
                gateway_url,
                wallet,
                project,
                sign,
                function=function,
                request_id=request_id,
                after=after,
                wait=wait,
                client=client,
            )
            yield from answer["entries"]
            after, wait = int(answer["last"]), FOLLOW_WAIT


def format_entry(entry: dict[str, Any]) -> list[str]:
    """One block: a header line (time, function, status, latency, request id), then the log."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(entry["at"])))
    header = (
        f"{stamp}  {entry['function']}  {entry['status']}  {float(entry['latency_ms']):.0f} ms  "
        f"{entry['mode']}  {entry['request_id']}"
    )
    lines = [header]
    log = entry.get("lines") or []
    lines += [f"  | {line}" for line in log] if log else ["  (no log output)"]
    return lines
