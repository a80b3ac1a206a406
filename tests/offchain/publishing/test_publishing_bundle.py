"""Bundling js functions at publish time: local modules and npm packages in, Node built-ins
refused with the import and the file, stack traces mapped back to the original files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from peerhost.jsbundle import BundleFailed, bundle_js
from peerhost.publishing import load_project
from peerhost.sandbox import Limits, RunRequest, Sandbox
from peerhost.wire import canonical_request

REPO = Path(__file__).resolve().parents[3]
RID = bytes.fromhex("cd" * 32)


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # npm packages come from the nearest node_modules: the project's own, here the repo's.
    (tmp_path / "node_modules").symlink_to(REPO / "node_modules")
    return tmp_path


def run(code: bytes, body: dict[str, object], cache: Path) -> tuple[int, dict[str, str], bytes]:
    data = canonical_request(
        "POST", "/", {}, {"content-type": "application/json"}, json.dumps(body).encode(),
        request_id=RID, block_timestamp=1_767_225_600, wallet="0x" + "00" * 20,
        project="p", function="f",
    )  # fmt: skip
    sandbox = Sandbox(cache_dir=cache, compile_in_subprocess=False)
    result = sandbox.run(
        RunRequest(runtime="js", code=code, code_id="t", input=data, request_id=RID,
                   block_timestamp=1_767_225_600, limits=Limits())
    )  # fmt: skip
    return result.decoded.to_http()


LIB = """export function greet(name) {
  if (!name) throw new Error("no name given");
  return `Hello, ${name}!`;
}
"""
FUNCTION = """import slugify from "slugify";
import { greet } from "../lib/greet.js";

export async function handler(req) {
  return { greeting: greet(req.body.name), slug: slugify(req.body.name ?? "", { lower: true }) };
}
"""


def test_bundle__local_module_and_npm_package__one_module_that_runs(
    tmp_path: Path, compiled_modules: Path
) -> None:
    root = project(tmp_path / "p", {"functions/hi.js": FUNCTION, "lib/greet.js": LIB})
    code = bundle_js(root / "functions" / "hi.js", root)
    assert b"import " not in code.split(b"//# sourceMappingURL=")[0]
    status, _, body = run(code, {"name": "Ada Love"}, compiled_modules)
    assert (status, json.loads(body)) == (200, {"greeting": "Hello, Ada Love!", "slug": "ada-love"})


def test_bundle__same_files__same_bytes(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"functions/hi.js": FUNCTION, "lib/greet.js": LIB})
    assert bundle_js(root / "functions/hi.js", root) == bundle_js(root / "functions/hi.js", root)


def test_bundle__error_in_a_module__stack_names_original_files_and_lines(
    tmp_path: Path, compiled_modules: Path
) -> None:
    root = project(tmp_path / "p", {"functions/hi.js": FUNCTION, "lib/greet.js": LIB})
    status, _, body = run(bundle_js(root / "functions/hi.js", root), {}, compiled_modules)
    detail = json.loads(body)["detail"]
    assert status == 502
    assert detail.splitlines()[:3] == [
        "Error: no name given",
        "    at greet (lib/greet.js:2:24)",
        "    at handler (functions/hi.js:5:28)",
    ]


@pytest.mark.parametrize(
    ("statement", "name"),
    [
        ('import { readFileSync } from "fs";', "fs"),
        ('import net from "node:net";', "node:net"),
        ('import { exec } from "child_process";', "child_process"),
    ],
)
def test_bundle__node_builtin_import__refused_naming_import_and_file(
    tmp_path: Path, statement: str, name: str
) -> None:
    root = project(
        tmp_path / "p", {"functions/bad.js": f"{statement}\nexport const handler = () => 1;\n"}
    )
    with pytest.raises(BundleFailed) as refused:
        bundle_js(root / "functions/bad.js", root)
    message = str(refused.value)
    assert f"imports the Node built-in '{name}'" in message
    assert "functions/bad.js:1:" in message


def test_bundle__builtin_deep_in_a_local_module__names_that_module(tmp_path: Path) -> None:
    files = {
        "functions/f.js": 'import { db } from "../lib/db.js";\nexport const handler = () => db();\n',
        "lib/db.js": 'import net from "net";\nexport const db = () => net;\n',
    }
    root = project(tmp_path / "p", files)
    with pytest.raises(BundleFailed, match=r"lib/db\.js:1:.*Node built-in 'net'"):
        bundle_js(root / "functions/f.js", root)


def test_bundle__missing_package__refused_with_esbuild_reason(tmp_path: Path) -> None:
    root = project(
        tmp_path / "p", {"functions/f.js": 'import x from "no-such-pkg-zz";\nexport default x;\n'}
    )
    with pytest.raises(BundleFailed, match="no-such-pkg-zz"):
        bundle_js(root / "functions/f.js", root)


def test_load_project__js_function__code_is_the_bundle(tmp_path: Path) -> None:
    root = project(tmp_path / "p", {"functions/hi.js": FUNCTION, "lib/greet.js": LIB})
    spec = load_project(root).function("hi")
    assert spec.code() == bundle_js(root / "functions/hi.js", root)


def test_example_users_create__bundled__answers_the_founding_model(
    tmp_path: Path, compiled_modules: Path
) -> None:
    spec = load_project(REPO / "examples" / "functions").function("users-create")
    status, headers, body = run(
        spec.code(), {"email": " Ada@Example.com ", "name": "Ada Lovelace"}, compiled_modules
    )
    user = json.loads(body)
    assert (status, headers["content-type"]) == (200, "application/json")
    assert (user["email"], user["handle"], user["id"]) == (
        "ada@example.com", "ada-lovelace", "u_" + hashlib.sha256(b"ada@example.com").hexdigest()[:12],
    )  # fmt: skip


def test_bundle__logged_error__stack_in_the_log_names_original_files(
    tmp_path: Path, compiled_modules: Path
) -> None:
    caught = FUNCTION.replace(
        "return { greeting",
        "try { greet(''); } catch (e) { console.error('failed:', e); }\n  return { greeting",
    )
    root = project(tmp_path / "p", {"functions/hi.js": caught, "lib/greet.js": LIB})
    data = canonical_request(
        "POST", "/", {}, {"content-type": "application/json"}, b'{"name":"x"}',
        request_id=RID, block_timestamp=1_767_225_600, wallet="0x" + "00" * 20,
        project="p", function="f",
    )  # fmt: skip
    sandbox = Sandbox(cache_dir=compiled_modules, compile_in_subprocess=False)
    result = sandbox.run(
        RunRequest(runtime="js", code=bundle_js(root / "functions/hi.js", root), code_id="t",
                   input=data, request_id=RID, block_timestamp=1_767_225_600, limits=Limits())
    )  # fmt: skip
    assert result.logs.decode().splitlines()[:2] == [
        "failed: Error: no name given",
        "    at greet (lib/greet.js:2:24)",
    ]


def test_function_code__refused_import__publishing_error_with_the_bundlers_message(
    tmp_path: Path,
) -> None:
    from peerhost.publishing.errors import BundleFailed as PublishingBundleFailed
    from peerhost.publishing.errors import PublishError

    root = project(
        tmp_path / "p", {"functions/bad.js": 'import fs from "fs";\nexport default fs;\n'}
    )
    with pytest.raises(BundleFailed) as direct:
        bundle_js(root / "functions/bad.js", root)
    with pytest.raises(PublishingBundleFailed) as published:
        load_project(root).function("bad").code()
    assert isinstance(published.value, PublishError)
    assert str(published.value) == str(direct.value)
    assert published.value.problems == direct.value.problems
