"""Developer tools on the ticket path (``bin/devnet``'s default): every ``ape run init`` template
published with ``ape run publish`` answers (the publish funds its ticket reserve) and its log is
readable by the owner as soon as the answer is back; a secret a function prints reaches the owner
masked and no one else; HEAD and CORS preflights issue no ticket; a cross-origin call exposes
the ticket path's proof headers."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from ticket_stack import APE, TicketStack

from peerhost.devnet.accounts import GATEWAY, derive
from peerhost.functionlogs import key_signer, sign_access
from peerhost.publishing import Publisher, load_project
from peerhost.publishing.billing import DEVNET_RESERVE, fund_reserve, prepare_reserve
from peerhost.publishing.checks import CACHE_ENV
from peerhost.publishing.errors import FundingReverted
from peerhost.scaffold import init_project, templates
from peerhost.storage import open_store

SECRET = "tok-7c1d9e3b5a-secret"
LEAKY_JS = """export async function handler(req) {
  console.log("using token " + process.env.API_TOKEN);
  return { status: 200, body: "done" };
}
"""
#: What each template's hello answers to ``?name=ada``.
TEMPLATE_ANSWERS = {
    "c": {"hello": "from C"},
    "express": {"hello": "ada", "method": "GET", "path": "/"},
    "fetch": {"hello": "ada", "method": "GET", "path": "/"},
    "js": {"hello": "ada", "method": "GET", "path": "/"},
    "python": {"hello": "ada", "method": "GET", "path": "/"},
}


def _logs(stack: TicketStack, http: httpx.Client, project: str, request_id: str) -> list[str]:
    """The owner's read of one request's log lines, without waiting."""
    owner = stack.developer
    headers = sign_access(key_signer(owner.private_key), stack.owner, project)
    answer = http.get(
        f"{stack.gateway_url}/_logs/{stack.owner}/{project}",
        params={"request": request_id},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return [line for entry in answer.json()["entries"] for line in entry["lines"]]


def test_init__every_template__ape_run_publish_funds_the_reserve_and_the_url_answers(
    tickets_stack: TicketStack, http: httpx.Client, recorded: Path, tmp_path: Path
) -> None:
    assert sorted(TEMPLATE_ANSWERS) == templates()  # a new template must be added here
    for template, expected in TEMPLATE_ANSWERS.items():
        folder = tmp_path / f"tk-{template}"
        init_project(folder, template)
        done = tickets_stack.ape_run(recorded, "publish", str(folder))
        assert done.returncode == 0, done.stdout + done.stderr
        assert (
            f"Devnet ticket reserve of 'tk-{template}': {DEVNET_RESERVE // 10**18} ETH "
            f"(added {DEVNET_RESERVE // 10**18} ETH, authorized gateway"
        ) in done.stdout
        url = next(
            line.split("-> ", 1)[1].strip() for line in done.stdout.splitlines() if "-> " in line
        )
        response = http.get(url, params={"name": "ada"})
        assert response.status_code == 200, (template, response.text)
        answer = response.json()
        assert {k: answer.get(k) for k in expected} == expected, (template, answer)
        # The log is the owner's as soon as the answer is back: read at once, no wait.
        lines = _logs(
            tickets_stack, http, f"tk-{template}", response.headers["x-peerhost-request-id"]
        )
        assert lines, template
        if template != "c":
            assert lines == ["greeting ada"], (template, lines)


def test_logs__secret_printed_on_the_ticket_path__owner_reads_it_masked_others_refused(
    tickets_stack: TicketStack, http: httpx.Client, recorded: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "leaky"
    (folder / "functions").mkdir(parents=True)
    (folder / "functions" / "leak.js").write_text(LEAKY_JS)
    (folder / "project.json").write_text('{"project": "leaky", "secrets": ["API_TOKEN"]}')
    tickets_stack.set_secret("leaky", "API_TOKEN", SECRET)
    url = tickets_stack.publish(folder)["leak"]
    # a ticket pins the secrets as of the gateway's head, read at most 2 s before it is signed
    # (docs/tickets.md): a call sooner after setting the secret runs without it, as documented
    time.sleep(2.5)
    response = http.get(url)
    assert response.status_code == 200, response.text
    lines = _logs(tickets_stack, http, "leaky", response.headers["x-peerhost-request-id"])
    assert lines == ["using token [REDACTED]"], lines

    stranger = sign_access(key_signer(derive(GATEWAY).private_key), tickets_stack.owner, "leaky")
    refused = http.get(
        f"{tickets_stack.gateway_url}/_logs/{tickets_stack.owner}/leaky", headers=stranger
    )
    assert refused.status_code == 403 and "using token" not in refused.text
    leaked = [
        str(p) for p in recorded.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()
    ]
    assert leaked == []


def _issued(stack: TicketStack) -> int:
    """The gateway's running total of ticket rewards issued (its ticket book)."""
    path = stack.devnet.state_dir / "gateway" / "tickets.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'issued_total'").fetchone()
    return int(row[0]) if row else 0


