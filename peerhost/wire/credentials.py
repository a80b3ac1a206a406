"""Credential headers: a salted commitment on-chain, the value off-chain to the workers.

A function that declares ``authorization``, ``cookie`` or ``proxy-authorization`` (project.json
``"headers"``) receives it, but the value never reaches the chain. The gateway puts in the
canonical request (the job's on-chain input) only ``sealed:0x<commitment>`` with

    commitment = keccak256("peerhost/credential/v1" ‖ salt ‖ name ‖ 0x00 ‖ value)

for a fresh 32-byte ``salt`` per request and header (so the commitment reveals nothing, not even
whether two requests carried the same token). The gateway keeps ``(salt, value)`` in memory for
the request's life and discloses them at ``GET {replyTo}/credentials/0x<inputHash>`` to an active
worker that signs the request (:func:`disclosure_digest`, EIP-191 over chain id, input hash and a
timestamp). The worker checks every value against its commitment and substitutes it before the
run (:func:`unseal`); every honest worker therefore feeds the function the same bytes and gets the
same envelope. A worker that cannot get or verify a value skips the job (never a guess).

Consequence: such a run cannot be replayed from on-chain data alone by someone without the
credentials (the on-chain input holds only commitments).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from eth_utils import keccak

from peerhost.wire.canonical import canonical_json
from peerhost.wire.headers import ISSUED_AT_HEADER, SIGNATURE_HEADER, WORKER_HEADER
from peerhost.wire.inbox import INBOX_PATH

CREDENTIAL_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
SEALED_PREFIX = "sealed:0x"
_TAG = b"peerhost/credential/v1"
_DISCLOSURE_TAG = b"peerhost/credential-disclosure/v1"
#: Where a gateway discloses openings, below its public URL (a request's ``replyTo`` + ``/credentials``).
CREDENTIALS_PATH = INBOX_PATH + "/credentials"


class CredentialMismatch(ValueError):
    """A disclosed value does not open its on-chain commitment (or is missing)."""


@dataclass(frozen=True)
class Disclosed:
    """One credential header's opening: the salt and the value."""

    salt: bytes
    value: str

    def to_json(self) -> dict[str, str]:
        return {"salt": "0x" + self.salt.hex(), "value": self.value}

    @classmethod
    def from_json(cls, doc: Mapping[str, str]) -> Disclosed:
        return cls(bytes.fromhex(str(doc["salt"]).removeprefix("0x")), str(doc["value"]))


def commitment(name: str, opening: Disclosed) -> bytes:
    """keccak256(tag ‖ salt ‖ name ‖ 0x00 ‖ value)."""
    return keccak(_TAG + opening.salt + name.encode() + b"\0" + opening.value.encode("utf-8"))


def seal(
    headers: Mapping[str, str | list[str]], declared: frozenset[str] | tuple[str, ...]
) -> tuple[dict[str, str | list[str]], dict[str, Disclosed]]:
    """Replaces the declared credential headers of ``headers`` by their commitments.

    Returns the headers to build the canonical request from, and the openings to keep off-chain.
    Credential headers that are not declared are dropped here already (as the allow-list would).
    """
    public: dict[str, str | list[str]] = {}
    openings: dict[str, Disclosed] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered not in CREDENTIAL_HEADERS:
            public[name] = value
            continue
        if lowered not in declared:
            continue
        joined = value if isinstance(value, str) else ", ".join(value)
        if lowered in openings:  # repeated under two spellings: join like the allow-list does
            joined = openings[lowered].value + ", " + joined
        openings[lowered] = Disclosed(os.urandom(32), joined)
    for lowered, opening in openings.items():
        public[lowered] = SEALED_PREFIX + commitment(lowered, opening).hex()
    return public, openings


def sealed_names(data: bytes) -> dict[str, bytes]:
    """The sealed credential headers of a canonical request: name -> commitment."""
    if b'"' + SEALED_PREFIX.encode() not in data:
        return {}
    try:
        doc = json.loads(data)
    except ValueError:
        return {}
    headers = doc.get("headers") if isinstance(doc, dict) else None
    if not isinstance(headers, dict):
        return {}
    out: dict[str, bytes] = {}
    for name, value in headers.items():
        if (
            name in CREDENTIAL_HEADERS
            and isinstance(value, str)
            and value.startswith(SEALED_PREFIX)
        ):
            try:
                out[name] = bytes.fromhex(value.removeprefix(SEALED_PREFIX))
            except ValueError:
                continue
    return out


def unseal(data: bytes, openings: Mapping[str, Disclosed]) -> bytes:
    """The canonical request with each sealed credential header replaced by its value.

    Raises:
        CredentialMismatch: an opening is missing or does not match its commitment.
    """
    sealed = sealed_names(data)
    if not sealed:
        return data
    doc = json.loads(data)
    for name, expected in sealed.items():
        opening = openings.get(name)
        if opening is None:
            raise CredentialMismatch(f"no value disclosed for the sealed header '{name}'")
        if commitment(name, opening) != expected:
            raise CredentialMismatch(f"the disclosed '{name}' does not match its commitment")
        doc["headers"][name] = opening.value
    return canonical_json(doc)


def disclosure_digest(chain_id: int, input_hash: bytes, issued_at: int) -> bytes:
    """What a worker signs (EIP-191) to be given a request's credentials."""
    return keccak(
        _DISCLOSURE_TAG
        + chain_id.to_bytes(32, "big")
        + input_hash
        + issued_at.to_bytes(8, "big", signed=False)
    )


def disclosure_url(reply_url: str, input_hash: bytes) -> str:
    """Where a worker asks the gateway of ``reply_url`` (a job's ``replyTo``) for the openings."""
    return f"{reply_url.rstrip('/')}/credentials/0x{input_hash.hex()}"


def disclosure_headers(worker: str, issued_at: int, signature: bytes) -> dict[str, str]:
    """The headers of a worker's disclosure request (signature over :func:`disclosure_digest`)."""
    return {
        WORKER_HEADER: worker,
        ISSUED_AT_HEADER: str(issued_at),
        SIGNATURE_HEADER: "0x" + signature.hex(),
    }
