"""An IPFS daemon as a content store, over its Kubo-compatible RPC API (httpx, no SDK).

Works with Kubo and with js-ipfs (``tools/ipfs``). Content is added as CIDv1
with raw leaves and the default chunker, so the daemon's CID equals
:func:`~peerhost.storage.unixfs.compute_cid`; both are checked on every put,
and every read is verified.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import httpx

from peerhost.storage.cid import CidLike, cid_str, same_cid
from peerhost.storage.errors import ContentMismatch, ContentNotFound, StoreUnavailable
from peerhost.storage.unixfs import CHUNK_SIZE, compute_cid
from peerhost.storage.verify import verify

DEFAULT_API_URL = "http://127.0.0.1:5001"

START_HINT = (
    "no IPFS daemon answers there. Start one with `bash tools/ipfs/daemon.sh` "
    "(after `bash tools/ipfs/install.sh`) or `ipfs daemon`, or use a local: store."
)

# How daemons say "I do not have this block" (Kubo, js-ipfs offline).
# An offline js-ipfs waits for a missing block until the request's own timeout.
_NOT_FOUND_MARKERS = ("not found", "notfound", "offline", "no such", "timed out", "timeout")


class IpfsStore:
    """Content store backed by an IPFS daemon's RPC API.

    Args:
        api_url: the daemon's RPC API origin (``Addresses.API``).
        timeout: seconds for one HTTP request (an add of a large object included).
        lookup_timeout: seconds the daemon may spend finding a CID's blocks
            (its ``timeout`` option on ``cat``, ``block/stat`` and ``pin/add``)
            before the content counts as not found. A daemon that lacks a block
            does not say so at once: it waits for the network, or in offline mode
            until this timeout, so keep it short for a local daemon.
        pin: pin what :meth:`put` adds.
        client: an httpx client to use instead of a new one.
    """

    DEFAULT_TIMEOUT: ClassVar[float] = 60.0
    DEFAULT_LOOKUP_TIMEOUT: ClassVar[float] = 10.0
    verifies_reads: ClassVar[bool] = True

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        lookup_timeout: float = DEFAULT_LOOKUP_TIMEOUT,
        pin: bool = True,
        client: httpx.Client | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.lookup_timeout = lookup_timeout
        self.pin_on_put = pin
        self._client = client or httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0))

    def __repr__(self) -> str:
        return f"IpfsStore({self.api_url!r})"

    @property
    def where(self) -> str:
        """How messages name this store."""
        return f"IPFS daemon {self.api_url}"

    def put(self, data: bytes) -> str:
        """Add ``data`` (CIDv1, raw leaves, pinned) and return its CID.

        Raises:
            StoreUnavailable: the daemon cannot be reached.
            ContentMismatch: the daemon's CID differs from ``compute_cid(data)``.
        """
        expected = compute_cid(data)
        params = {
            "cid-version": "1",
            "raw-leaves": "true",
            "hash": "sha2-256",
            "chunker": f"size-{CHUNK_SIZE}",
            "pin": "true" if self.pin_on_put else "false",
            "cid-base": "base32",
            "quieter": "true",
            "progress": "false",
        }
        files = {"file": ("blob", data, "application/octet-stream")}
        response = self._post("add", params, files=files)
        try:  # one JSON object per line (progress lines first on some daemons)
            added = str(json.loads(response.text.strip().splitlines()[-1])["Hash"])
        except (ValueError, IndexError, KeyError, TypeError):
            answer = response.text.strip()[:200]
            raise StoreUnavailable(self.api_url, f"add gave no CID (answer: {answer!r}).") from None
        if not same_cid(added, expected):
            raise ContentMismatch(expected, cid_str(added), f"{self.where} (add)")
        return expected

    def get(self, cid: CidLike) -> bytes:
        """Return the verified content of ``cid`` (``cat``).

        Raises:
            ContentNotFound: the daemon does not have it (or timed out looking).
            ContentMismatch: the daemon returned other bytes (refused).
            StoreUnavailable: the daemon cannot be reached.
        """
        key = cid_str(cid)
        # Find the root within lookup_timeout, then let the transfer take up to
        # timeout: a daemon-side timeout covers the whole cat, and big content
        # must not be reported missing because it is slow to stream.
        self._post("block/stat", self._arg(key), key=key)
        response = self._post("cat", self._arg(key, self.timeout), key=key)
        return verify(response.content, key, self.where)

    def has(self, cid: CidLike) -> bool:
        """Tell whether the daemon holds the root block of ``cid`` locally."""
        key = cid_str(cid)
        try:
            self._post("block/stat", self._arg(key), key=key)
        except ContentNotFound:
            return False
        return True

    def pin(self, cid: CidLike) -> None:
        """Pin ``cid`` (recursively) so the daemon's garbage collection keeps it."""
        key = cid_str(cid)
        self._post("pin/add", {**self._arg(key), "recursive": "true"}, key=key)

    def version(self) -> dict[str, Any]:
        """Return the daemon's ``version`` answer (``{"Version": "0.18.1", ...}``)."""
        answer: dict[str, Any] = self._post("version", {}).json()
        return answer

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __enter__(self) -> IpfsStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _arg(self, key: str, timeout: float | None = None) -> dict[str, str]:
        seconds = self.lookup_timeout if timeout is None else timeout
        return {"arg": key, "timeout": f"{round(seconds * 1000)}ms"}

    def _post(
        self,
        command: str,
        params: dict[str, str],
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        key: str | None = None,
    ) -> httpx.Response:
        url = f"{self.api_url}/api/v0/{command}"
        try:
            response = self._client.post(url, params=params, files=files)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise StoreUnavailable(self.api_url, START_HINT) from exc
        except httpx.TimeoutException as exc:
            hint = f"{command} got no answer within {self.timeout:g}s; is the daemon overloaded?"
            raise StoreUnavailable(self.api_url, hint) from exc
        except httpx.TransportError as exc:
            raise StoreUnavailable(self.api_url, f"{type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return response
        message = _error_message(response)
        if key is not None and any(m in message.lower() for m in _NOT_FOUND_MARKERS):
            raise ContentNotFound(key, self.where)
        if response.status_code == 404:
            raise StoreUnavailable(self.api_url, f"{url} is not an IPFS RPC API (HTTP 404).")
        raise StoreUnavailable(
            self.api_url, f"{command} failed with HTTP {response.status_code}: {message}"
        )


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if isinstance(body, dict):
        return str(body.get("Message", body))[:300]
    return str(body)[:300]
