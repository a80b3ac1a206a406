"""A trusted HTTP gateway (``GET /ipfs/<cid>``) as a read-only content source.

"Trusted" means trusted to be up, never trusted for content: every response is
verified against the CID it was asked for.
"""

from __future__ import annotations

from typing import ClassVar

import httpx

from peerhost.storage.cid import CidLike, cid_str
from peerhost.storage.errors import ContentNotFound, StoreUnavailable
from peerhost.storage.verify import verify

_NOT_FOUND = {404, 410, 504}  # 504: the gateway could not retrieve the content in time


class HttpGatewaySource:
    """Read content by CID from an IPFS HTTP gateway.

    Args:
        base_url: the gateway's origin, e.g. ``http://127.0.0.1:8080``.
        timeout: seconds for one request.
        client: an httpx client to use instead of a new one (tests, shared pools).
    """

    verifies_reads: ClassVar[bool] = True

    def __init__(
        self, base_url: str, timeout: float = 30.0, client: httpx.Client | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=True)

    def __repr__(self) -> str:
        return f"HttpGatewaySource({self.base_url!r})"

    @property
    def where(self) -> str:
        """How messages name this source."""
        return f"HTTP gateway {self.base_url}"

    def get(self, cid: CidLike) -> bytes:
        """Fetch and verify the content of ``cid``.

        Raises:
            ContentNotFound: the gateway answered 404, 410 or 504, or timed out
                after connecting.
            ContentMismatch: the gateway sent other bytes (refused).
            StoreUnavailable: the gateway cannot be reached or failed otherwise.
        """
        key = cid_str(cid)
        response = self._request("GET", key)
        return verify(response.content, key, self.where)

    def has(self, cid: CidLike) -> bool:
        """Ask the gateway (HEAD) whether it can serve ``cid``."""
        try:
            self._request("HEAD", cid_str(cid))
        except ContentNotFound:
            return False
        return True

    def close(self) -> None:
        """Close the HTTP client."""
        self._client.close()

    def __enter__(self) -> HttpGatewaySource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _request(self, method: str, key: str) -> httpx.Response:
        url = f"{self.base_url}/ipfs/{key}"
        try:
            response = self._client.request(method, url)
        except (httpx.ReadTimeout, httpx.WriteTimeout) as exc:
            # Connected, but the gateway is still looking for the content: as good as 504.
            raise ContentNotFound(key, f"{self.where} (timed out)") from exc
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                self.base_url, f"{type(exc).__name__}; check the gateway URL and that it is up."
            ) from exc
        if response.status_code in _NOT_FOUND:
            raise ContentNotFound(key, self.where)
        if response.is_error:
            raise StoreUnavailable(
                self.base_url, f"GET /ipfs/{key} answered HTTP {response.status_code}."
            )
        return response
