"""Function logs off the wire: capture (redaction, caps), the owner's access signature, the store."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from peerhost.functionlogs import (
    AccessDenied,
    LogStore,
    NoAccessSignature,
    access_message,
    decode_log,
    encode_log,
    key_signer,
    prepare_log,
    sign_access,
    verify_access,
)
from peerhost.functionlogs.access import EXPIRES_HEADER, SIGNATURE_HEADER
from peerhost.functionlogs.store import FLUSH_DELAY
from peerhost.secrets.redact import MASK

SECRET = "sk_live_9f8e7d6c5b4a"
OWNER = Account.create()
STRANGER = Account.create()


def test_prepare_log__secret_printed__masked_in_every_spelling() -> None:
    stderr = f'key={SECRET}\njson="{SECRET}"\n'.encode()
    text = prepare_log(stderr, [SECRET, "ab"])
    assert SECRET not in text
    assert text.count(MASK) == 2


def test_prepare_log__longer_than_cap__cut_with_marker_and_secret_still_masked() -> None:
    stderr = ("x" * 90 + SECRET + "y" * 50).encode()
    text = prepare_log(stderr, [SECRET], cap=100)
    assert SECRET[:10] not in text
    assert "log truncated" in text
    assert len(text.split("…")[0].encode()) <= 100


def test_prepare_log__invalid_utf8__replaced_not_raised() -> None:
    assert prepare_log(b"ok \xff\xfe end") == "ok \ufffd\ufffd end"


def test_log_header__round_trip__same_text() -> None:
    assert decode_log(encode_log("héllo\nworld")) == "héllo\nworld"


def test_decode_log__not_base64__value_error() -> None:
    with pytest.raises(ValueError, match="base64"):
        decode_log("not base64!!")


def test_decode_log__oversized_from_worker__cut_by_gateway() -> None:
    text = decode_log(encode_log("z" * 10_000), cap=100)
    assert len(text) < 300 and "log truncated" in text


def _headers(account: object, wallet: str, project: str = "shop") -> dict[str, str]:
    return sign_access(key_signer(account.key), wallet, project)  # type: ignore[attr-defined]


def test_verify_access__owner_signature__returns_owner() -> None:
    headers = _headers(OWNER, OWNER.address)
    signer = verify_access(
        OWNER.address, "shop", headers[EXPIRES_HEADER], headers[SIGNATURE_HEADER]
    )
    assert signer == OWNER.address


def test_verify_access__stranger_signature__denied() -> None:
    headers = _headers(STRANGER, OWNER.address)
    with pytest.raises(AccessDenied, match="not the owner"):
        verify_access(OWNER.address, "shop", headers[EXPIRES_HEADER], headers[SIGNATURE_HEADER])


def test_verify_access__signed_for_another_project__denied() -> None:
    headers = _headers(OWNER, OWNER.address, project="other")
    with pytest.raises(AccessDenied):
        verify_access(OWNER.address, "shop", headers[EXPIRES_HEADER], headers[SIGNATURE_HEADER])


def test_verify_access__expired__denied() -> None:
    headers = _headers(OWNER, OWNER.address)
    later = time.time() + 3600
    with pytest.raises(AccessDenied, match="expired"):
        verify_access(
            OWNER.address, "shop", headers[EXPIRES_HEADER], headers[SIGNATURE_HEADER], now=later
        )


def test_verify_access__expiry_too_far__denied() -> None:
    far = int(time.time()) + 86_400
    sig = Account.sign_message(
        encode_defunct(text=access_message(OWNER.address, "shop", far)), OWNER.key
    ).signature
    with pytest.raises(AccessDenied, match="away"):
        verify_access(OWNER.address, "shop", str(far), "0x" + bytes(sig).hex())


def test_verify_access__no_headers__no_access_signature() -> None:
    with pytest.raises(NoAccessSignature):
        verify_access(OWNER.address, "shop", None, None)


def test_verify_access__garbage_signature__denied() -> None:
    with pytest.raises(AccessDenied, match="not a valid signature"):
        verify_access(OWNER.address, "shop", str(int(time.time()) + 60), "0x1234")


def _add(store: LogStore, wallet: str, project: str, function: str, rid: str) -> None:
    store.add(
        wallet,
        project,
        at=time.time(),
        function=function,
        status=200,
        latency_ms=1.0,
        request_id=rid,
        mode="fast",
        worker=None,
        lines=("hi",),
    )


def test_store__filters__by_project_function_request_and_seq() -> None:
    store = LogStore(per_project=10)
    _add(store, "0xAA", "shop", "a", "0x01")
    _add(store, "0xaa", "shop", "b", "0x02")
    _add(store, "0xaa", "other", "a", "0x03")
    assert [e.request_id for e in store.query("0xaa", "shop")] == ["0x01", "0x02"]
    assert [e.request_id for e in store.query("0xaa", "shop", function="b")] == ["0x02"]
    assert [e.request_id for e in store.query("0xaa", "shop", request_id="0x01")] == ["0x01"]
    assert [e.request_id for e in store.query("0xaa", "shop", after=1)] == ["0x02"]
    assert store.query("0xbb", "shop") == []


def test_store__over_capacity__keeps_newest_per_project_and_newest_projects() -> None:
    store = LogStore(per_project=2, projects=2)
    for n in range(3):
        _add(store, "0xaa", "p1", "f", f"0x{n}")
    _add(store, "0xaa", "p2", "f", "0x10")
    _add(store, "0xaa", "p3", "f", "0x11")
    assert store.query("0xaa", "p1") == []
    assert [e.request_id for e in store.query("0xaa", "p3")] == ["0x11"]
    store2 = LogStore(per_project=2)
    for n in range(3):
        _add(store2, "0xaa", "p1", "f", f"0x{n}")
    assert [e.request_id for e in store2.query("0xaa", "p1")] == ["0x1", "0x2"]


def test_store_wait__entry_added_meanwhile__returned() -> None:
    async def scenario() -> list[str]:
        store = LogStore()

        async def later() -> None:
            await asyncio.sleep(0.05)
            _add(store, "0xaa", "shop", "a", "0x01")

        task = asyncio.create_task(later())
        found = await store.wait("0xaa", "shop", None, None, 0, timeout=5.0)
        await task
        return [e.request_id for e in found]

    assert asyncio.run(scenario()) == ["0x01"]


def test_store_wait__nothing_arrives__empty_after_timeout() -> None:
    async def scenario() -> int:
        store = LogStore()
        return len(await store.wait("0xaa", "shop", None, None, 0, timeout=0.05))

    assert asyncio.run(scenario()) == 0


def test_store__reopened_from_its_file__keeps_entries_and_seq(tmp_path) -> None:
    path = tmp_path / "logs.sqlite3"
    store = LogStore(per_project=2, path=path)
    for n in range(3):
        _add(store, "0xAA", "p1", "f", f"0x{n}")
    _add(store, "0xaa", "p2", "g", "0x10")
    store.close()
    again = LogStore(per_project=2, path=path)
    assert [e.request_id for e in again.query("0xaa", "p1")] == ["0x1", "0x2"]
    assert [e.lines for e in again.query("0xaa", "p2")] == [("hi",)]
    assert again.last == 4
    _add(again, "0xaa", "p1", "f", "0x3")
    assert again.last == 5  # a follower's cursor stays valid


def test_store__reopened_with_fewer_projects__drops_the_oldest_on_disk(tmp_path) -> None:
    path = tmp_path / "logs.sqlite3"
    store = LogStore(per_project=5, path=path)
    for project in ("p1", "p2", "p3"):
        _add(store, "0xaa", project, "f", "0x01")
    store.close()
    LogStore(per_project=5, projects=2, path=path).close()
    again = LogStore(per_project=5, path=path)
    assert again.query("0xaa", "p1") == []
    assert len(again.query("0xaa", "p3")) == 1


def test_store__many_writes__file_keeps_per_project_entries_of_each_project(tmp_path) -> None:
    path = tmp_path / "logs.sqlite3"
    store = LogStore(per_project=3, path=path)
    for n in range(10):
        _add(store, "0xaa", "p1", "f", f"0x{n}")
        if n % 3 == 0:
            _add(store, "0xaa", "p2", "g", f"0x1{n}")
    store.close()
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT project, request_id FROM entries ORDER BY seq").fetchall()
    assert [r for p, r in rows if p == "p1"] == ["0x7", "0x8", "0x9"]
    assert [r for p, r in rows if p == "p2"] == ["0x13", "0x16", "0x19"]


def _on_disk(path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [r for (r,) in db.execute("SELECT request_id FROM entries ORDER BY seq")]


def test_store__entries_added_on_a_loop__readable_at_once_written_in_one_group_commit(
    tmp_path,
) -> None:
    path = tmp_path / "logs.sqlite3"
    store = LogStore(per_project=3, path=path)

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        for n in range(5):
            _add(store, "0xaa", "p1", "f", f"0x{n}")
        in_memory = [e.request_id for e in store.query("0xaa", "p1")]
        before = _on_disk(path)
        await asyncio.sleep(FLUSH_DELAY * 3)
        return in_memory, before, _on_disk(path)

    in_memory, before, after = asyncio.run(scenario())
    assert in_memory == ["0x2", "0x3", "0x4"]  # readers never wait for the file
    assert before == []  # nothing committed on the call's path
    assert after == ["0x2", "0x3", "0x4"]  # the group commit kept the per-project bound
    store.close()


def test_store__closed_before_the_group_commit__pending_entries_written(tmp_path) -> None:
    path = tmp_path / "logs.sqlite3"
    store = LogStore(per_project=5, path=path)

    async def scenario() -> None:
        _add(store, "0xaa", "p1", "f", "0x1")
        store.close()

    asyncio.run(scenario())
    assert _on_disk(path) == ["0x1"]
    assert [e.request_id for e in LogStore(path=path).query("0xaa", "p1")] == ["0x1"]
