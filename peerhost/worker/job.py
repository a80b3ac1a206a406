"""A job as announced by ``ExecutionRequested``: everything needed to run and prove it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Job:
    """One request's snapshot (IExecutionCoordinator.Job plus the indexed ids).

    Attributes mirror the Solidity struct; byte fields are ``bytes``, times are block timestamps.
    """

    request_id: bytes
    function_id: bytes
    requester: str
    version: int
    runtime: str
    code_cid: bytes
    fuel_limit: int
    memory_limit: int
    mode: int
    input: bytes
    input_cid: bytes
    input_hash: bytes
    reward: int
    requested_at: int
    commit_deadline: int
    reveal_deadline: int
    reply_to: bytes
    block_number: int = 0

    @property
    def rid(self) -> str:
        """The request id as 0x-hex (for logs and URLs)."""
        return "0x" + self.request_id.hex()

    @property
    def reply_url(self) -> str:
        """The result inbox base URL from the event, or "" when none was given."""
        try:
            return self.reply_to.decode("utf-8").strip().rstrip("/")
        except UnicodeDecodeError:
            return ""

    @classmethod
    def from_event(cls, args: dict[str, Any], block_number: int = 0) -> Job:
        """Builds a job from decoded ``ExecutionRequested`` args."""
        j = args["job"]
        return cls(
            request_id=bytes(args["requestId"]),
            function_id=bytes(args["functionId"]),
            requester=str(args["requester"]),
            version=int(j["version"]),
            runtime=str(j["runtime"]),
            code_cid=bytes(j["codeCid"]),
            fuel_limit=int(j["fuelLimit"]),
            memory_limit=int(j["memoryLimit"]),
            mode=int(j["mode"]),
            input=bytes(j["input"]),
            input_cid=bytes(j["inputCid"]),
            input_hash=bytes(j["inputHash"]),
            reward=int(j["reward"]),
            requested_at=int(j["requestedAt"]),
            commit_deadline=int(j["commitDeadline"]),
            reveal_deadline=int(j["revealDeadline"]),
            reply_to=bytes(j["replyTo"]),
            block_number=block_number,
        )

    def to_json(self) -> str:
        doc = {k: ("0x" + v.hex() if isinstance(v, bytes) else v) for k, v in asdict(self).items()}
        return json.dumps(doc, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Job:
        doc = json.loads(text)
        byte_fields = {
            "request_id",
            "function_id",
            "code_cid",
            "input",
            "input_cid",
            "input_hash",
            "reply_to",
        }
        fields: dict[str, Any] = {
            k: bytes.fromhex(v[2:]) if k in byte_fields else v for k, v in doc.items()
        }
        return cls(**fields)