def test_head_and_preflight__on_the_ticket_path__no_ticket_issued(
    tickets_stack: TicketStack, http: httpx.Client
) -> None:
    url = tickets_stack.example("hello")
    before = _issued(tickets_stack)
    head = http.head(url)
    assert head.status_code == 405 and "GET" in head.headers["allow"]
    preflight = http.options(
        url, headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 403  # the examples declare no CORS policy
    assert preflight.headers["content-type"] == "application/problem+json"
    assert _issued(tickets_stack) == before
    assert http.get(url).status_code == 200  # a paid call does issue one: the check can fail
    assert _issued(tickets_stack) > before


def test_cors__policy_published_on_the_ticket_path__preflight_allowed_proof_headers_exposed(
    tickets_stack: TicketStack, http: httpx.Client, recorded: Path, tmp_path: Path
) -> None:
    app = "https://app.example"
    folder = tmp_path / "corsy"
    init_project(folder, "js")
    manifest = {"project": "corsy", "cors": {"origins": [app], "methods": ["GET"]}}
    (folder / "project.json").write_text(json.dumps(manifest))
    devnet = tickets_stack.devnet
    assert devnet.deployment is not None and devnet.settlement is not None
    with tickets_stack.ape():
        developer = tickets_stack.developer
        publisher = Publisher(
            devnet.deployment.registry, developer, open_store(devnet.store_spec), devnet.gateway_url
        )
        spec = load_project(folder)
        url = publisher.publish(spec).urls()["hello"]
        assert "CORS policy sent" in publisher.send_http_settings(spec)
        gateway = devnet.gateway_key.address
        prepare_reserve(devnet.settlement.gateways, developer, "corsy", gateway, minimum=10**18)
    before = _issued(tickets_stack)
    allowed = http.options(url, headers={"Origin": app, "Access-Control-Request-Method": "GET"})
    assert allowed.status_code == 204 and allowed.headers["access-control-allow-origin"] == app
    other = http.options(
        url, headers={"Origin": "https://other.example", "Access-Control-Request-Method": "GET"}
    )
    assert other.status_code == 403
    assert _issued(tickets_stack) == before
    call = http.get(url, headers={"Origin": app})
    assert call.status_code == 200 and call.headers["access-control-allow-origin"] == app
    exposed = call.headers["access-control-expose-headers"]
    for name in ("x-peerhost-request-id", "x-peerhost-attestations", "x-peerhost-ticket-hash"):
        assert name in exposed and name in call.headers


def _publish_without_devnet(
    stack: TicketStack, folder: Path, deployments: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``ape run publish`` as on a network with no devnet: the deployments file, store and
    gateway URL given on the command line."""
    devnet = stack.devnet
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": devnet.rpc_url,
        "PEERHOST_DEVNET_DIR": str(folder.parent / "no-devnet"),
        CACHE_ENV: str(devnet.sandbox_cache),
    }
    command = [APE, "run", "publish", str(folder), "--account", "TEST::1"]
    command += ["--deployments", str(deployments), "--store", devnet.store_spec]
    command += ["--gateway-url", devnet.gateway_url, *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_publish__fund_where_settlement_is_deployed__reserve_moves_by_the_amount_and_url_answers(
    tickets_stack: TicketStack, http: httpx.Client, tmp_path: Path
) -> None:
    devnet = tickets_stack.devnet
    assert devnet.deployment is not None and devnet.settlement is not None
    # The deployments file `ape run deploy` writes on a live network: v1 and the settlement.
    recorded = json.loads(devnet.deployments_path.read_text())
    for entry in recorded.values():
        entry["settlement"] = devnet.settlement.addresses
    deployments = tmp_path / "deployments.json"
    deployments.write_text(json.dumps(recorded))
    folder = tmp_path / "funded"
    init_project(folder, "js")
    (tmp_path / "no-devnet").mkdir()

    unfunded = _publish_without_devnet(tickets_stack, folder, deployments)
    assert unfunded.returncode == 0, unfunded.stdout + unfunded.stderr
    assert "reserve" not in unfunded.stdout  # no devnet: nothing is funded unasked
    url = next(
        line.split("-> ", 1)[1].strip() for line in unfunded.stdout.splitlines() if "-> " in line
    )
    refused = http.get(url, params={"name": "ada"})
    assert refused.status_code == 402, refused.text
    assert (
        "ape run publish <folder> --project-name funded --fund <ether>"
        in (refused.json()["message"])
    )

    gateway = devnet.gateway_key.address
    with tickets_stack.ape():
        gateways = devnet.settlement.gateways
        project_id = gateways.projectIdOf(tickets_stack.owner, "funded")
        before = int(gateways.reserveOf(project_id).balance)
    done = _publish_without_devnet(
        tickets_stack, folder, deployments, "--fund", "0.05", "--authorize-gateway", gateway
    )
    assert done.returncode == 0, done.stdout + done.stderr
    amount = 5 * 10**16
    with tickets_stack.ape():
        after = int(devnet.settlement.gateways.reserveOf(project_id).balance)
    assert after - before == amount
    assert f"with 0.05 ETH ({amount} wei) from {tickets_stack.owner}" in done.stdout
    assert f"Authorized gateway {gateway} on the ticket reserve of 'funded'" in done.stdout
    assert f"Ticket reserve of 'funded' now {after / 10**18:g} ETH ({after} wei)" in done.stdout
    assert "Project balance" not in done.stdout  # not the per-request path's balance
    answer = http.get(url, params={"name": "ada"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["hello"] == "ada"


def test_fund_reserve__transaction_reverts__clear_error_and_reserve_unchanged(
    tickets_stack: TicketStack,
) -> None:
    devnet = tickets_stack.devnet
    assert devnet.settlement is not None
    with tickets_stack.ape():
        gateways = devnet.settlement.gateways
        developer = tickets_stack.developer
        project_id = gateways.projectIdOf(developer, "Not A Name")
        before = int(gateways.reserveOf(project_id).balance)
        with pytest.raises(FundingReverted) as refused:
            fund_reserve(
                gateways,
                developer,
                "Not A Name",
                authorize=(devnet.gateway_key.address,),
            )
        assert int(gateways.reserveOf(project_id).balance) == before
    message = str(refused.value)
    assert "Could not authorize gateway" in message
    assert "'Not A Name'" in message
    assert "InvalidProjectName" in message
