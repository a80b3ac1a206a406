"""A raw-socket WebSocket client (RFC 6455) that can also send what no library would: unmasked
frames, reserved bits, unknown opcodes, fragmented control frames (imported by module name)."""

from __future__ import annotations

import base64
import os
import struct
from dataclasses import dataclass

from edge_client import connect

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


@dataclass
class Frame:
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int:
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else 1005

    @property
    def close_reason(self) -> str:
        return self.payload[2:].decode("utf-8", "replace")


def frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True, rsv: int = 0
) -> bytes:
    """One frame as a client sends it (``mask=False`` breaks the client's masking rule)."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    size = len(payload)
    bit = 0x80 if mask else 0
    if size < 126:
        head += bytes([bit | size])
    elif size < 1 << 16:
        head += bytes([bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", size)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawWebSocket:
    """An open WebSocket on a raw socket, after a handshake this class writes itself."""

    def __init__(self, port: int, path: str, source: str = "127.0.0.4") -> None:
        self.sock = connect(port, source, timeout=15.0)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed during the handshake: {head!r}")
            head += chunk
        head, _, self.buffer = head.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"no upgrade: {head!r}")

    def _read(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        out, self.buffer = self.buffer[:size], self.buffer[size:]
        return out

    def receive(self) -> Frame:
        """The server's next frame (servers never mask)."""
        first, second = self._read(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._read(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._read(8))[0]
        return Frame(first & 0x0F, self._read(size))

    def receive_text(self) -> str:
        got = self.receive()
        if got.opcode != TEXT:
            raise AssertionError(f"expected a text frame, got opcode {got.opcode} {got.payload!r}")
        return got.payload.decode()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_text(self, text: str) -> None:
        self.sock.sendall(frame(TEXT, text.encode()))

    def close_frame(self) -> Frame:
        """Reads until the server's close frame (skipping pings and data)."""
        while True:
            got = self.receive()
            if got.opcode == CLOSE:
                return got

    def still_open(self) -> bool:
        """True when the server answers a ping with a pong."""
        self.send_raw(frame(PING, b"edge"))
        try:
            while True:
                got = self.receive()
                if got.opcode == PONG:
                    return got.payload == b"edge"
                if got.opcode == CLOSE:
                    return False
        except (TimeoutError, ConnectionError):
            return False

    def close(self) -> None:
        self.sock.close()
