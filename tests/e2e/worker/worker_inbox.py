"""A stand-in result inbox: records what workers POST, like the gateway's inbox would see it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from peerhost.functionlogs.capture import decode_log
from peerhost.wire.headers import LOG_HEADER


@dataclass(frozen=True)
class Post:
    path: str
    body: bytes
    worker: str
    signature: str
    content_type: str
    log: str = ""  # the function's log the worker sent along (decoded), "" when none


class RecordingInbox:
    """Answers 202 to every POST under ``/_inbox/`` and keeps the posts."""

    def __init__(self) -> None:
        self.posts: list[Post] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                inbox.posts.append(
                    Post(
                        self.path,
                        body,
                        self.headers.get("X-PeerHost-Worker", ""),
                        self.headers.get("X-PeerHost-Signature", ""),
                        self.headers.get("Content-Type", ""),
                        _log_of(self.headers.get(LOG_HEADER, "")),
                    )
                )
                self.send_response(202 if self.path.startswith("/_inbox/0x") else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/_inbox"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _log_of(header: str) -> str:
    return decode_log(header) if header else ""
