"""`ape run secrets` itself, as a developer runs it, against the test chain."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from peerhost.deploy import record_deployment
from peerhost.storage import LocalStore, cid_from_bytes

ROOT = Path(__file__).resolve().parents[3]
VALUE = "postgres://script:Sup3r-s3cret@db/shop"


@pytest.fixture
def run_secrets(deployment, networks, tmp_path):
    """Factory: runs `ape run secrets ARGS` as TEST::1 (the developer) with ``stdin``."""
    deployments = record_deployment(deployment, tmp_path / "deployments.json")
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": networks.provider.uri,
        "PEERHOST_DEPLOYMENTS": str(deployments),
        "PEERHOST_DEVNET_DIR": str(tmp_path / "no-devnet"),
    }

    def _run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        command = ["ape", "run", "secrets", *args, "--account", "TEST::1"]
        command += ["--network", "ethereum:local:foundry", "--store", f"local:{tmp_path / 'store'}"]
        return subprocess.run(
            command, input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
        )

    return _run


@pytest.mark.slow
def test_ape_run_secrets__set_from_stdin_then_list__pointer_set_value_never_printed(
    run_secrets, registry, developer, tmp_path
):
    done = run_secrets("set", "shop", "DB_URL", stdin=VALUE + "\n")
    assert done.returncode == 0, done.stderr
    assert "Sealed 1 secret(s) of 'shop'" in done.stdout
    listed = run_secrets("list", "shop")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("DB_URL  set ")
    for output in (done.stdout, done.stderr, listed.stdout, listed.stderr):
        assert VALUE not in output
    pointer = bytes(registry.secretsBundle(developer, "shop"))
    bundle = LocalStore(tmp_path / "store").get(cid_from_bytes(pointer))
    assert VALUE.encode() not in bundle


@pytest.mark.slow
def test_ape_run_secrets__invalid_name__refused_before_reading_a_value(run_secrets):
    done = run_secrets("set", "shop", "1BAD", stdin=VALUE)
    assert done.returncode != 0
    assert "not a valid secret name" in done.stderr
