"""Developer tools on the real stack (anvil, worker processes, the gateway under uvicorn):
function logs with a secret masked and owner-only access, ``ape run logs --follow``, HEAD and
CORS preflights never charged, ``ape run versions``/``rollback``/``disable``/``enable`` with the
URL following each, and ``ape run init`` → own test → ``publish --check`` → curl for every
template."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
from e2e_http_stack import E2E_PROJECT, Stack, wait_until

from peerhost.devnet.accounts import GATEWAY, derive
from peerhost.functionlogs import key_signer, sign_access
from peerhost.publishing import Publisher, load_project
from peerhost.publishing.checks import CACHE_ENV
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


APE = str(Path(sys.executable).with_name("ape"))


def _ape_env(stack: Stack) -> dict[str, str]:
    return {
        **os.environ,
        "APE_FOUNDRY_HOST": stack.devnet.rpc_url,
        "PEERHOST_GATEWAY_URL": stack.gateway_url,
        "PEERHOST_DEVNET_DIR": str(stack.devnet.state_dir),
        CACHE_ENV: str(stack.devnet.sandbox_cache),  # publish checks load the compiled runtimes
    }


def _ape_run(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [APE, "run", *args], env=_ape_env(stack), capture_output=True, text=True, timeout=180
    )


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


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _row(listing: str, function: str, version: int) -> str:
    """The line of ``ape run versions`` output about one version."""
    for line in listing.splitlines():
        fields = line.split()
        if fields[:2] == [function, str(version)]:
            return line
    raise AssertionError(f"no row for {function} v{version} in:\n{listing}")


def test_version_commands__update_rollback_disable_enable__each_prints_and_the_url_follows(
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
    account = ("--account", "TEST::1")

    listing = _ok(_ape_run(stack, "versions", "versioned", *account))
    assert _row(listing, "v", 2).endswith(" active") and "active" not in _row(listing, "v", 1)
    assert _row(listing, "v", 1).split()[2] == "js"  # runtime, then limits, mode, when, CID

    refused = _ape_run(stack, "rollback", "versioned/v", "--to", "9", *account)
    assert refused.returncode == 1 and "no version 9 (versions 1..2" in refused.stderr

    rolled = _ok(_ape_run(stack, "rollback", "versioned/v", *account))
    assert "active version 2 -> 1" in rolled and url in rolled
    wait_until(lambda: http.get(url).text == "first", timeout=60, every=0.5)
    listing = _ok(_ape_run(stack, "versions", "versioned", "v", *account))
    assert _row(listing, "v", 1).endswith(" active") and "active" not in _row(listing, "v", 2)

    disabled = _ok(_ape_run(stack, "disable", "versioned/v", *account))
    assert "versioned/v disabled" in disabled and "410" in disabled
    wait_until(lambda: http.get(url).status_code == 410, timeout=60, every=0.5)

    enabled = _ok(_ape_run(stack, "enable", "versioned/v", *account))
    assert "versioned/v enabled" in enabled and url in enabled
    wait_until(lambda: http.get(url).text == "first", timeout=60, every=0.5)


def test_logs_follow__calls_while_following__each_block_printed_as_it_comes(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "tailed"
    (folder / "functions").mkdir(parents=True)
    (folder / "functions" / "say.js").write_text(
        "export function handler(req) { console.log(`said ${req.query.n}`); return 'ok'; }\n"
    )
    (folder / "project.json").write_text('{"project": "tailed"}')
    with stack.ape():
        url = _publisher(stack).publish(load_project(folder)).urls()["say"]
    first = http.get(url, params={"n": "one"}).headers["x-peerhost-request-id"]

    follower = subprocess.Popen(
        [APE, "run", "logs", "tailed", "say", "--follow", "--account", "TEST::1"],
        env=_ape_env(stack),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(iter(follower.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        wait_until(lambda: first in "".join(seen), timeout=120, every=0.2)  # the existing entry
        second = http.get(url, params={"n": "two"}).headers["x-peerhost-request-id"]
        wait_until(lambda: second in "".join(seen), timeout=30, every=0.2)  # a new one, live
        assert follower.poll() is None  # still following
    finally:
        follower.send_signal(signal.SIGINT)
        follower.wait(timeout=30)
        reader.join(timeout=30)
    out = "".join(seen)
    assert out.index(first) < out.index("| said one") < out.index(second) < out.index("| said two")


#: What each template's hello answers to ``?name=ada``: the same JSON in every js shape and Python.
TEMPLATE_ANSWERS = {
    "c": {"hello": "from C"},
    "express": {"hello": "ada", "method": "GET", "path": "/"},
    "fetch": {"hello": "ada", "method": "GET", "path": "/"},
    "js": {"hello": "ada", "method": "GET", "path": "/"},
    "python": {"hello": "ada", "method": "GET", "path": "/"},
}


def test_init__every_template__its_test_passes_publishes_with_check_and_answers(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    assert sorted(TEMPLATE_ANSWERS) == templates()  # a new template must be added here
    folders = {t: tmp_path / f"new-{t}" for t in templates()}
    inits = {  # started together: each is a few seconds of ape start-up
        t: subprocess.Popen(
            [APE, "run", "init", str(folder), "--template", t],
            env=_ape_env(stack),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for t, folder in folders.items()
    }
    for template, folder in folders.items():
        out, _ = inits[template].communicate(timeout=180)
        assert inits[template].returncode == 0, out
        assert f"Created a {template} project" in out
        assert {"project.json", "README.md", "functions", "tests"} <= {
            p.name for p in folder.iterdir()
        }
    # Each project's own test, as its README says (`pytest <folder>/tests`), all started together.
    # Its pytest.ini keeps the Ape plugin out: no node starts for a sandbox test.
    own_tests = {
        t: subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{folder}/tests"],
            env={**os.environ, CACHE_ENV: str(stack.devnet.sandbox_cache)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for t, folder in folders.items()
    }
    for template, run in own_tests.items():
        out, _ = run.communicate(timeout=600)
        assert run.returncode == 0 and "1 passed" in out, (template, out)
        assert "anvil" not in out, (template, out)
    for template, folder in folders.items():
        published = _ok(_ape_run(stack, "publish", str(folder), "--check", "--account", "TEST::1"))
        assert "check hello: GET / answered 200" in published, template
        url = next(
            line.split("-> ", 1)[1].strip() for line in published.splitlines() if "-> " in line
        )
        assert url.endswith(f"/new-{template}/hello")
        response = http.get(url, params={"name": "ada"})
        assert response.status_code == 200, (template, response.text)
        answer = response.json()
        expected = TEMPLATE_ANSWERS[template]
        assert {k: answer.get(k) for k in expected} == expected, (template, answer)
