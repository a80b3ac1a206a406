"""Batches (protocol v2): the packed leaf, the Merkle tree, the attested-results commitment and a
committee seat's commitment, byte for byte as ``SettlementCoordinator`` computes them.

**Leaf** (``LEAF_BYTES`` = 103 bytes, big-endian, no padding)::

    offset size field
         0    8 seq             uint64   the gateway's ticket number (request id = keccak(chainId,
                                         coordinator, gateway, seq))
         8   32 functionId      bytes32
        40    4 version         uint32
        44   32 inputHash       bytes32
        76   12 reward          uint96   wei
        88    5 issuedAt        uint40   unix seconds
        93    5 deadline        uint40   unix seconds
        98    1 mode            uint8    0 fast, 1 attested, 2 verified
        99    4 secretsVersion  uint32

The gateway, the project and the engine profile are the same for every leaf of a batch and are
arguments of ``postBatch`` instead.

**Posted leaf** (``POSTED_LEAF_BYTES`` = 51 bytes, what ``postBatch`` carries in calldata): a batch
holds tickets of one function version, one secrets version and one price, so the **batch head**
(functionId, version, reward, secretsVersion: :class:`BatchHead`) is passed once as ``postBatch``
arguments and each leaf carries only what differs::

    offset size field
         0    8 seq
         8   32 inputHash
        40    5 issuedAt
        45    5 deadline
        50    1 mode

The contract rebuilds each 103-byte leaf from the head and its posted leaf before hashing it, so
the root, the Merkle proofs, data-availability challenges and disputes all still name the 103-byte
leaf above (:func:`encode_posted`, :func:`decode_posted`).

**Tree**: leaf hash = ``keccak(leaf)``; each level pairs nodes left to right, a node = ``keccak(left
‖ right)``, and an unpaired last node moves up unchanged. The proof of leaf ``i`` is the list of
sibling hashes from the bottom, skipping levels where the node had no sibling.

**Attested results** (what the gateway commits to, so a committee cannot copy): the **attester
part** is the batch's attester list, then one entry per leaf in leaf order::

    d (1) ‖ d × attester (20)                 distinct attesters, first-seen order (d ≤ 64)
    per leaf: count (1) ‖ count × index (1)   index into the list, count ≤ 4

so an attester's 20 bytes appear once per batch, not once per leaf. The **results hash** is
``keccak(r[0] ‖ r[1] ‖ …)`` over every leaf's attested result (``ABSTAIN`` for a leaf nobody
attested), and the commitment is ``keccak(salt ‖ resultsHash ‖ attester part)``
(:func:`results_commitment`): salted, so a seat cannot check a guess of the results against it. A
leaf's first attester is the fastest one (it earns the speed share).

The **opening** (``openResults``' ``opening``) comes in two forms, told apart by its first byte:

    0 ‖ attester part                        compact: the attested results are the batch's final
                                             vector (ABSTAIN where not Final), whose hash the batch
                                             keeps; ``finalVector`` is then empty
    1 ‖ attester part ‖ n × result (32)      full: the results, for a batch whose attested results
                                             differ from its final vector (unaudited fast leaves, a
                                             disputed or overturned leaf, a lying attester)

The gateway keeps the full form (:func:`results_opening`) and sends the compact one when the final
vector allows it (:func:`open_args`): 1 byte per leaf with one attester instead of 33.

**Batch attestation** (a co-signature, ``openResults``' last argument): each attester listed in a
batch's opening signs, once per batch, the EIP-712 ``BatchAttestation(uint256 batchId, address
gateway, bytes32 root, uint256 leafMask, bytes32 resultsHash)`` (same domain as tickets), where
``leafMask`` has bit ``i`` set for every leaf the opening lists it on and ``resultsHash`` is the
batch's results hash above, over every leaf, its own and the others' (:func:`attester_terms`): the
contract checks every co-signature against that one hash, which a compact opening gives without
the results. An attester checks its own leaves' results in the list it is sent before it signs.
The co-signatures go to ``openResults`` as 65 bytes each, one per distinct attester in first-seen
order of the opening (:func:`cosigners`, :func:`open_cosignatures`; 65 zero bytes for one that did
not co-sign). An attester without a valid co-signature is not paid for the batch; its part goes
back to the payer. The per-ticket attestations stay the evidence attestation slashing uses.

**Seat commitment**: ``keccak(abi.encode(chainId, coordinator, batchId, worker, vectorHash,
salt))`` with ``vectorHash = keccak(v[0] ‖ v[1] ‖ …)`` over the seat's per-leaf result hashes;
``ABSTAIN`` (zero) marks a leaf with no deterministic result (and every leaf the committee does not
audit).

**Randomness**: a batch's seed is ``keccak(abi.encode(prevrandao, batchId))``; seat ``j`` is drawn
with ``keccak(abi.encode(seed, 0, j)) mod totalStake`` by binary search over the epoch's cumulative
stakes; fast leaf ``i`` is audited when ``keccak(abi.encode(seed, 1, i)) mod 10000 < auditBps``.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey
from eth_abi import encode
from eth_utils import keccak, to_canonical_address, to_checksum_address

from peerhost.wire.ids import checksummed
from peerhost.wire.keccak import keccak256

from .ticket import MODE_FAST, Ticket, _address_word, _uint_word, domain_separator

LEAF_BYTES = 103
POSTED_LEAF_BYTES = 51
ABSTAIN = bytes(32)
MAX_ATTESTERS = 4
#: The most leaves a batch holds (``ProtocolParamsLib.MAX_LEAVES``: a leaf mask is one uint256).
MAX_LEAVES = 256
BPS = 10_000


@dataclass(frozen=True)
class Leaf:
    """The on-chain part of a ticket."""

    seq: int
    function_id: bytes
    version: int
    input_hash: bytes
    reward: int
    issued_at: int
    deadline: int
    mode: int
    secrets_version: int = 0

    @classmethod
    def of(cls, ticket: Ticket) -> Leaf:
        return cls(
            seq=ticket.seq,
            function_id=ticket.function_id,
            version=ticket.version,
            input_hash=ticket.input_hash,
            reward=ticket.reward,
            issued_at=ticket.issued_at,
            deadline=ticket.deadline,
            mode=ticket.mode,
            secrets_version=ticket.secrets_version,
        )

    def encode(self) -> bytes:
        """The 103 packed bytes."""
        out = (
            self.seq.to_bytes(8, "big")
            + _b32(self.function_id)
            + self.version.to_bytes(4, "big")
            + _b32(self.input_hash)
            + self.reward.to_bytes(12, "big")
            + self.issued_at.to_bytes(5, "big")
            + self.deadline.to_bytes(5, "big")
            + self.mode.to_bytes(1, "big")
            + self.secrets_version.to_bytes(4, "big")
        )
        assert len(out) == LEAF_BYTES
        return out

    @classmethod
    def decode(cls, data: bytes) -> Leaf:
        if len(data) != LEAF_BYTES:
            raise ValueError(f"A leaf is {LEAF_BYTES} bytes, got {len(data)}.")
        return cls(
            seq=int.from_bytes(data[0:8], "big"),
            function_id=data[8:40],
            version=int.from_bytes(data[40:44], "big"),
            input_hash=data[44:76],
            reward=int.from_bytes(data[76:88], "big"),
            issued_at=int.from_bytes(data[88:93], "big"),
            deadline=int.from_bytes(data[93:98], "big"),
            mode=data[98],
            secrets_version=int.from_bytes(data[99:103], "big"),
        )

    def hash(self) -> bytes:
        return keccak256(self.encode())


def _b32(value: bytes) -> bytes:
    if len(value) != 32:
        raise ValueError(f"Expected 32 bytes, got {len(value)}.")
    return bytes(value)


def encode_leaves(leaves: Sequence[Leaf]) -> bytes:
    """The calldata blob of a batch: the leaves concatenated."""
    return b"".join(leaf.encode() for leaf in leaves)


def decode_leaves(blob: bytes) -> list[Leaf]:
    if len(blob) % LEAF_BYTES:
        raise ValueError(f"A leaf blob is a multiple of {LEAF_BYTES} bytes, got {len(blob)}.")
    return [Leaf.decode(blob[i : i + LEAF_BYTES]) for i in range(0, len(blob), LEAF_BYTES)]


@dataclass(frozen=True)
class BatchHead:
    """What every leaf of a posted batch shares: ``postBatch``'s functionId, version, reward and
    secretsVersion arguments."""

    function_id: bytes
    version: int
    reward: int
    secrets_version: int = 0

    @classmethod
    def of(cls, leaf: Leaf) -> BatchHead:
        return cls(leaf.function_id, leaf.version, leaf.reward, leaf.secrets_version)

    @classmethod
    def from_args(cls, head: Mapping[str, Any]) -> BatchHead:
        """From ``postBatch``'s decoded ``head`` argument (its ABI field names)."""
        return cls(
            bytes(head["functionId"]),
            int(head["version"]),
            int(head["reward"]),
            int(head["secretsVersion"]),
        )

    def as_tuple(self) -> tuple[bytes, int, int, int]:
        """``postBatch``'s ``head`` argument (ITicketVerifier.BatchHead)."""
        return (_b32(self.function_id), self.version, self.reward, self.secrets_version)


