"""Tickets, request ids and attestations (protocol v2): the EIP-712 formats both sides sign.

A **ticket** is the gateway's signed promise that a request will be paid from a project reserve.
Its request id is ``keccak(abi.encode(chainId, coordinator, gateway, seq))``, so it is known
before anything reaches the chain. An **attestation** is a worker's EIP-712 signature over
``(ticketHash, resultHash)``; ``ticketHash`` is the ticket's EIP-712 struct hash.

The domain is ``EIP712Domain(name "PeerHost", version "2", chainId, verifyingContract)`` with the
settlement coordinator as verifying contract (``ISettlementCoordinator.DOMAIN_VERSION``). The
contracts expose ``requestIdOf``, ``ticketHash``, ``ticketDigest`` and ``attestationDigest``;
the contract tests compare them with this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

from peerhost.wire.ids import checksummed
from peerhost.wire.keccak import keccak256

DOMAIN_NAME = "PeerHost"
DOMAIN_VERSION = "2"

#: Ticket.mode: how the gateway answers (the committee audits every non-FAST leaf).
MODE_FAST, MODE_ATTESTED, MODE_VERIFIED = 0, 1, 2
#: Seqs from here up are contracts' single requests (``requestExecution``), never gateway tickets.
SINGLE_SEQ = 1 << 63

TICKET_FIELDS: tuple[tuple[str, str], ...] = (
    ("gateway", "address"),
    ("seq", "uint64"),
    ("functionId", "bytes32"),
    ("version", "uint32"),
    ("inputHash", "bytes32"),
    ("reward", "uint96"),
    ("issuedAt", "uint40"),
    ("deadline", "uint40"),
    ("mode", "uint8"),
    ("secretsVersion", "uint32"),
    ("engineProfile", "bytes32"),
    ("issuedTotal", "uint256"),
)
ATTESTATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("ticketHash", "bytes32"),
    ("resultHash", "bytes32"),
)


def _type_string(name: str, fields: tuple[tuple[str, str], ...]) -> str:
    return f"{name}(" + ",".join(f"{t} {n}" for n, t in fields) + ")"


TICKET_TYPE = _type_string("Ticket", TICKET_FIELDS)
ATTESTATION_TYPE = _type_string("Attestation", ATTESTATION_FIELDS)
TICKET_TYPEHASH = keccak(text=TICKET_TYPE)
ATTESTATION_TYPEHASH = keccak(text=ATTESTATION_TYPE)


@dataclass(frozen=True)
class Ticket:
    """One request's ticket, as the gateway signs it.

    Attributes:
        gateway: The issuing gateway (its bond backs the ticket; its seq space names it).
        seq: The gateway's sequence number for this ticket (each seq is paid at most once).
        function_id: ``FunctionRegistry`` id of the function.
        version: The function version the run must use.
        input_hash: :func:`input_hash_of` the canonical request bytes (the input stays off-chain).
        reward: Wei paid from the project reserve (the project's price).
        issued_at: The function's clock (unix seconds); authorization is judged at this time.
        deadline: Last second at which the ticket may be posted.
        mode: ``MODE_FAST`` / ``MODE_ATTESTED`` / ``MODE_VERIFIED``.
        secrets_version: The secrets bundle version the run must use: the block number as of
            which the project's secrets pointer is read (a recent block when the gateway signs;
            every run of the ticket opens the same bundle even if the owner rotates it since;
            0: the pointer at the runner's latest block).
        engine_profile: Hash of the runtime engine and sandbox configuration.
        issued_total: The gateway's running total of rewards issued, this ticket included.
    """

    gateway: str
    seq: int
    function_id: bytes
    version: int
    input_hash: bytes
    reward: int
    issued_at: int
    deadline: int
    mode: int = MODE_VERIFIED
    secrets_version: int = 0
    engine_profile: bytes = bytes(32)
    issued_total: int = 0

    def message(self) -> dict[str, Any]:
        """The EIP-712 message (camelCase field names)."""
        return {
            "gateway": checksummed(self.gateway),
            "seq": self.seq,
            "functionId": self.function_id,
            "version": self.version,
            "inputHash": self.input_hash,
            "reward": self.reward,
            "issuedAt": self.issued_at,
            "deadline": self.deadline,
            "mode": self.mode,
            "secretsVersion": self.secrets_version,
            "engineProfile": self.engine_profile,
            "issuedTotal": self.issued_total,
        }

    @cached_property
    def json_fields(self) -> dict[str, Any]:
        """The EIP-712 fields as JSON values (bytes as 0x-hex), built once per ticket: the job
        feed and both sides' SQLite files carry them (:func:`peerhost.wire.feed.ticket_to_doc`
        hands out copies; never change this one)."""
        return {k: "0x" + v.hex() if isinstance(v, bytes) else v for k, v in self.message().items()}

    def as_tuple(self) -> tuple[Any, ...]:
        """``ISettlementCoordinator.Ticket`` as an ABI tuple, in struct order."""
        return tuple(self.message().values())

    @cached_property
    def struct_hash(self) -> bytes:
        """The EIP-712 struct hash (see :func:`ticket_hash`), computed once per ticket."""
        return keccak256(
            TICKET_TYPEHASH
            + _address_word(self.gateway)
            + _uint_word(self.seq, 64)
            + _bytes32(self.function_id)
            + _uint_word(self.version, 32)
            + _bytes32(self.input_hash)
            + _uint_word(self.reward, 96)
            + _uint_word(self.issued_at, 40)
            + _uint_word(self.deadline, 40)
            + _uint_word(self.mode, 8)
            + _uint_word(self.secrets_version, 32)
            + _bytes32(self.engine_profile)
            + _uint_word(self.issued_total, 256)
        )


# The hot path hashes a few static ABI words per call: packing them by hand gives the bytes
# ``eth_abi.encode`` gives (tests compare both) at a fraction of the cost.


def _uint_word(value: int, bits: int) -> bytes:
    if not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise ValueError(f"{value!r} is not a uint{bits}")
    return value.to_bytes(32, "big")


def _bytes32(value: bytes) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) > 32:
        raise ValueError(f"expected at most 32 bytes, got {value!r}")
    return bytes(value).ljust(32, b"\0")  # as abi.encode pads a short bytes32


@lru_cache(maxsize=1024)
def _address_word(address: str) -> bytes:
    raw = bytes.fromhex(address.removeprefix("0x"))
    if len(raw) != 20:
        raise ValueError(f"{address!r} is not an address")
    return bytes(12) + raw


def input_hash_of(data: bytes) -> bytes:
    """A request's ``inputHash``: keccak of its canonical request bytes.

    The ticket (and the v1 job on-chain) carries it instead of the input; a worker runs an input
    only if it hashes to it, and the gateway keys the input's sealed credentials by it.
    """
    return keccak256(data)


def request_id(chain_id: int, coordinator: str, gateway: str, seq: int) -> bytes:
    """``keccak(abi.encode(chainId, coordinator, gateway, seq))``."""
    return keccak256(
        _uint_word(chain_id, 256)
        + _address_word(coordinator)
        + _address_word(gateway)
        + _uint_word(seq, 256)
    )


@lru_cache(maxsize=64)
def domain_separator(chain_id: int, coordinator: str) -> bytes:
    """The EIP-712 domain separator of the settlement coordinator."""
    type_hash = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    return keccak256(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                type_hash,
                keccak(text=DOMAIN_NAME),
                keccak(text=DOMAIN_VERSION),
                chain_id,
                to_checksum_address(coordinator),
            ],
        )
    )


def ticket_hash(ticket: Ticket) -> bytes:
    """The ticket's EIP-712 struct hash (what an attestation names)."""
    return ticket.struct_hash


