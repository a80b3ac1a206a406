"""What a caller of a PeerHost function can check for itself: :mod:`peerhost.client.verify`."""

from __future__ import annotations

from peerhost.client.verify import AnswerCheck, check_attestations, check_settled

__all__ = ["AnswerCheck", "check_attestations", "check_settled"]