def encode_posted(leaves: Sequence[Leaf]) -> tuple[BatchHead, bytes]:
    """The head and the posted-leaf blob (51 bytes per leaf) of a batch; every leaf must share the
    head (a gateway splits a mixed set into one batch per head)."""
    if not leaves:
        raise ValueError("A batch has at least one leaf.")
    head = BatchHead.of(leaves[0])
    out = bytearray()
    for i, leaf in enumerate(leaves):
        if BatchHead.of(leaf) != head:
            raise ValueError(
                f"Leaf {i} (seq {leaf.seq}) has another function, version, reward or secrets "
                "version than leaf 0: post one batch per head."
            )
        out += (
            leaf.seq.to_bytes(8, "big")
            + _b32(leaf.input_hash)
            + leaf.issued_at.to_bytes(5, "big")
            + leaf.deadline.to_bytes(5, "big")
            + leaf.mode.to_bytes(1, "big")
        )
    return head, bytes(out)


def decode_posted(head: BatchHead, blob: bytes) -> list[Leaf]:
    """The leaves of a posted batch from its head and posted-leaf blob."""
    if not blob or len(blob) % POSTED_LEAF_BYTES:
        raise ValueError(
            f"A posted-leaf blob is a non-zero multiple of {POSTED_LEAF_BYTES} bytes, "
            f"got {len(blob)}."
        )
    out = []
    for i in range(0, len(blob), POSTED_LEAF_BYTES):
        p = blob[i : i + POSTED_LEAF_BYTES]
        out.append(
            Leaf(
                seq=int.from_bytes(p[0:8], "big"),
                function_id=_b32(head.function_id),
                version=head.version,
                input_hash=p[8:40],
                reward=head.reward,
                issued_at=int.from_bytes(p[40:45], "big"),
                deadline=int.from_bytes(p[45:50], "big"),
                mode=p[50],
                secrets_version=head.secrets_version,
            )
        )
    return out


