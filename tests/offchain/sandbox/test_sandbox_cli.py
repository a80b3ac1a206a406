"""python -m peerhost.sandbox: run a function once from the command line."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from sandbox_helpers import EXAMPLES

from peerhost.sandbox.__main__ import main


def test_cli__hello_with_env__prints_envelope_and_hash(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "wasi",
            str(EXAMPLES / "hello.wasm"),
            "--env",
            "GREETING=Yo",
            "--cache-dir",
            str(cache_dir),
        ]
    )
    envelope, hash_line = capsys.readouterr().out.splitlines()
    assert code == 0
    assert json.loads(envelope)["response"]["body"] == "Yo"
    assert hash_line.startswith("resultHash 0x") and hash_line.endswith("committable=True")


def test_cli__orders_bad_body__exit_code_0_for_a_400_response(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["js", str(EXAMPLES / "orders-create.js"), "--method", "POST", "--body", "nope"]
    assert main([*args, "--cache-dir", str(cache_dir)]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["response"]["status"] == 400


ORDER = '{"customer":"a","items":[{"sku":"A","qty":1,"price_cents":5}]}'


def test_cli__json_body_without_content_type__sent_as_json(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The example of `peerhost-sandbox --help`: req.body is the parsed order, so it is priced.
    args = ["js", str(EXAMPLES / "orders-create.js"), "--method", "POST", "--body", ORDER]
    assert main([*args, "--cache-dir", str(cache_dir)]) == 0
    response = json.loads(capsys.readouterr().out.splitlines()[0])["response"]
    assert (response["status"], response["body"]["total_cents"]) == (201, 5)


def test_cli__json_body_with_explicit_text_type__left_as_text(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["js", str(EXAMPLES / "orders-create.js"), "--method", "POST", "--body", ORDER]
    args += ["--header", "Content-Type: text/plain", "--cache-dir", str(cache_dir)]
    assert main(args) == 0
    response = json.loads(capsys.readouterr().out.splitlines()[0])["response"]
    assert (response["status"], response["body"]) == (
        400,
        {"errors": ["body must be a JSON object"]},
    )


def _stripe(cache_dir: Path, *extra: str) -> list[str]:
    event = '{"id":"evt_1","type":"invoice.paid"}'
    mac = hmac.new(b"whsec_x", f"1767225590.{event}".encode(), hashlib.sha256).hexdigest()
    return [
        "js", str(EXAMPLES / "stripe-webhook.js"), "--method", "POST", "--body", event,
        "--timestamp", "1767225600", "--env", "STRIPE_WEBHOOK_SECRET=whsec_x",
        "--header", f"Stripe-Signature: t=1767225590,v1={mac}", "--cache-dir", str(cache_dir),
        *extra,
    ]  # fmt: skip


def test_cli__declared_header__reaches_the_function(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_stripe(cache_dir, "--declare", "stripe-signature")) == 0
    out = capsys.readouterr()
    response = json.loads(out.out.splitlines()[0])["response"]
    assert (response["status"], json.loads(response["body"])["received"]) == (200, True)
    assert "does not reach the function" not in out.err


def test_cli__undeclared_header__dropped_and_reported(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_stripe(cache_dir)) == 0
    out = capsys.readouterr()
    response = json.loads(out.out.splitlines()[0])["response"]
    assert response["status"] == 400  # the signature never reached it
    assert "header 'stripe-signature' does not reach the function" in out.err
    assert "--declare stripe-signature" in out.err


def test_cli__js_with_imports__bundled_and_stack_names_original_files(
    cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # users-create imports ../lib/users.js and the npm package slugify, as publishing bundles it.
    args = ["js", str(EXAMPLES / "users-create.js"), "--method", "POST"]
    good = '{"email": "Ada@Example.com", "name": "Ada Lovelace"}'
    assert main([*args, "--body", good, "--cache-dir", str(cache_dir)]) == 0
    user = json.loads(capsys.readouterr().out.splitlines()[0])["response"]["body"]
    assert (user["email"], user["handle"]) == ("ada@example.com", "ada-lovelace")
    assert main([*args, "--body", '{"email": "nope"}', "--cache-dir", str(cache_dir)]) == 1
    detail = json.loads(capsys.readouterr().out.splitlines()[0])["error"]["detail"]
    assert "(lib/users.js:" in detail and "(functions/users-create.js:" in detail


def test_cli__node_builtin_import__refused_naming_import_and_file(
    tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "functions").mkdir()
    (tmp_path / "lib").mkdir()
    entry = tmp_path / "functions" / "users.js"
    entry.write_text('import { db } from "../lib/db.js";\nexport const handler = () => db();\n')
    (tmp_path / "lib" / "db.js").write_text('import fs from "fs";\nexport const db = () => fs;\n')
    assert main(["js", str(entry), "--cache-dir", str(cache_dir)]) == 2
    out = capsys.readouterr()
    assert out.out == ""  # nothing ran
    assert "lib/db.js:1:" in out.err and "imports the Node built-in 'fs'" in out.err
