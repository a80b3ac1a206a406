"""The job feed: what gateways and workers say to each other over the feed's WebSocket, and the
signed requests committee seats send for a ticket's input.

One JSON object per WebSocket text message, with a ``type``::

    gateway -> worker   challenge   {"type", "gateway", "chain_id", "nonce"}
    worker  -> gateway  hello       {"type", "worker", "nonce", "signature"}
    gateway -> worker   job         {"type", "ticket", "signature", "input"}
    worker  -> gateway  answer      {"type", "request_id", "result_hash", "output", "attestation",
                                     "logs"}
    worker  -> gateway  refusal     {"type", "request_id", "reason"}
    gateway -> worker   cosign      {"type", "batch_id", "root", "leaves", "mask", "results"}
    worker  -> gateway  cosignature {"type", "batch_id", "signature"}

Byte fields are ``0x``-hex (hashes, signatures, ids) or base64 (``input``, ``output``, ``logs``).
A ticket travels as :func:`ticket_to_doc` (its EIP-712 fields, camelCase). ``hello`` proves the
worker holds its key: its signature covers :func:`hello_digest` (the gateway's address and the
nonce the gateway chose), which is never an EIP-712 digest, so it cannot be replayed as a ticket
or an attestation. An ``answer``'s ``attestation`` is the EIP-712 attestation of
:mod:`peerhost.wire.ticket` over (ticket hash, keccak(output)).

A ``cosign`` asks an attester to co-sign a posted batch (:mod:`peerhost.wire.batch`'s batch
attestation): the batch's id and root, its leaves as posted (base64), the 32-byte mask of the leaves
the gateway's opening lists the worker on and the attested result of every leaf of the batch, in
leaf order (the co-signature names the batch's results hash, over every leaf). The worker checks
its own leaves' results against what it attested and answers with a ``cosignature``; a worker that
does not is not paid as attester for that batch.

The input endpoint (``GET <gateway>/_inputs/0x<request id>``) serves a posted ticket's input to
the seats of its batch; the seat signs :func:`input_request_digest` and sends
:data:`INPUT_WORKER_HEADER`, :data:`INPUT_EXPIRES_HEADER` and :data:`INPUT_SIGNATURE_HEADER`.

Signing here works on 32-byte digests with coincurve (a few tens of microseconds), so the hot path
never builds EIP-712 dictionaries; :func:`ticket_digest` and :func:`attestation_digest` of
:mod:`peerhost.wire.ticket` give the same bytes the contracts check.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey, PublicKey
from eth_utils import keccak, to_canonical_address, to_checksum_address

from peerhost.wire.errors import WireError
from peerhost.wire.headers import (
    ATTESTATIONS_HEADER,
    EXPIRES_HEADER,
    SIGNATURE_HEADER,
    STATUS_URL_HEADER,
    TICKET_HASH_HEADER,
    WORKER_HEADER,
)
from peerhost.wire.ids import checksummed
from peerhost.wire.keccak import keccak256
from peerhost.wire.ticket import TICKET_FIELDS, Ticket

FEED_PATH = "/_feed"
INPUT_PATH = "/_inputs"
INPUT_WORKER_HEADER = WORKER_HEADER
INPUT_EXPIRES_HEADER = EXPIRES_HEADER
INPUT_SIGNATURE_HEADER = SIGNATURE_HEADER

#: The sha256 of each runtime engine this release runs: the QuickJS engine, the CPython runtime,
#: and the ``clf`` runtime's prelude (``peerhost/sandbox/engines/clf-prelude.js``, which wraps a
#: Chainlink-Functions-style source into a module for the QuickJS engine above).
#: ``peerhost.sandbox.js_engine``, ``python_engine`` and ``clf`` check their files against these
#: on load. They are part of the engine profile below, so a rebuilt engine
#: (a different fuel count or envelope for the same call) is a new profile, and workers running
#: different engines never serve, or judge, the same ticket.
RUNTIME_ENGINE_SHA256 = {
    "clf": "7cf3f658fb3df3a64c65e9f4e8b2d86547c9ddb7e5540a49a9b1ecee00d9cc4c",
    "js": "748f4b41894f88974c883f7b019ede58a30cfee32edff5188b7cb725c3b6bedf",
    "python": "7b7a5c19e32ee55c3cc6bf64aa973fe5a3cfbafd651bf0958470e7bf7184927d",
}

#: The engine profile this release of the sandbox runs: the hash of its engine and configuration
#: (wasmtime 50 with fuel, epochs, NaN canonicalization, no threads or relaxed SIMD; the wasi
#: runtime and the js and python engines above). A ticket names the profile its run must use; a
#: worker refuses a profile it does not run.
ENGINE_PROFILE_NAME = "peerhost-sandbox/1 wasmtime-50 fuel epoch nan-canonical wasi" + "".join(
    f" {runtime}:{sha}" for runtime, sha in sorted(RUNTIME_ENGINE_SHA256.items())
)
ENGINE_PROFILE = keccak(text=ENGINE_PROFILE_NAME)

MODE_NAMES = ("fast", "attested", "verified")  # Ticket.mode order


class FeedMessageError(WireError, ValueError):
    """A feed message that is not one of the formats above."""

    def __init__(self, what: str) -> None:
        super().__init__(f"Bad feed message: {what}.")


# ---- signatures over digests --------------------------------------------------------------------


class DigestSigner:
    """Signs 32-byte digests with one key: the key object is built once (building it costs more
    than the signature), so a process that signs on every call keeps one of these.

    Args:
        private_key: The 32-byte secp256k1 secret (never logged; not kept as bytes).
    """

    __slots__ = ("_key",)

    def __init__(self, private_key: bytes) -> None:
        self._key = PrivateKey(private_key)

    def sign(self, digest: bytes) -> bytes:
        """The 65-byte Ethereum signature (r ‖ s ‖ v, v = 27/28) of ``digest``."""
        sig = self._key.sign_recoverable(digest, hasher=None)
        return sig[:64] + bytes([sig[64] + 27])

    def __repr__(self) -> str:
        return "DigestSigner(<key>)"


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """The 65-byte Ethereum signature (r ‖ s ‖ v, v = 27/28) of ``digest`` (a one-off: a hot path
    keeps a :class:`DigestSigner`)."""
    return DigestSigner(private_key).sign(digest)


#: Recovered public keys -> checksummed addresses (the same few keys sign almost everything a
#: process checks; the checksum costs about as much as the recovery). Cleared when full.
_ADDRESSES: dict[bytes, str] = {}
_ADDRESSES_KEPT = 4096


def _address_of_public(public: bytes) -> str:
    address = _ADDRESSES.get(public)
    if address is None:
        if len(_ADDRESSES) >= _ADDRESSES_KEPT:
            _ADDRESSES.clear()
        address = _ADDRESSES[public] = to_checksum_address(keccak256(public[1:])[-20:])
    return address


def recover_digest(digest: bytes, signature: bytes) -> str:
    """The checksummed address that signed ``digest``; raises FeedMessageError when malformed."""
    if len(signature) != 65 or signature[64] not in (27, 28, 0, 1):
        raise FeedMessageError("a signature is 65 bytes ending in v = 27 or 28")
    v = signature[64] - 27 if signature[64] >= 27 else signature[64]
    try:
        public = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v]), digest, hasher=None
        )
    except Exception as exc:  # coincurve raises plain Exception on an invalid point
        raise FeedMessageError("the signature does not recover to a key") from exc
    return _address_of_public(public.format(compressed=False))


def address_of(private_key: bytes) -> str:
    public = PrivateKey(private_key).public_key.format(compressed=False)[1:]
    return to_checksum_address(keccak256(public)[-20:])


def hello_digest(gateway: str, nonce: bytes) -> bytes:
    """What a worker signs to open a feed to ``gateway``."""
    return keccak256(b"PeerHost feed hello\x00" + to_canonical_address(gateway) + nonce)


def input_request_digest(gateway: str, request_id: bytes, expires: int) -> bytes:
    """What a seat signs to fetch a ticket's input from ``gateway`` (valid until ``expires``)."""
    return keccak256(
        b"PeerHost input request\x00"
        + to_canonical_address(gateway)
        + request_id
        + expires.to_bytes(8, "big")
    )