def leaf_hashes(blob: bytes) -> list[bytes]:
    """The hash of each leaf of a leaf blob (:func:`encode_leaves`), from its bytes: the same as
    :meth:`Leaf.hash` of each decoded leaf, without decoding them."""
    if not blob or len(blob) % LEAF_BYTES:
        raise ValueError(
            f"A leaf blob is a non-zero multiple of {LEAF_BYTES} bytes, got {len(blob)}."
        )
    return [keccak256(blob[i : i + LEAF_BYTES]) for i in range(0, len(blob), LEAF_BYTES)]


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The batch root over ``leaf_hashes`` (an unpaired node moves up unchanged)."""
    if not leaf_hashes:
        raise ValueError("A batch has at least one leaf.")
    level = list(leaf_hashes)
    while len(level) > 1:
        level = [
            keccak256(level[i] + level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return level[0]


def merkle_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Sibling hashes from the bottom for leaf ``index``."""
    if not 0 <= index < len(leaf_hashes):
        raise IndexError(index)
    proof: list[bytes] = []
    level = list(leaf_hashes)
    i = index
    while len(level) > 1:
        sibling = i ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        level = [
            keccak256(level[j] + level[j + 1]) if j + 1 < len(level) else level[j]
            for j in range(0, len(level), 2)
        ]
        i //= 2
    return proof


