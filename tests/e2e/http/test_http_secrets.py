"""A project's secret through the whole devnet path: `ape run secrets set`, publishing, an HTTP
call answered by the workers, and no trace of the value in any log or state file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from e2e_http_stack import Stack

from peerhost.publishing import Publisher, load_project
from peerhost.secrets import SecretsMissing
from peerhost.storage import open_store

SECRET = "s3cr3t-vault-value-7d1f"
GREET_JS = """export async function handler(req) {
  const derived = process.env.GREETING.toUpperCase().split("").reverse().join("");
  return { status: 200, body: { derived, length: process.env.GREETING.length } };
}
"""


def _project(root: Path) -> Path:
    (root / "functions").mkdir(parents=True)
    (root / "functions" / "greet.js").write_text(GREET_JS)
    (root / "project.json").write_text('{"project": "vault", "secrets": ["GREETING"]}')
    return root


def _publisher(stack: Stack) -> Publisher:
    return Publisher(
        stack.deployment.registry,
        stack.developer,
        open_store(stack.devnet.store_spec),
        stack.gateway_url,
    )


def test_secret__set_published_called__function_derives_it_and_no_log_holds_it(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = _project(tmp_path / "vault")
    with stack.ape(), pytest.raises(SecretsMissing, match="GREETING"):
        _publisher(stack).publish(load_project(folder))

    ape = str(Path(sys.executable).with_name("ape"))
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": stack.devnet.rpc_url,
        "PEERHOST_DEVNET_DIR": str(stack.devnet.state_dir),
    }
    result = subprocess.run(
        [ape, "run", "secrets", "set", "vault", "GREETING", "--account", "TEST::1"],
        input=SECRET + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr

    with stack.ape():
        published = _publisher(stack).publish(load_project(folder))
    url = published.urls()["greet"]

    for mode in ("fast", "verified"):
        response = http.get(url, headers={"X-PeerHost-Mode": mode})
        assert response.status_code == 200, response.text
        assert response.json() == {"derived": SECRET.upper()[::-1], "length": len(SECRET)}

    leaked = [
        str(path)
        for path in stack.devnet.state_dir.rglob("*")
        if path.is_file() and SECRET.encode() in path.read_bytes()
    ]
    assert leaked == []
