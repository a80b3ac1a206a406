"""Per-project HTTP settings the owner gave this gateway (today: the CORS policy).

Set through ``PUT /_projects/<wallet>/<project>/http`` (:mod:`peerhost.gateway.http_settings`).
Kept in memory and, when the gateway has a ``project_settings_file``, in that JSON file so a
restart keeps them.

These settings live on the gateway, not on-chain: every gateway that serves a project's browser
callers needs them (publish pushes them to the gateway it prints URLs for).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from peerhost.cors import CorsPolicy

log = logging.getLogger(__name__)


class ProjectSettings:
    """Each project's CORS policy, optionally persisted to ``path``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._cors: dict[tuple[str, str], CorsPolicy] = {}
        if path is not None and path.exists():
            try:
                for key, doc in json.loads(path.read_text()).items():
                    wallet, project = key.split("/", 1)
                    self._cors[(wallet.lower(), project)] = CorsPolicy.from_json(doc)
            except (ValueError, OSError) as exc:
                log.error("ignoring unreadable project settings file %s: %s", path, exc)

    def cors(self, wallet: str, project: str) -> CorsPolicy | None:
        return self._cors.get((wallet.lower(), project))

    def set_cors(self, wallet: str, project: str, policy: CorsPolicy | None) -> None:
        key = (wallet.lower(), project)
        if policy is None:
            self._cors.pop(key, None)
        else:
            self._cors[key] = policy
        if self.path is not None:
            doc = {f"{w}/{p}": c.to_json() for (w, p), c in sorted(self._cors.items())}
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(doc, indent=2) + "\n")
            tmp.replace(self.path)
