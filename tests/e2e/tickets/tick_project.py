"""The scheduled project the schedule e2e tests publish: one ``tick`` function logging and
answering its due time (imported by module name, never from a conftest)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from ticket_stack import TicketStack

from peerhost.functionlogs import key_signer, sign_access
from peerhost.functionlogs.access import SET_SCHEDULES

EVERY = 2
CRON = f"*/{EVERY} * * * * *"
TICK_JS = """export async function handler(req) {
  console.log("due " + req.headers["x-fn-scheduled-at"]);
  return { due: Number(req.headers["x-fn-scheduled-at"]) };
}
"""


def tick_project(root: Path, project: str, cron: str = CRON) -> Path:
    """Writes ``project`` (its ``tick`` function on ``cron``) into ``root``; returns ``root``."""
    (root / "functions").mkdir(parents=True)
    (root / "functions" / "tick.js").write_text(TICK_JS)
    manifest = {"project": project, "functions": {"tick": {"schedule": cron}}}
    (root / "project.json").write_text(json.dumps(manifest))
    return root


def set_schedules(stack: TicketStack, http: httpx.Client, project: str, names: list[str]) -> None:
    """Sets which of ``project``'s functions run on schedule (``[]`` stops them all), signed by
    its developer as ``ape run schedules`` does."""
    body = json.dumps({"functions": names}).encode()
    headers = sign_access(
        key_signer(stack.developer.private_key),
        stack.owner,
        project,
        action=SET_SCHEDULES,
        content=body,
    )
    url = f"{stack.gateway_url}/_projects/{stack.owner}/{project}/schedules"
    assert http.put(url, content=body, headers=headers).status_code == 200