def _digest(chain_id: int, coordinator: str, struct_hash: bytes) -> bytes:
    return keccak256(b"\x19\x01" + domain_separator(chain_id, coordinator) + struct_hash)


def ticket_digest(chain_id: int, coordinator: str, ticket: Ticket) -> bytes:
    """The 32 bytes a gateway signs for ``ticket``."""
    return _digest(chain_id, coordinator, ticket_hash(ticket))


def attestation_hash(ticket_hash_: bytes, result_hash: bytes) -> bytes:
    """The attestation's EIP-712 struct hash."""
    return keccak256(ATTESTATION_TYPEHASH + _bytes32(ticket_hash_) + _bytes32(result_hash))


def attestation_digest(
    chain_id: int, coordinator: str, ticket_hash_: bytes, result_hash: bytes
) -> bytes:
    """The 32 bytes a worker signs to attest ``result_hash`` for the ticket ``ticket_hash_``."""
    return _digest(chain_id, coordinator, attestation_hash(ticket_hash_, result_hash))


def _typed(chain_id: int, coordinator: str, primary: str, message: dict[str, Any]) -> Any:
    fields = TICKET_FIELDS if primary == "Ticket" else ATTESTATION_FIELDS
    return encode_typed_data(
        domain_data={
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(coordinator),
        },
        message_types={primary: [{"name": n, "type": t} for n, t in fields]},
        message_data=message,
    )


def sign_ticket(private_key: bytes, chain_id: int, coordinator: str, ticket: Ticket) -> bytes:
    """The gateway's 65-byte signature (r ‖ s ‖ v) over ``ticket``."""
    signed = Account.sign_message(
        _typed(chain_id, coordinator, "Ticket", ticket.message()), private_key
    )
    return bytes(signed.signature)


def recover_ticket_signer(chain_id: int, coordinator: str, ticket: Ticket, signature: bytes) -> str:
    """The address that signed ``ticket`` (checksummed)."""
    typed = _typed(chain_id, coordinator, "Ticket", ticket.message())
    return str(Account.recover_message(typed, signature=signature))


def sign_attestation(
    private_key: bytes, chain_id: int, coordinator: str, ticket_hash_: bytes, result_hash: bytes
) -> bytes:
    """A worker's 65-byte attestation that ``result_hash`` answers the ticket ``ticket_hash_``."""
    message = {"ticketHash": ticket_hash_, "resultHash": result_hash}
    signed = Account.sign_message(
        _typed(chain_id, coordinator, "Attestation", message), private_key
    )
    return bytes(signed.signature)


def recover_attester(
    chain_id: int, coordinator: str, ticket_hash_: bytes, result_hash: bytes, signature: bytes
) -> str:
    """The address that attested ``result_hash`` for ``ticket_hash_`` (checksummed)."""
    message = {"ticketHash": ticket_hash_, "resultHash": result_hash}
    typed = _typed(chain_id, coordinator, "Attestation", message)
    return str(Account.recover_message(typed, signature=signature))


__all__ = [
    "ATTESTATION_TYPE",
    "ATTESTATION_TYPEHASH",
    "MODE_ATTESTED",
    "MODE_FAST",
    "MODE_VERIFIED",
    "TICKET_TYPE",
    "TICKET_TYPEHASH",
    "Ticket",
    "attestation_digest",
    "attestation_hash",
    "domain_separator",
    "recover_attester",
    "recover_ticket_signer",
    "request_id",
    "sign_attestation",
    "sign_ticket",
    "ticket_digest",
    "ticket_hash",
]
