"""Verify a gateway's answer: offline from its headers, later against the chain.

**Offline** (:func:`check_attestations`): every ``worker:signature`` pair of
``x-peerhost-attestations`` must recover, over the EIP-712 attestation of
(``x-peerhost-ticket-hash``, ``x-peerhost-result-hash``) on the settlement coordinator's domain,
to the worker it names; each worker must be active in the stake epoch (the set is passed in, read
from the chain once); an ``attested`` answer needs ``required`` distinct such workers. When the
result envelope's bytes are at hand, their keccak must be the result hash.

**Against the chain** (:func:`check_settled`): the ticket's leaf (found from the gateway's status
document, then checked on-chain: the leaf at that index of that batch carries the ticket's seq and
input hash, in a batch of the ticket's gateway) is ``Final`` with this result hash.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from peerhost.chain.settlement import SettlementView
from peerhost.wire.batch import BatchHead, decode_posted
from peerhost.wire.envelope import result_hash as envelope_hash
from peerhost.wire.feed import (
    ATTESTATIONS_HEADER,
    TICKET_HASH_HEADER,
    FeedMessageError,
    parse_attestations_header,
    recover_digest,
)
from peerhost.wire.headers import MODE_HEADER, RESULT_HASH_HEADER
from peerhost.wire.ticket import attestation_digest

_FINAL = 2  # ISettlementCoordinator.LeafState.Final


@dataclass
class AnswerCheck:
    """The outcome of a check: ``ok`` when no problem was found."""

    attesters: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        verdict = "ok" if self.ok else "FAILED: " + "; ".join(self.problems)
        return f"<answer {verdict}; attested by {', '.join(self.attesters) or 'nobody'}>"


def _bytes32(headers: Mapping[str, str], name: str, check: AnswerCheck) -> bytes:
    value = headers.get(name, "")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        check.problems.append(f"{name} is missing or not 32 bytes of hex")
    return raw


def check_attestations(
    headers: Mapping[str, str],
    chain_id: int,
    settlement: str,
    active: Collection[str],
    *,
    required: int | None = None,
    envelope: bytes | None = None,
) -> AnswerCheck:
    """Checks an answer's attestations offline (module docstring).

    Args:
        headers: The response headers (any case).
        chain_id: The chain the settlement coordinator lives on.
        settlement: The SettlementCoordinator address (the EIP-712 verifying contract).
        active: Addresses active in the current stake epoch.
        required: Distinct attesters needed (default: 2 for ``attested``, else 1).
        envelope: The result envelope's bytes, when known: must hash to the result hash.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    check = AnswerCheck()
    ticket_hash = _bytes32(lowered, TICKET_HASH_HEADER, check)
    result_hash = _bytes32(lowered, RESULT_HASH_HEADER, check)
    if check.problems:
        return check
    if envelope is not None and envelope_hash(envelope) != result_hash:
        check.problems.append("the envelope's keccak is not the result hash")
    try:
        pairs = parse_attestations_header(lowered.get(ATTESTATIONS_HEADER, ""))
    except FeedMessageError as exc:
        check.problems.append(f"{ATTESTATIONS_HEADER}: {exc}")
        return check
    digest = attestation_digest(chain_id, settlement, ticket_hash, result_hash)
    active_set = {a.lower() for a in active}
    for worker, signature in pairs:
        try:
            signer = recover_digest(digest, signature)
        except FeedMessageError as exc:
            check.problems.append(f"{worker}: {exc}")
            continue
        if signer != worker:
            check.problems.append(f"{worker}: the attestation is {signer}'s, not its own")
        elif worker.lower() not in active_set:
            check.problems.append(f"{worker} is not active in the stake epoch")
        elif worker not in check.attesters:
            check.attesters.append(worker)
    if required is None:
        required = 2 if lowered.get(MODE_HEADER) == "attested" else 1
    if len(check.attesters) < required:
        check.problems.append(
            f"{len(check.attesters)} valid attestation(s), {required} needed for this mode"
        )
    return check


async def check_settled(
    view: SettlementView, status: Mapping[str, Any], result_hash: str
) -> AnswerCheck:
    """Checks on-chain that the ticket described by the gateway's ``status`` document settled
    with ``result_hash`` (module docstring). ``status`` is only a pointer: every fact is read
    from the chain."""
    check = AnswerCheck()
    batch = status.get("batch")
    ticket = status.get("ticket") or {}
    if not batch:
        check.problems.append("the ticket is not in a posted batch yet")
        return check
    batch_id, index = int(batch["id"]), int(batch["leaf_index"])
    stored = await view.get_batch(batch_id)
    if str(stored["gateway"]).lower() != str(ticket.get("gateway", "")).lower():
        check.problems.append(f"batch {batch_id} is not the ticket's gateway's")
        return check
    posted = await view.logs("BatchPosted", 0, batch_id=batch_id)
    if not posted:
        check.problems.append(f"no BatchPosted event for batch {batch_id}")
        return check
    tx_hash = posted[0][0]["transactionHash"]
    try:
        args = await view.call_input(tx_hash, "postBatch")
        leaves = decode_posted(BatchHead.from_args(args["head"]), bytes(args["leaves"]))
    except ValueError:
        orphans = await view.call_input(tx_hash, "postOrphans")
        leaves = None
        seqs = [int(t["seq"]) for t in orphans["tickets"]]
        if index >= len(seqs) or seqs[index] != int(ticket.get("seq", -1)):
            check.problems.append(f"leaf {index} of batch {batch_id} is another ticket")
            return check
    if leaves is not None:
        if index >= len(leaves):
            check.problems.append(f"batch {batch_id} has no leaf {index}")
            return check
        leaf = leaves[index]
        if leaf.seq != int(ticket.get("seq", -1)) or "0x" + leaf.input_hash.hex() != str(
            ticket.get("inputHash", "")
        ):
            check.problems.append(f"leaf {index} of batch {batch_id} is another ticket")
            return check
    if await view.leaf_state(batch_id, index) != _FINAL:
        check.problems.append(f"leaf {index} of batch {batch_id} is not final")
        return check
    vector = await view.final_vector(batch_id, 0)
    if vector is None or "0x" + vector[index].hex() != result_hash.lower():
        check.problems.append("the chain finalized another result")
    return check
