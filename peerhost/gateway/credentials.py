"""Credentials off-chain: ``GET /_inbox/credentials/0x<inputHash>`` for active workers.

A function that declares a credential header (``authorization``, ``cookie``,
``proxy-authorization``) gets only a salted commitment on-chain (:mod:`peerhost.wire.credentials`);
the gateway keeps the openings in memory (:class:`CredentialVault`, keyed by the input's keccak,
which the job on-chain carries as ``inputHash``) and discloses them to a worker that proves it is
active: headers ``X-PeerHost-Worker`` (address), ``X-PeerHost-Issued-At`` (unix seconds, within
``MAX_SKEW`` of the gateway's clock) and ``X-PeerHost-Signature`` (EIP-191 over
:func:`~peerhost.wire.credentials.disclosure_digest`). Answer: ``{"headers": {name: {salt, value}}}``.
Values never appear in logs or errors.
"""

from __future__ import annotations

import time

from eth_account import Account
from eth_account.messages import encode_defunct
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from peerhost.gateway.bodies import parse_request_id
from peerhost.gateway.errors import (
    BadRequest,
    InvalidWorkerSignature,
    UnknownRequest,
    WorkerNotActive,
)
from peerhost.gateway.service import Gateway
from peerhost.wire.credentials import disclosure_digest
from peerhost.wire.headers import ISSUED_AT_HEADER, SIGNATURE_HEADER, WORKER_HEADER

MAX_SKEW = 120  # seconds


async def disclose_credentials(request: Request) -> Response:
    gateway: Gateway = request.app.state.gateway
    input_hash = parse_request_id(request.path_params["input_hash"])
    label = "0x" + input_hash.hex()
    worker = request.headers.get(WORKER_HEADER, "").strip().lower()
    signature = request.headers.get(SIGNATURE_HEADER, "").strip()
    issued = request.headers.get(ISSUED_AT_HEADER, "").strip()
    if not worker or not signature or not issued.isdigit():
        raise BadRequest(
            f"{WORKER_HEADER}, {SIGNATURE_HEADER} and {ISSUED_AT_HEADER} (unix seconds) are required"
        )
    issued_at = int(issued)
    if abs(time.time() - issued_at) > MAX_SKEW:
        raise BadRequest(
            f"{ISSUED_AT_HEADER} is more than {MAX_SKEW} s away from the gateway's clock"
        )
    digest = disclosure_digest(gateway.settings.chain.chain_id, input_hash, issued_at)
    try:
        signer = str(Account.recover_message(encode_defunct(primitive=digest), signature=signature))
    except Exception as exc:  # malformed signature bytes of any kind
        raise InvalidWorkerSignature(
            worker, f"the signature does not recover ({type(exc).__name__})"
        ) from None
    if signer.lower() != worker:
        raise InvalidWorkerSignature(worker, f"the signature recovers to {signer}")
    if not await gateway.workers.is_active(signer):
        raise WorkerNotActive(signer)
    openings = gateway.credentials.get(input_hash)
    if openings is None:
        raise UnknownRequest(label, "here: this gateway holds no credentials for that input")
    return JSONResponse({"headers": {name: o.to_json() for name, o in sorted(openings.items())}})