def verify_proof(
    root: bytes, leaf_hash: bytes, index: int, count: int, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` places ``leaf_hash`` at ``index`` of a ``count``-leaf tree with ``root``."""
    node, i, n, k = leaf_hash, index, count, 0
    while n > 1:
        if i ^ 1 < n:
            if k >= len(proof):
                return False
            node = keccak256(node + proof[k]) if i % 2 == 0 else keccak256(proof[k] + node)
            k += 1
        i //= 2
        n = (n + 1) // 2
    return k == len(proof) and node == root


def batch_root(leaves: Sequence[Leaf]) -> bytes:
    return merkle_root([leaf.hash() for leaf in leaves])


@dataclass(frozen=True)
class AttestedResult:
    """What a leaf's attesters signed: the result hash and who (fastest first)."""

    result_hash: bytes
    attesters: tuple[str, ...] = ()


#: The most distinct attesters an opening's list can name (one byte); the contract accepts 64.
MAX_LISTED = 255


#: An opening's first byte: the compact form (no results) and the full form (the results).
OPENING_COMPACT = 0
OPENING_FULL = 1


def attester_part(results: Sequence[AttestedResult]) -> bytes:
    """The attester list (:func:`cosigners`), then per leaf its attesters as one-byte indexes into
    the list."""
    listed = cosigners(results)
    if len(listed) > MAX_LISTED:
        raise ValueError(f"An opening lists at most {MAX_LISTED} attesters, got {len(listed)}.")
    index = {a.lower(): i for i, a in enumerate(listed)}
    out = bytearray([len(listed)])
    for a in listed:
        out += to_canonical_address(a)
    for r in results:
        if len(r.attesters) > MAX_ATTESTERS:
            raise ValueError(f"At most {MAX_ATTESTERS} attesters per leaf.")
        out += bytes([len(r.attesters)])
        out += bytes(index[a.lower()] for a in r.attesters)
    return bytes(out)


def results_opening(results: Sequence[AttestedResult]) -> bytes:
    """The full opening of a batch's attested results: ``1 ‖ attester part ‖ results``."""
    return (
        bytes([OPENING_FULL])
        + attester_part(results)
        + b"".join(_b32(r.result_hash) for r in results)
    )


def compact_opening(results: Sequence[AttestedResult]) -> bytes:
    """The compact opening: ``0 ‖ attester part`` (opens only when the results are the batch's
    final vector)."""
    return bytes([OPENING_COMPACT]) + attester_part(results)


def open_args(
    results: Sequence[AttestedResult], final_vector: Sequence[bytes]
) -> tuple[bytes, list[bytes]]:
    """``openResults``' ``opening`` and ``finalVector``: the compact opening and no vector when the
    attested results are ``final_vector`` (ABSTAIN where not Final); else the full opening with the
    vector."""
    vector = [bytes(v) for v in final_vector]
    if [bytes(r.result_hash) for r in results] == vector:
        return compact_opening(results), []
    return results_opening(results), vector


def results_commitment(results: Sequence[AttestedResult], salt: bytes) -> bytes:
    """``keccak(salt ‖ resultsHash ‖ attester part)``: posted with the batch; opened after the
    committee settles."""
    return keccak256(
        _b32(salt) + results_hash([r.result_hash for r in results]) + attester_part(results)
    )


BATCH_ATTESTATION_TYPE = (
    "BatchAttestation(uint256 batchId,address gateway,bytes32 root,uint256 leafMask,"
    "bytes32 resultsHash)"
)
BATCH_ATTESTATION_TYPEHASH = keccak(text=BATCH_ATTESTATION_TYPE)


def cosigners(results: Sequence[AttestedResult]) -> list[str]:
    """The distinct attesters of an opening, in first-seen order (checksummed): the order of
    ``openResults``' co-signatures."""
    seen: dict[str, str] = {}
    for r in results:
        for a in r.attesters:
            key = a.lower()
            if key not in seen:  # each attester checksummed once (remembered across batches)
                seen[key] = checksummed(key)
    return list(seen.values())


def results_hash(results: Sequence[bytes]) -> bytes:
    """``keccak(r[0] ‖ r[1] ‖ …)``: the results a batch attestation names, in leaf order."""
    return keccak256(b"".join(_b32(r) for r in results))


def attester_terms(results: Sequence[AttestedResult], attester: str) -> tuple[int, bytes]:
    """What ``attester`` co-signs of an opening: (the mask of the leaves it is listed on, the
    batch's results hash over every leaf)."""
    who = attester.lower()
    mask = 0
    for i, r in enumerate(results):
        if any(a.lower() == who for a in r.attesters):
            mask |= 1 << i
    return mask, results_hash([r.result_hash for r in results])


def batch_attestation_digest(
    chain_id: int,
    coordinator: str,
    batch_id: int,
    gateway: str,
    root: bytes,
    leaf_mask: int,
    results_hash: bytes,
) -> bytes:
    """The 32 bytes an attester signs to co-sign batch ``batch_id`` (the struct packed by hand:
    its ABI encoding is five 32-byte words; a co-signer computes one per posted batch)."""
    struct_hash = keccak256(
        BATCH_ATTESTATION_TYPEHASH
        + _uint_word(batch_id, 256)
        + _address_word(gateway)
        + _b32(root)
        + _uint_word(leaf_mask, 256)
        + _b32(results_hash)
    )
    return keccak256(b"\x19\x01" + domain_separator(chain_id, coordinator) + struct_hash)


def cosign_digest(
    chain_id: int,
    coordinator: str,
    batch_id: int,
    gateway: str,
    root: bytes,
    results: Sequence[AttestedResult],
    attester: str,
) -> bytes:
    """:func:`batch_attestation_digest` of ``attester``'s terms in the opening ``results``."""
    mask, results_hash = attester_terms(results, attester)
    return batch_attestation_digest(
        chain_id, coordinator, batch_id, gateway, root, mask, results_hash
    )


def sign_cosignature(
    private_key: bytes | str,
    chain_id: int,
    coordinator: str,
    batch_id: int,
    gateway: str,
    root: bytes,
    results: Sequence[AttestedResult],
) -> bytes:
    """The 65-byte co-signature (r ‖ s ‖ v, low s) of batch ``batch_id`` by the key's owner, over
    its terms in the opening ``results``."""
    key = (
        private_key
        if isinstance(private_key, bytes)
        else bytes.fromhex(private_key[2:] if private_key.startswith("0x") else private_key)
    )
    signer = PrivateKey(key)
    attester = to_checksum_address(keccak(signer.public_key.format(compressed=False)[1:])[-20:])
    digest = cosign_digest(chain_id, coordinator, batch_id, gateway, root, results, attester)
    sig = signer.sign_recoverable(digest, hasher=None)
    return sig[:64] + bytes([sig[64] + 27])


def open_cosignatures(results: Sequence[AttestedResult], signatures: Mapping[str, bytes]) -> bytes:
    """``openResults``' co-signatures: one 65-byte signature per distinct attester of ``results``
    (first-seen order), from ``signatures`` (keyed by address, any case); 65 zero bytes for an
    attester without one (it is then not paid)."""
    by_address = {a.lower(): sig for a, sig in signatures.items()}
    out = b""
    for a in cosigners(results):
        sig = by_address.get(a.lower(), bytes(65))
        if len(sig) != 65:
            raise ValueError(f"A co-signature is 65 bytes; {a}'s is {len(sig)}.")
        out += sig
    return out


def decode_results(
    opening: bytes, final_vector: Sequence[bytes] | None = None
) -> list[AttestedResult]:
    """The attested results of an opening (either form), in leaf order; a compact opening's results
    are ``final_vector`` (required for one).

    An empty opening (a batch posted without a results commitment) has no results. Raises
    ValueError for a malformed one (short, an index past the list, an unknown form)."""
    if not opening:
        return []
    form = opening[0]
    if form not in (OPENING_COMPACT, OPENING_FULL) or len(opening) < 2:
        raise ValueError(
            f"An opening's first byte is 0 or 1 and a list follows, got {opening[:2]!r}."
        )
    d = opening[1]
    i = 2 + 20 * d
    if i > len(opening):
        raise ValueError(f"The opening lists {d} attesters but is {len(opening)} bytes.")
    listed = [to_checksum_address(opening[2 + 20 * j : 22 + 20 * j]) for j in range(d)]
    picks_of: list[tuple[str, ...]] = []
    # the full form's entries end where exactly 32 bytes per entry read remain
    while i < len(opening) and (form == OPENING_COMPACT or len(opening) - i != 32 * len(picks_of)):
        count = opening[i]
        i += 1
        picks = opening[i : i + count]
        if count > MAX_ATTESTERS or len(picks) != count or any(p >= d for p in picks):
            raise ValueError(f"The opening's entry at byte {i - 1} names no listed attester.")
        i += count
        picks_of.append(tuple(listed[p] for p in picks))
    if form == OPENING_FULL:
        if len(opening) - i != 32 * len(picks_of):
            raise ValueError("The full opening's results are not one per entry.")
        values = [opening[i + 32 * k : i + 32 * k + 32] for k in range(len(picks_of))]
    else:
        if final_vector is None:
            raise ValueError("A compact opening's results are the final vector: give it.")
        values = [bytes(v) for v in final_vector]
        if len(values) != len(picks_of):
            raise ValueError(f"The opening has {len(picks_of)} leaves, the vector {len(values)}.")
    return [AttestedResult(v, p) for v, p in zip(values, picks_of, strict=True)]


def vector_hash(vector: Sequence[bytes]) -> bytes:
    """``keccak(v[0] ‖ v[1] ‖ …)``: a seat's per-leaf results."""
    return keccak256(b"".join(_b32(v) for v in vector))


def seat_commitment(
    chain_id: int,
    coordinator: str,
    batch_id: int,
    worker: str,
    vector_hash_: bytes,
    salt: bytes,
) -> bytes:
    """What a seat holder commits: bound to the chain, coordinator, batch and the holder."""
    return keccak(
        encode(
            ["uint256", "address", "uint256", "address", "bytes32", "bytes32"],
            [
                chain_id,
                to_checksum_address(coordinator),
                batch_id,
                to_checksum_address(worker),
                vector_hash_,
                salt,
            ],
        )
    )


def batch_seed(prevrandao: bytes | int, batch_id: int) -> bytes:
    """A batch's seed from the beacon value (the prevrandao of block postBlock + D)."""
    value = prevrandao if isinstance(prevrandao, int) else int.from_bytes(prevrandao, "big")
    return keccak(encode(["uint256", "uint256"], [value, batch_id]))


def seat_random(seed: bytes, seat: int) -> int:
    return int.from_bytes(keccak(encode(["bytes32", "uint256", "uint256"], [seed, 0, seat])), "big")


def is_audited(seed: bytes, index: int, mode: int, audit_bps: int) -> bool:
    """Whether the committee re-executes leaf ``index`` (every non-fast leaf, a sample of fast)."""
    if mode != MODE_FAST:
        return True
    r = int.from_bytes(keccak(encode(["bytes32", "uint256", "uint256"], [seed, 1, index])), "big")
    return r % BPS < audit_bps


def draw_seats(cumulative: Sequence[int], members: Sequence[str], seed: bytes, k: int) -> list[str]:
    """The ``k`` seats drawn with replacement by stake weight (as ``StakeRegistry.drawSeats``).

    ``cumulative[i]`` is the running stake total including member ``i``.
    """
    total = cumulative[-1]
    return [
        members[bisect.bisect_right(cumulative, seat_random(seed, j) % total)] for j in range(k)
    ]


__all__ = [
    "ABSTAIN",
    "OPENING_COMPACT",
    "OPENING_FULL",
    "BATCH_ATTESTATION_TYPE",
    "BATCH_ATTESTATION_TYPEHASH",
    "LEAF_BYTES",
    "MAX_ATTESTERS",
    "MAX_LEAVES",
    "MAX_LISTED",
    "POSTED_LEAF_BYTES",
    "AttestedResult",
    "BatchHead",
    "Leaf",
    "attester_part",
    "attester_terms",
    "batch_attestation_digest",
    "batch_root",
    "batch_seed",
    "compact_opening",
    "cosign_digest",
    "cosigners",
    "decode_leaves",
    "decode_posted",
    "decode_results",
    "draw_seats",
    "encode_leaves",
    "encode_posted",
    "is_audited",
    "leaf_hashes",
    "merkle_proof",
    "merkle_root",
    "open_args",
    "open_cosignatures",
    "results_commitment",
    "results_hash",
    "results_opening",
    "seat_commitment",
    "seat_random",
    "sign_cosignature",
    "vector_hash",
    "verify_proof",
]