# ---- tickets as JSON ------------------------------------------------------------------------------


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _bytes(doc: dict[str, Any], key: str, size: int | None = None) -> bytes:
    value = doc.get(key)
    if not isinstance(value, str) or not value.startswith("0x"):
        raise FeedMessageError(f"{key} must be 0x-hex")
    try:
        out = bytes.fromhex(value[2:])
    except ValueError:
        raise FeedMessageError(f"{key} is not valid hex") from None
    if size is not None and len(out) != size:
        raise FeedMessageError(f"{key} must be {size} bytes, got {len(out)}")
    return out


def _int(doc: dict[str, Any], key: str, bits: int) -> int:
    value = doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << bits:
        raise FeedMessageError(f"{key} must be an integer of {bits} bits")
    return value


def _b64(doc: dict[str, Any], key: str) -> bytes:
    value = doc.get(key, "")
    if not isinstance(value, str):
        raise FeedMessageError(f"{key} must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise FeedMessageError(f"{key} is not valid base64") from None


def _address(doc: dict[str, Any], key: str) -> str:
    return checksummed(_bytes(doc, key, 20))


def ticket_to_doc(ticket: Ticket) -> dict[str, Any]:
    """The ticket's EIP-712 fields as JSON (bytes as 0x-hex): a copy of the ticket's own."""
    return dict(ticket.json_fields)


#: A ticket document's keys (compared with a document's own, not built again for each).
_TICKET_KEYS = frozenset(name for name, _ in TICKET_FIELDS)


def ticket_from_doc(doc: Any) -> Ticket:
    """Strict inverse of :func:`ticket_to_doc`."""
    if not isinstance(doc, dict) or doc.keys() != _TICKET_KEYS:
        raise FeedMessageError("a ticket has exactly the EIP-712 Ticket fields")
    return Ticket(
        gateway=_address(doc, "gateway"),
        seq=_int(doc, "seq", 64),
        function_id=_bytes(doc, "functionId", 32),
        version=_int(doc, "version", 32),
        input_hash=_bytes(doc, "inputHash", 32),
        reward=_int(doc, "reward", 96),
        issued_at=_int(doc, "issuedAt", 40),
        deadline=_int(doc, "deadline", 40),
        mode=_int(doc, "mode", 8),
        secrets_version=_int(doc, "secretsVersion", 32),
        engine_profile=_bytes(doc, "engineProfile", 32),
        issued_total=_int(doc, "issuedTotal", 256),
    )


# ---- messages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    gateway: str
    chain_id: int
    nonce: bytes

    def to_doc(self) -> dict[str, Any]:
        return {
            "type": "challenge",
            "gateway": self.gateway,
            "chain_id": self.chain_id,
            "nonce": _hex(self.nonce),
        }


@dataclass(frozen=True)
class Hello:
    worker: str
    nonce: bytes
    signature: bytes

    def to_doc(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "worker": self.worker,
            "nonce": _hex(self.nonce),
            "signature": _hex(self.signature),
        }


@dataclass(frozen=True)
class JobOffer:
    """A ticket and its input, pushed to an attester."""

    ticket: Ticket
    signature: bytes
    input: bytes

    def to_doc(self) -> dict[str, Any]:
        return {
            "type": "job",
            "ticket": ticket_to_doc(self.ticket),
            "signature": _hex(self.signature),
            "input": base64.b64encode(self.input).decode(),
        }


@dataclass(frozen=True)
class Answer:
    """A worker's output for a ticket and its attestation over (ticket hash, keccak(output))."""

    request_id: bytes
    result_hash: bytes
    output: bytes
    attestation: bytes
    logs: bytes = b""

    def to_doc(self) -> dict[str, Any]:
        return {
            "type": "answer",
            "request_id": _hex(self.request_id),
            "result_hash": _hex(self.result_hash),
            "output": base64.b64encode(self.output).decode(),
            "attestation": _hex(self.attestation),
            "logs": base64.b64encode(self.logs).decode(),
        }


@dataclass(frozen=True)
class Refusal:
    """A worker declines a ticket; ``reason`` says which check failed (the gateway logs it)."""

    request_id: bytes
    reason: str

    def to_doc(self) -> dict[str, Any]:
        return {"type": "refusal", "request_id": _hex(self.request_id), "reason": self.reason}


@dataclass(frozen=True)
class CosignRequest:
    """The gateway asks an attester to co-sign batch ``batch_id`` (module docstring)."""

    batch_id: int
    root: bytes
    leaves: bytes
    mask: int
    results: tuple[bytes, ...]

    def to_doc(self) -> dict[str, Any]:
        return {
            "type": "cosign",
            "batch_id": self.batch_id,
            "root": _hex(self.root),
            "leaves": base64.b64encode(self.leaves).decode(),
            "mask": _hex(self.mask.to_bytes(32, "big")),
            "results": [_hex(r) for r in self.results],
        }


@dataclass(frozen=True)
class Cosignature:
    """An attester's 65-byte batch attestation of batch ``batch_id``."""

    batch_id: int
    signature: bytes

    def to_doc(self) -> dict[str, Any]:
        return {"type": "cosignature", "batch_id": self.batch_id, "signature": _hex(self.signature)}


Message = Challenge | Hello | JobOffer | Answer | Refusal | CosignRequest | Cosignature


def encode_message(message: Message) -> str:
    return json.dumps(message.to_doc(), separators=(",", ":"))


def decode_message(text: str | bytes) -> Message:
    """Parses one feed message; raises FeedMessageError for anything malformed."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise FeedMessageError("not JSON") from None
    if not isinstance(doc, dict):
        raise FeedMessageError("not a JSON object")
    kind = doc.get("type")
    if kind == "challenge":
        return Challenge(_address(doc, "gateway"), _int(doc, "chain_id", 64), _bytes(doc, "nonce"))
    if kind == "hello":
        return Hello(_address(doc, "worker"), _bytes(doc, "nonce"), _bytes(doc, "signature", 65))
    if kind == "job":
        return JobOffer(
            ticket_from_doc(doc.get("ticket")), _bytes(doc, "signature", 65), _b64(doc, "input")
        )
    if kind == "answer":
        return Answer(
            _bytes(doc, "request_id", 32),
            _bytes(doc, "result_hash", 32),
            _b64(doc, "output"),
            _bytes(doc, "attestation", 65),
            _b64(doc, "logs"),
        )
    if kind == "refusal":
        reason = doc.get("reason")
        if not isinstance(reason, str):
            raise FeedMessageError("reason must be text")
        return Refusal(_bytes(doc, "request_id", 32), reason[:500])
    if kind == "cosign":
        results = doc.get("results")
        if not isinstance(results, list) or len(results) > 256:
            raise FeedMessageError("results must be a list of at most 256 hashes")
        mask = int.from_bytes(_bytes(doc, "mask", 32), "big")
        if mask >> len(results):
            raise FeedMessageError(
                "results must hold one hash per leaf, mask naming none past them"
            )
        return CosignRequest(
            _int(doc, "batch_id", 256),
            _bytes(doc, "root", 32),
            _b64(doc, "leaves"),
            mask,
            tuple(_bytes({"r": r}, "r", 32) for r in results),
        )
    if kind == "cosignature":
        return Cosignature(_int(doc, "batch_id", 256), _bytes(doc, "signature", 65))
    raise FeedMessageError(f"unknown type {str(kind)[:40]!r}")


# ---- the attestations header --------------------------------------------------------------------


def attestations_header(pairs: list[tuple[str, bytes]]) -> str:
    """``worker:0xsig,worker:0xsig`` (fastest first)."""
    return ",".join(f"{worker}:{_hex(sig)}" for worker, sig in pairs)


def parse_attestations_header(value: str) -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        worker, _, sig = item.partition(":")
        doc = {"w": worker, "s": sig}
        out.append((_address(doc, "w"), _bytes(doc, "s", 65)))
    return out


__all__ = [
    "ATTESTATIONS_HEADER",
    "ENGINE_PROFILE",
    "STATUS_URL_HEADER",
    "TICKET_HASH_HEADER",
    "FEED_PATH",
    "INPUT_PATH",
    "MODE_NAMES",
    "Answer",
    "Challenge",
    "CosignRequest",
    "Cosignature",
    "DigestSigner",
    "FeedMessageError",
    "Hello",
    "JobOffer",
    "Message",
    "Refusal",
    "address_of",
    "attestations_header",
    "decode_message",
    "encode_message",
    "hello_digest",
    "input_request_digest",
    "parse_attestations_header",
    "recover_digest",
    "sign_digest",
    "ticket_from_doc",
    "ticket_to_doc",
]
