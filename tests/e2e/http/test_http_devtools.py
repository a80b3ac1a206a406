"""Developer tools on the real stack (anvil, worker processes, the gateway under uvicorn):
function logs with a secret masked and owner-only access, HEAD and CORS preflights never
charged, and a rollback that makes the URL answer with the earlier version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from e2e_http_stack import E2E_PROJECT, Stack, wait_until

from peerhost.devnet.accounts import GATEWAY, derive
from peerhost.functionlogs import key_signer, sign_access
from peerhost.publishing import Publisher, load_project
from peerhost.publishing.versions import VersionManager
from peerhost.scaffold import templates
from peerhost.secrets import ApeSecretsChain, SecretsTool, ape_signer
from peerhost.storage import open_store

SECRET = "tok-5b9c1e7d3a-secret"
LEAKY_JS = """export async function handler(req) {
  console.log("using token " + process.env.API_TOKEN);
  console.error("second line");
  return { status: 200, body: "done" };
}
"""
APP = "https://app.example"


def _publisher(stack: Stack) -> Publisher:
    return Publisher(
        stack.deployment.registry,
        stack.developer,
        open_store(stack.devnet.store_spec),
        stack.gateway_url,
    )


def _ape_run(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    ape = str(Path(sys.executable).with_name("ape"))
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": stack.devnet.rpc_url,
        "PEERHOST_GATEWAY_URL": stack.gateway_url,
        "PEERHOST_DEVNET_DIR": str(stack.devnet.state_dir),
    }
    return subprocess.run([ape, "run", *args], env=env, capture_output=True, text=True, timeout=180)


def test_logs__function_prints_a_secret__owner_reads_it_masked_others_refused(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "leaky"
    (folder / "functions").mkdir(parents=True)
    (folder / "functions" / "leak.js").write_text(LEAKY_JS)
    (folder / "project.json").write_text('{"project": "leaky", "secrets": ["API_TOKEN"]}')
    with stack.ape():
        from ape import chain

        tool = SecretsTool(
            chain=ApeSecretsChain(
                stack.deployment.registry, stack.deployment.workers, stack.developer
            ),
            store=open_store(stack.devnet.store_spec),
            signer=ape_signer(stack.developer),
            owner=stack.owner,
            chain_id=int(chain.chain_id),
            registry=str(stack.deployment.registry.address),
        )
        tool.set("leaky", "API_TOKEN", SECRET)
        url = _publisher(stack).publish(load_project(folder)).urls()["leak"]
    response = http.get(url)
    assert response.status_code == 200, response.text
    rid = response.headers["x-peerhost-request-id"]

    owner = _ape_run(stack, "logs", "leaky", "leak", "--request", rid, "--account", "TEST::1")
    assert owner.returncode == 0, owner.stdout + owner.stderr
    assert rid in owner.stdout
    assert "| using token [REDACTED]" in owner.stdout and "| second line" in owner.stdout
    assert SECRET not in owner.stdout + owner.stderr

    # Another account reads its own namespace (nothing there), and asking for the owner's logs
    # with its signature is refused.
    stranger = _ape_run(stack, "logs", "leaky", "--account", "TEST::2")
    assert "No logs" in stranger.stdout and "using token" not in stranger.stdout
    headers = sign_access(key_signer(derive(GATEWAY).private_key), stack.owner, "leaky")
    refused = http.get(f"{stack.gateway_url}/_logs/{stack.owner}/leaky", headers=headers)
    assert refused.status_code == 403 and "using token" not in refused.text

    leaked = [
        str(p)
        for p in stack.devnet.state_dir.rglob("*")
        if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    assert leaked == []


def _balance(stack: Stack) -> int:
    coordinator = stack.deployment.coordinator
    pid = stack.deployment.registry.projectIdOf(stack.owner, E2E_PROJECT)
    return int(coordinator.projectAccount(pid).balance)


def test_head_and_preflight__never_charged__project_balance_unchanged_on_chain(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    url = stack.url(E2E_PROJECT, stack.js_hello)
    with stack.ape():
        before = _balance(stack)
    head = http.head(url)
    assert head.status_code == 405 and "GET" in head.headers["allow"]
    refused = http.options(url, headers={"Origin": APP, "Access-Control-Request-Method": "GET"})
    assert refused.status_code == 403  # no policy yet
    assert refused.headers["content-type"] == "application/problem+json"
    with stack.ape():
        assert _balance(stack) == before
    # A paid call does move it: the check above can fail.
    assert http.get(url).status_code == 200
    with stack.ape():
        assert _balance(stack) < before


def test_cors__declared_in_project_json__published_preflight_allowed_and_call_carries_headers(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "corsy"
    (folder / "functions").mkdir(parents=True)
    (folder / "functions" / "hi.js").write_text(
        'export function handler() { return { status: 200, body: "hi" }; }\n'
    )
    (folder / "project.json").write_text(
        json.dumps({"project": "corsy", "cors": {"origins": [APP], "methods": ["GET"]}})
    )
    with stack.ape():
        publisher = _publisher(stack)
        spec = load_project(folder)
        url = publisher.publish(spec).urls()["hi"]
        assert "CORS policy sent" in publisher.send_http_settings(spec)
    allowed = http.options(url, headers={"Origin": APP, "Access-Control-Request-Method": "GET"})
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == APP
    other = http.options(
        url, headers={"Origin": "https://other.example", "Access-Control-Request-Method": "GET"}
    )
    assert other.status_code == 403
    call = http.get(url, headers={"Origin": APP})
    assert call.status_code == 200 and call.text == "hi"
    assert call.headers["access-control-allow-origin"] == APP
    assert "x-peerhost-request-id" in call.headers["access-control-expose-headers"]


def test_rollback__after_an_update__url_answers_with_the_earlier_version(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "versioned"
    (folder / "functions").mkdir(parents=True)
    source = 'export function handler() {{ return {{ status: 200, body: "{}" }}; }}\n'
    (folder / "project.json").write_text('{"project": "versioned"}')
    for text in ("first", "second"):
        (folder / "functions" / "v.js").write_text(source.format(text))
        with stack.ape():
            url = _publisher(stack).publish(load_project(folder)).urls()["v"]
        wait_until(lambda text=text, url=url: http.get(url).text == text, timeout=60, every=0.5)
    with stack.ape():
        line = VersionManager(
            stack.deployment.registry, stack.developer, stack.gateway_url
        ).rollback("versioned", "v")
    assert "2 -> 1" in line and url in line
    wait_until(lambda: http.get(url).text == "first", timeout=60, every=0.5)


@pytest.mark.parametrize("template", templates())
def test_init__every_template__its_test_passes_publishes_with_check_and_answers(
    stack: Stack, http: httpx.Client, tmp_path: Path, template: str
) -> None:
    folder = tmp_path / f"new-{template}"
    init = _ape_run(stack, "init", str(folder), "--template", template)
    assert init.returncode == 0, init.stdout + init.stderr
    assert {"project.json", "README.md"} <= {p.name for p in folder.iterdir()}
    own_test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder / "tests")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert own_test.returncode == 0, own_test.stdout + own_test.stderr
    published = _ape_run(stack, "publish", str(folder), "--check", "--account", "TEST::1")
    assert published.returncode == 0, published.stdout + published.stderr
    assert "check hello: GET / answered 200" in published.stdout
    url = next(
        line.split("-> ", 1)[1].strip() for line in published.stdout.splitlines() if "-> " in line
    )
    assert url.endswith(f"/new-{template}/hello")
    response = http.get(url, params={"name": "ada"})
    assert response.status_code == 200, response.text
    assert response.json()["hello"] == ("ada" if template == "js" else "from C")
