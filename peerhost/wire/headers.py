"""The HTTP header names PeerHost speaks, in lowercase (HTTP header names are case-insensitive).

A gateway's answer to a function call carries :data:`REQUEST_ID_HEADER`, :data:`RESULT_HASH_HEADER`,
:data:`MODE_HEADER` and :data:`WORKER_HEADER`; a caller may ask for a mode with :data:`MODE_HEADER`. A worker's post
to a result inbox carries :data:`WORKER_HEADER` and :data:`SIGNATURE_HEADER` (see :mod:`peerhost.wire.inbox`).
"""

from __future__ import annotations

#: Every PeerHost header starts with this; a function's response may not set one.
HEADER_PREFIX = "x-peerhost-"

REQUEST_ID_HEADER = "x-peerhost-request-id"
RESULT_HASH_HEADER = "x-peerhost-result-hash"
MODE_HEADER = "x-peerhost-mode"
WORKER_HEADER = "x-peerhost-worker"
SIGNATURE_HEADER = "x-peerhost-signature"
#: A worker's request for a job's credential openings carries the unix time it signed.
ISSUED_AT_HEADER = "x-peerhost-issued-at"
#: A worker's post may carry the function's log (base64, redacted, capped; never signed or hashed).
LOG_HEADER = "x-peerhost-log"
#: Until when (unix seconds) a signed request is valid: a seat's input request, an owner's log read.
EXPIRES_HEADER = "x-peerhost-expires"
#: The project owner's signature over a log read or a settings change.
OWNER_SIGNATURE_HEADER = "x-peerhost-owner-signature"
#: The attestations of an answer: ``<worker>:<signature>`` pairs, comma-separated.
ATTESTATIONS_HEADER = "x-peerhost-attestations"
#: Where a ticket-path answer's ticket, attestations, batch and settlement can be followed.
STATUS_URL_HEADER = "x-peerhost-status-url"
#: The EIP-712 struct hash of the answer's ticket (what its attestations sign with the result).
TICKET_HASH_HEADER = "x-peerhost-ticket-hash"
#: A traced gateway's stage marks of a call (``stage=ns,...``; :mod:`peerhost.stagetrace`).
TRACE_HEADER = "x-peerhost-trace"
