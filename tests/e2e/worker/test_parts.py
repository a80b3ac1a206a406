"""The worker's parts without a chain: settings, CLI, state, inbox client, metrics endpoint."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from lying_worker import tamper
from prometheus_client.parser import text_string_to_metric_families

from peerhost.wire import input_hash_of, recover_signer, result_hash, sign_result
from peerhost.worker.cli import build_parser, main
from peerhost.worker.errors import InvalidWorkerSettings
from peerhost.worker.inbox import InboxClient, PostOutcome
from peerhost.worker.job import Job
from peerhost.worker.metrics import Metrics
from peerhost.worker.server import MetricsServer
from peerhost.worker.settings import WorkerSettings, settings_from_argv
from peerhost.worker.state import COMMITTING, SEEN, Commitment, WorkerState

KEY = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
COORDINATOR = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"


def _job(n: int = 1) -> Job:
    return Job(
        request_id=bytes([n]) * 32,
        function_id=b"\x02" * 32,
        requester="0x90F79bf6EB2c4f870365E785982E1f101E93b906",
        version=1,
        runtime="js",
        code_cid=b"\x01\x55\x12\x20" + b"\x03" * 32,
        fuel_limit=10**6,
        memory_limit=2**24,
        mode=0,
        input=b"{}",
        input_cid=b"",
        input_hash=input_hash_of(b"{}"),
        reward=10**15,
        requested_at=1_700_000_000,
        commit_deadline=1_700_000_010,
        reveal_deadline=1_700_000_020,
        reply_to=b"http://127.0.0.1:8080/_inbox",
    )


def test_settings__flag_beats_environment_beats_default():
    env = {"PEERHOST_WORKER_CONCURRENCY": "7", "PEERHOST_WORKER_METRICS_PORT": "9999"}
    settings = settings_from_argv(["--concurrency", "3"], env)
    assert settings.concurrency == 3
    assert settings.metrics_port == 9999
    assert settings.finalize_delay == WorkerSettings().finalize_delay


def test_settings__round_trip_through_flags(tmp_path: Path):
    settings = WorkerSettings(data_dir=tmp_path, stake=5, reply_to="http://x/_inbox")
    assert settings_from_argv(settings.to_args(), {}) == settings


def test_settings__bad_value__refused_with_its_name():
    with pytest.raises(InvalidWorkerSettings, match="concurrency"):
        settings_from_argv(["--concurrency", "0"], {})


def test_help__no_strategy_given__the_production_worker_is_honest():
    help_text = build_parser().format_help()
    assert "--concurrency" in help_text
    assert "--strategy" in help_text  # the lab's deviating workers (docs/economics.md)
    assert settings_from_argv([], {}).strategy == "honest"


def test_cli__no_key_in_environment__exits_2_and_says_where_it_goes(tmp_path: Path, capsys):
    chain = tmp_path / "chain.json"
    chain.write_text(json.dumps({"rpc_url": "http://x", "ws_url": "ws://x", "chain_id": 1,
                                 "registry": COORDINATOR, "workers": COORDINATOR,
                                 "coordinator": COORDINATOR}))  # fmt: skip
    assert main(["--chain-config", str(chain)], {}) == 2
    assert "PEERHOST_WORKER_KEY" in capsys.readouterr().err


def test_state__salt_persisted_before_commit__survives_reopening(tmp_path: Path):
    path = tmp_path / "state.sqlite3"
    state = WorkerState(path)
    job = _job()
    assert state.add_job(job)
    assert not state.add_job(job), "a re-delivered log is ignored"
    saved = Commitment(job.request_id, b"\x04" * 32, b"\x05" * 32, b"\x06" * 32, b"{}")
    state.save_commitment(saved)
    state.close()

    reopened = WorkerState(path)
    assert [(j, s) for j, s in reopened.open_jobs()] == [(job, COMMITTING)]
    assert reopened.commitment(job.request_id) == saved


def test_state__cursor_and_counters_persist(tmp_path: Path):
    from peerhost.chain import Position

    state = WorkerState(tmp_path / "s.sqlite3")
    state.save_cursor(Position(12, 3, "0xabc"))
    state.add("earned_wei", 5)
    state.add("earned_wei", 7)
    state.close()
    again = WorkerState(tmp_path / "s.sqlite3")
    assert again.load_cursor() == Position(12, 3, "0xabc")
    assert again.counters() == {"earned_wei": 12}


def test_job__json_round_trip():
    assert Job.from_json(_job().to_json()) == _job()


def test_tamper__changes_the_result_hash():
    envelope = b'{"ok":true,"v":1}'
    assert result_hash(tamper(envelope)) != result_hash(envelope)


def test_inbox_client__posts_signed_raw_envelope__accepted(inbox):
    worker = Account.from_key(KEY).address
    envelope = b'{"ok":true}'
    rid = b"\x09" * 32
    signature = sign_result(KEY, 31337, COORDINATOR, rid, result_hash(envelope))

    async def post() -> PostOutcome:
        client = InboxClient(worker)
        try:
            return await client.post(inbox.url, rid, envelope, signature)
        finally:
            await client.aclose()

    assert asyncio.run(post()) is PostOutcome.ACCEPTED
    (got,) = inbox.posts
    assert got.path == "/_inbox/0x" + rid.hex() and got.body == envelope
    assert got.worker == worker
    assert recover_signer(bytes.fromhex(got.signature[2:]), 31337, COORDINATOR, rid,
                          result_hash(got.body)) == worker  # fmt: skip


def test_inbox_client__refused__not_retried__unreachable__retried(inbox):
    async def post(url: str) -> PostOutcome:
        client = InboxClient("0x0", retries=2, timeout=1)
        try:
            return await client.post(url, b"\x01" * 32, b"x", b"\x00" * 65)
        finally:
            await client.aclose()

    assert asyncio.run(post(inbox.url.replace("/_inbox", "/elsewhere"))) is PostOutcome.REFUSED
    assert len(inbox.posts) == 1
    assert asyncio.run(post("http://127.0.0.1:9/_inbox")) is PostOutcome.UNREACHABLE
    assert asyncio.run(post("")) is PostOutcome.SKIPPED


def _serve_metrics(metrics: Metrics) -> tuple[dict, httpx.Response]:
    async def fetch() -> tuple[dict, httpx.Response]:
        server = MetricsServer(metrics.snapshot, "127.0.0.1", 0, metrics.exposition)
        await server.start()
        try:
            async with httpx.AsyncClient() as client:
                assert (await client.get(server.url + "/health")).json() == {"ok": True}
                assert (await client.get(server.url + "/nope")).status_code == 404
                doc = (await client.get(server.url + "/metrics.json")).json()
                return doc, await client.get(server.url + "/metrics")
        finally:
            await server.stop()

    return asyncio.run(fetch())


def test_metrics_server__serves_counters_as_json(tmp_path: Path):
    state = WorkerState(tmp_path / "s.sqlite3")
    state.add_job(_job())
    metrics = Metrics(state)
    metrics.add("seen")
    for seconds in (0.001, 0.003, 0.002):
        metrics.executed(seconds, fuel_used=1000)

    doc, _ = _serve_metrics(metrics)
    assert doc["seen"] == 1 and doc["committed"] == 0
    assert doc["execution_ms_p50"] == 2.0
    assert doc["fuel_used"] == 3000
    assert doc["jobs_by_status"] == {SEEN: 1}


def test_metrics_server__prometheus_text__counters_histograms_stake(tmp_path: Path):
    state = WorkerState(tmp_path / "s.sqlite3")
    state.add_job(_job())
    metrics = Metrics(state)
    metrics.stake_wei = 2 * 10**18
    metrics.add("seen")
    metrics.add("earned_wei", 5)
    metrics.executed(0.004, fuel_used=700)
    metrics.job_done(1.5)
    metrics.slashed(10**18)
    metrics.duty_reverted["reveal"] = 2

    doc, response = _serve_metrics(metrics)
    assert doc["duty_reverted"] == {"reveal": 2}
    assert response.headers["content-type"].startswith("text/plain")
    values = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert values[("peerhost_worker_seen_total", ())] == 1
    assert values[("peerhost_worker_earned_wei_total", ())] == 5
    assert values[("peerhost_worker_slashed_total", ())] == 1
    assert values[("peerhost_worker_slashed_wei_total", ())] == 10**18
    assert values[("peerhost_worker_stake_wei", ())] == 10**18  # lowered by the slash
    assert values[("peerhost_worker_fuel_used_total", ())] == 700
    assert values[("peerhost_worker_duty_reverted_total", (("step", "reveal"),))] == 2
    assert values[("peerhost_worker_sandbox_run_seconds_count", ())] == 1
    assert values[("peerhost_worker_sandbox_run_seconds_bucket", (("le", "0.005"),))] == 1
    assert values[("peerhost_worker_job_duration_seconds_bucket", (("le", "1.0"),))] == 0
    assert values[("peerhost_worker_job_duration_seconds_bucket", (("le", "2.5"),))] == 1
    assert values[("peerhost_worker_jobs", (("status", SEEN),))] == 1
    assert values[("peerhost_worker_connected", ())] == 0
