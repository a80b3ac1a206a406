"""Publishing a functions folder: live URLs, idempotency, new versions only for changed code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from e2e_http_stack import Stack, wait_until

from peerhost.publishing import (
    DuplicateFunctionName,
    InvalidFunctionName,
    InvalidProjectFile,
    Publisher,
    load_project,
)
from peerhost.storage import open_store

GREETER = 'export async function handler(req) {{ return {{ status: 200, body: "{text}" }}; }}\n'


def write_project(root: Path, files: dict[str, str], manifest: str | None = None) -> Path:
    functions = root / "functions"
    functions.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (functions / name).write_text(text)
    if manifest is not None:
        (root / "project.json").write_text(manifest)
    return root


def publisher(stack: Stack) -> Publisher:
    return Publisher(
        stack.deployment.registry,
        stack.developer,
        open_store(stack.devnet.store_spec),
        stack.gateway_url,
    )


def test_publish__new_then_unchanged_then_changed__only_changed_code_gets_a_version(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = write_project(
        tmp_path / "greeters",
        {"en.js": GREETER.format(text="hello"), "fr.js": GREETER.format(text="bonjour")},
        '{"project": "greeters", "functions": {"fr": {"mode": "verified"}}}',
    )
    with stack.ape():
        first = publisher(stack).publish(load_project(folder))
    assert [(f.name, f.action, f.version, f.mode) for f in first.functions] == [
        ("en", "published", 1, "fast"),
        ("fr", "published", 1, "verified"),
    ]
    assert http.get(first.urls()["en"]).text == "hello"
    fr = http.get(first.urls()["fr"])
    assert (fr.text, fr.headers["x-peerhost-mode"]) == ("bonjour", "verified")

    with stack.ape():
        sent = stack.developer.nonce  # not the chain's height: the workers send their own
        again = publisher(stack).publish(load_project(folder))
        assert stack.developer.nonce == sent  # nothing sent
    assert {f.action for f in again.functions} == {"unchanged"}

    (folder / "functions" / "en.js").write_text(GREETER.format(text="hi there"))
    with stack.ape():
        changed = publisher(stack).publish(load_project(folder))
    assert [(f.name, f.action, f.version) for f in changed.functions] == [
        ("en", "updated", 2),
        ("fr", "unchanged", 1),
    ]
    wait_until(lambda: http.get(changed.urls()["en"]).text == "hi there", timeout=60)


def test_load_project__invalid_name__refused_with_the_rule(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", {"Bad Name!.js": GREETER.format(text="x")})
    with pytest.raises(InvalidFunctionName, match=r"1-64 characters of a-z, 0-9, '_' and '-'"):
        load_project(folder)


def test_load_project__colliding_names__refused(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "p", {"Hello.js": GREETER.format(text="a"), "hello.js": GREETER.format(text="b")}
    )
    with pytest.raises(DuplicateFunctionName, match="exactly one file"):
        load_project(folder)


def test_load_project__settings_for_a_missing_file__refused(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "p", {"a.js": GREETER.format(text="a")}, '{"functions": {"b": {"fuel": 5}}}'
    )
    with pytest.raises(InvalidProjectFile, match="no such file"):
        load_project(folder)


def test_ape_run_publish__against_the_stack__prints_live_urls(
    stack: Stack, http: httpx.Client, tmp_path: Path
) -> None:
    folder = write_project(tmp_path / "cli-demo", {"hi.js": GREETER.format(text="from the cli")})
    env = {
        **os.environ,
        "APE_FOUNDRY_HOST": stack.devnet.rpc_url,
        "PEERHOST_DEVNET_DIR": str(stack.devnet.state_dir),
    }
    ape = str(Path(sys.executable).with_name("ape"))
    result = subprocess.run(
        [ape, "run", "publish", str(folder), "--account", "TEST::1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    url = f"{stack.gateway_url}/{stack.owner}/cli-demo/hi"
    assert f"-> {url}" in result.stdout
    assert http.get(url).text == "from the cli"


def test_load_project__wat_and_sizes__compiled_and_parsed(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "p",
        {"tiny.wat": '(module (func (export "_start")))', "README.md": "not a function"},
        '{"project": "tiny", "memory": "2MiB", "functions": {"tiny": {"fuel": 1000}}}',
    )
    spec = load_project(folder)
    (tiny,) = spec.functions
    assert (spec.name, tiny.runtime, tiny.fuel, tiny.memory) == ("tiny", "wasi", 1000, 2 * 2**20)
    assert tiny.code().startswith(b"\0asm")
    assert [p.name for p in spec.ignored] == ["README.md"]
