"""Every byte format the gateway, the workers and the contracts must agree on.

One definition each, with no execution engine and no chain connection behind them
(importing this package never imports wasmtime, ape or a web3 provider):

    canonical   canonical JSON
    request     the canonical request a function reads (``canonical_request``, ``bind_metadata``)
    response    a function's response, strictly parsed
    envelope    the result envelope (encode, strict decode) and its ``result_hash``
    ids         function, project and request ids, as the contracts compute them
    commitments commit-reveal commitments and salts
    eip712      the PeerHost EIP-712 domain, typed signing and recovery, ``Result`` signatures
    headers     the ``x-peerhost-*`` HTTP header names
    inbox       the result inbox: URL shape and post headers
    ticket      protocol v2: the gateway's EIP-712 ticket, a request's ``input_hash_of``, request
                ids, attestations
    batch       protocol v2: the 103-byte leaf and its 51-byte posted form, the batch Merkle tree, the attested-results
                commitment, attesters' batch co-signatures, a seat's commitment to its result
                vector, seat draws
    feed        the job feed's messages, digest signatures, the attestations header
    credentials credential headers: salted commitments on-chain, openings disclosed to workers
    declarations what a function's code declares about itself (its extra request headers)
    disputes    the dispute court's case keys, vote commitments and panel seeds
    endpoint    the checks on a gateway's announced job-feed URL
"""

from __future__ import annotations

from peerhost.wire.canonical import canonical_json
from peerhost.wire.commitments import commitment, new_salt
from peerhost.wire.eip712 import recover_signer, recover_typed, sign_result, sign_typed
from peerhost.wire.envelope import (
    LOCAL_KINDS,
    Envelope,
    ErrorKind,
    decode_envelope,
    failure,
    result_hash,
)
from peerhost.wire.errors import InvalidEnvelope, WireError
from peerhost.wire.ids import function_id_of, project_id_of, request_id_of, request_id_text
from peerhost.wire.request import bind_metadata, canonical_request
from peerhost.wire.response import OutputRejected, Response, parse_json, parse_response
from peerhost.wire.ticket import input_hash_of

__all__ = [
    "LOCAL_KINDS",
    "Envelope",
    "ErrorKind",
    "InvalidEnvelope",
    "OutputRejected",
    "Response",
    "WireError",
    "bind_metadata",
    "canonical_json",
    "canonical_request",
    "commitment",
    "decode_envelope",
    "failure",
    "function_id_of",
    "input_hash_of",
    "new_salt",
    "parse_json",
    "parse_response",
    "project_id_of",
    "recover_signer",
    "recover_typed",
    "request_id_of",
    "request_id_text",
    "result_hash",
    "sign_result",
    "sign_typed",
]
