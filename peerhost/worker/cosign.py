"""An attester's co-signature of a posted batch (one signature per batch, what ``openResults``
pays attesters on).

The gateway sends a ``cosign`` over the job feed: the batch's id, root and leaves as posted, the
mask of the leaves its opening lists this worker on and the attested result of every leaf (the
co-signature names the batch's results hash, over every leaf). The worker co-signs only when all of
its part is what it attested itself: there is one result per leaf, the batch holds at most
``MAX_LEAVES`` leaves (both checked before anything is hashed), the leaves hash to the root, and
every masked leaf is a ticket of this gateway it attested (the leaf is that ticket's, byte for byte)
with that result. Anything else is refused (logged, no answer): the gateway then cannot get this
worker paid for leaves it did not attest, nor for results it did not sign. The other leaves' results
are signed unchecked (the worker cannot know them), which costs it nothing: the co-signature pays
only this worker, and only for its masked leaves (checked) whose results stood. The request comes
only once the batch's challenge window has passed, so the results reach no seat in time. A
co-signature only moves pay; the per-ticket attestations stay the evidence attestation slashing
uses.
"""

from __future__ import annotations

import logging

from peerhost.wire.batch import (
    LEAF_BYTES,
    MAX_LEAVES,
    Leaf,
    batch_attestation_digest,
    leaf_hashes,
    merkle_root,
    results_hash,
)
from peerhost.wire.feed import Cosignature, CosignRequest, DigestSigner
from peerhost.wire.ticket import Ticket
from peerhost.worker.attested import ATTESTED, POSTED, AttestedLedger
from peerhost.worker.errors import CosignRefused

log = logging.getLogger(__name__)


def _leaf_bytes(ticket: Ticket) -> bytes | None:
    """The posted bytes of ``ticket``'s leaf (None: a value too wide for a leaf, never posted)."""
    try:
        return Leaf.of(ticket).encode()
    except (OverflowError, ValueError):
        return None


class Cosigner:
    """Answers the gateway's co-sign requests from this worker's attested ledger.

    Args:
        ledger: What this worker attested.
        private_key: Signs the batch attestation.
        chain_id: The chain of the settlement coordinator.
        coordinator: The settlement coordinator (the EIP-712 verifying contract).
    """

    def __init__(
        self, ledger: AttestedLedger, private_key: bytes, chain_id: int, coordinator: str
    ) -> None:
        self.ledger = ledger
        self._signer = DigestSigner(private_key)  # built once: signs every batch co-signed
        self.chain_id = chain_id
        self.coordinator = coordinator
        self.signed = 0

    def check(self, request: CosignRequest, gateway: str) -> bytes:
        """The digest to sign for ``request`` from ``gateway``; raises CosignRefused.

        The leaves are hashed from their posted bytes and a masked leaf is compared with the
        attested ticket's leaf as bytes (the same verdicts as decoding every leaf first); the
        hashes and the digest are packed by hand (:mod:`peerhost.worker.tickets`).
        """
        blob = request.leaves
        if not blob or len(blob) % LEAF_BYTES:
            raise CosignRefused(
                request.batch_id, f"the leaves are not a multiple of {LEAF_BYTES} bytes"
            )
        count = len(blob) // LEAF_BYTES
        # the checks that cost nothing first: a request that fails them is never hashed
        if len(request.results) != count:
            raise CosignRefused(request.batch_id, "the results are not one per leaf")
        if count > MAX_LEAVES:
            raise CosignRefused(
                request.batch_id, f"the batch has {count} leaves, more than {MAX_LEAVES}"
            )
        if request.mask == 0 or request.mask >> count:
            raise CosignRefused(
                request.batch_id, "the mask names no leaf, or a leaf past the batch"
            )
        if merkle_root(leaf_hashes(blob)) != request.root:
            raise CosignRefused(request.batch_id, "the leaves do not hash to the root")
        for i, result in enumerate(request.results):
            if not request.mask >> i & 1:
                continue
            posted = blob[i * LEAF_BYTES : (i + 1) * LEAF_BYTES]
            seq = int.from_bytes(posted[:8], "big")
            mine = self.ledger.get(gateway, seq)
            if mine is None or mine.state not in (ATTESTED, POSTED):
                raise CosignRefused(
                    request.batch_id, f"leaf {i} (seq {seq}) is no ticket this worker attested"
                )
            if _leaf_bytes(mine.ticket) != posted:
                raise CosignRefused(
                    request.batch_id, f"leaf {i} differs from the ticket this worker attested"
                )
            if mine.result_hash != result:
                raise CosignRefused(
                    request.batch_id, f"leaf {i}: this worker attested another result"
                )
        try:
            results = results_hash(request.results)
        except ValueError:
            raise CosignRefused(request.batch_id, "a result is not 32 bytes") from None
        return batch_attestation_digest(
            self.chain_id,
            self.coordinator,
            request.batch_id,
            gateway,
            request.root,
            request.mask,
            results,
        )

    def handle(self, request: CosignRequest, gateway: str) -> Cosignature | None:
        """The co-signature, or None (logged) when the request fails a check."""
        try:
            digest = self.check(request, gateway)
        except CosignRefused as exc:
            log.warning("%s (gateway %s)", exc, gateway)
            return None
        self.signed += 1
        return Cosignature(request.batch_id, self._signer.sign(digest))
