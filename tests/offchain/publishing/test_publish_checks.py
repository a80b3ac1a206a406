"""Checks at publish: each rule refuses its file by name, on the real local sandbox, before
anything reaches the store."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from peerhost.publishing import Publisher, load_project
from peerhost.publishing.checks import Checker, CheckFailed
from peerhost.publishing.errors import InvalidProjectFile
from peerhost.storage import open_store

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "functions"
GOOD_PY = "def handler(req):\n    return {'status': 200}\n"
GOOD_JS = 'export async function handler(req) { console.log("hi"); return { status: 201, body: "ok" }; }\n'


@pytest.fixture(scope="module")
def checker(compiled_modules: Path) -> Iterator[Checker]:
    """One local sandbox over the session's compiled runtimes."""
    checker = Checker(compiled_modules)
    yield checker
    checker.close()


def _project(root: Path, files: dict[str, str | bytes], manifest: dict | None = None) -> Path:  # type: ignore[type-arg]
    (root / "functions").mkdir(parents=True)
    for name, content in files.items():
        path = root / "functions" / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    (root / "project.json").write_text(json.dumps({"project": "checks", **(manifest or {})}))
    return root


WAT_FORBIDDEN = (
    '(module (import "env" "socket" (func)) (func (export "_start")) (memory (export "memory") 1))'
)
WAT_NO_START = '(module (func (export "main")) (memory (export "memory") 1))'
WAT_BIG_MEMORY = '(module (func (export "_start")) (memory (export "memory") 1024))'
WAT_TRAPS = '(module (func (export "_start") unreachable) (memory (export "memory") 1))'


@pytest.mark.parametrize(
    ("files", "rule", "culprit"),
    [
        ({"cut.wasm": (EXAMPLES / "hello.wasm").read_bytes()[:200]}, "valid-wasm", "cut.wasm"),
        ({"net.wat": WAT_FORBIDDEN}, "import-policy", "net.wat"),
        ({"nostart.wat": WAT_NO_START}, "entrypoint", "nostart.wat"),
        ({"big.wat": WAT_BIG_MEMORY}, "memory-limit", "big.wat"),
        ({"broken.js": "export function handler(req {\n"}, "js-compiles", "broken.js"),
        (
            {"boom.js": 'throw new Error("at load");\nexport function handler() {}\n'},
            "js-compiles",
            "boom.js",
        ),
        ({"nohandler.js": "export const answer = 42;\n"}, "js-handler-export", "nohandler.js"),
        (
            {"files.js": 'import fs from "fs";\nexport default () => fs;\n'},
            "js-imports",
            "files.js",
        ),
        (
            {"lost.js": 'import x from "../lib/nowhere.js";\nexport default () => x;\n'},
            "js-imports",
            "lost.js",
        ),
        ({"bad.js": b"export const s = '\xff';\n"}, "js-compiles", "bad.js"),
        ({"broken.py": "def handler(req:\n"}, "python-compiles", "broken.py"),
        ({"bad.py": b"def handler(req):\n    return '\xff'\n"}, "python-compiles", "bad.py"),
        ({"nohandler.py": "def helper(req):\n    return {}\n"}, "python-handler", "nohandler.py"),
        ({"net.py": "import socket\n" + GOOD_PY}, "python-imports", "net.py"),
        ({"procs.py": "import os, subprocess as sp\n" + GOOD_PY}, "python-imports", "procs.py"),
        (
            {"pool.py": GOOD_PY + "    from concurrent.futures import ThreadPoolExecutor\n"},
            "python-imports",
            "pool.py",
        ),
        (
            {"loop.py": "from asyncio.subprocess import PIPE\n" + GOOD_PY},
            "python-imports",
            "loop.py",
        ),
        ({"native.py": "import ctypes\n" + GOOD_PY}, "python-imports", "native.py"),
    ],
)
def test_check__breaks_a_rule__refused_naming_file_and_rule(
    checker: Checker, tmp_path: Path, files: dict[str, str | bytes], rule: str, culprit: str
) -> None:
    project = load_project(_project(tmp_path / "p", {"ok.js": GOOD_JS, **files}))
    with pytest.raises(CheckFailed) as refused:
        checker.check_project(project)
    assert refused.value.rule == rule
    assert str(refused.value).startswith(f"{culprit}: refused ({rule})")


def test_check__forbidden_import__refusal_names_line_module_and_remedy(
    checker: Checker, tmp_path: Path
) -> None:
    source = "import json\n\ndef handler(req):\n    import threading\n    return {}\n"
    project = load_project(_project(tmp_path / "p", {"threads.py": source}))
    with pytest.raises(CheckFailed) as refused:
        checker.check_project(project)
    assert str(refused.value) == (
        "threads.py: refused (python-imports): line 4 imports `threading`, which PeerHost "
        "functions cannot use (there are no threads; the runtime refuses it with ImportError): "
        "do the work sequentially in the handler. Nothing was published."
    )


@pytest.mark.parametrize(
    "source",
    [
        '"""Does not import socket."""\n# import subprocess\n'
        "def handler(req):\n    return {'body': 'import threading; from asyncio import run'}\n",
        "try:\n    import threading\nexcept ImportError:\n    threading = None\n" + GOOD_PY,
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import socket\n" + GOOD_PY,
        "import socketserver_like as s, os.path\nfrom . import x\n" + GOOD_PY,
    ],
    ids=["string-and-comment", "optional-import", "type-checking", "similar-names"],
)
def test_check__forbidden_name_not_imported__passes(
    checker: Checker, tmp_path: Path, source: str
) -> None:
    assert checker.check_project(load_project(_project(tmp_path / "p", {"f.py": source}))) == []


def test_check__good_functions__pass_without_running_sample(
    checker: Checker, tmp_path: Path
) -> None:
    folder = _project(tmp_path / "p", {"ok.js": GOOD_JS})
    shutil.copy(EXAMPLES / "hello.wasm", folder / "functions" / "hello.wasm")
    assert checker.check_project(load_project(folder)) == []


FETCH_JS = (
    "export default { async fetch(request, env) {\n"
    "  return Response.json({ path: new URL(request.url).pathname }, { status: 202 });\n} };\n"
)
EXPRESS_JS = "export default (req, res) => { res.status(203).json({ method: req.method }); };\n"
IMPORTING_JS = (
    'import { greet } from "../lib/greet.js";\n'
    "export async function handler(req) { return { greeting: greet(req.path) }; }\n"
)


@pytest.mark.parametrize(
    ("files", "status"),
    [
        ({"shape.js": FETCH_JS}, 202),
        ({"shape.js": EXPRESS_JS}, 203),
        ({"shape.js": IMPORTING_JS}, 200),
    ],
    ids=["fetch", "express", "bundled-import"],
)
def test_check_sample__handler_shapes_and_bundles__pass(
    checker: Checker, tmp_path: Path, files: dict[str, str], status: int
) -> None:
    folder = _project(tmp_path / "p", files)
    (folder / "lib").mkdir()
    (folder / "lib" / "greet.js").write_text('export const greet = (p) => "hello " + p;\n')
    runs = checker.check_project(load_project(folder), sample=True)
    assert [(r.name, r.status) for r in runs] == [("shape", status)]


def test_check__no_shape__refusal_lists_the_shapes(checker: Checker, tmp_path: Path) -> None:
    project = load_project(_project(tmp_path / "p", {"none.js": "export default 42;\n"}))
    with pytest.raises(CheckFailed, match="js-handler-export") as refused:
        checker.check_project(project)
    assert "fetch(request, env, ctx)" in str(refused.value)
    assert "(req, res)" in str(refused.value)


def test_check_sample__good_functions__status_and_log_reported(
    checker: Checker, tmp_path: Path
) -> None:
    folder = _project(tmp_path / "p", {"ok.js": GOOD_JS})
    shutil.copy(EXAMPLES / "hello.wasm", folder / "functions" / "hello.wasm")
    runs = {r.name: r for r in checker.check_project(load_project(folder), sample=True)}
    assert (runs["ok"].status, runs["ok"].log) == (201, "hi\n")
    assert runs["hello"].status == 200 and "hello: answering" in runs["hello"].log


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        ({"traps.wat": WAT_TRAPS}, "trap"),
        (
            {
                "throws.js": 'export function handler() { console.log("before"); throw new Error("nope"); }\n'
            },
            "js_error",
        ),
        ({"spins.js": "export function handler() { for (;;) {} }\n"}, "out_of_fuel"),
    ],
)
def test_check_sample__run_fails__refused_with_its_kind(
    checker: Checker, tmp_path: Path, files: dict[str, str], kind: str
) -> None:
    manifest = {"fuel": 20_000_000}
    project = load_project(_project(tmp_path / "p", files, manifest))
    checker.check_project(project)  # the static checks pass
    with pytest.raises(CheckFailed, match=f"sample-run.*{kind}") as refused:
        checker.check_project(project, sample=True)
    assert refused.value.path.name == next(iter(files))


def test_publish__check_fails__nothing_stored_or_sent(checker: Checker, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    folder = _project(tmp_path / "p", {"ok.js": GOOD_JS, "nohandler.js": "export const a = 1;\n"})
    # No registry and no account: a publish that got past the checks would fail on them.
    publisher = Publisher(None, None, open_store(f"local:{store_dir}"), checker=checker)
    with pytest.raises(CheckFailed, match="nohandler.js"):
        publisher.publish(load_project(folder))
    assert not store_dir.exists() or not any(p.is_file() for p in store_dir.rglob("*"))


def test_load_project__bad_cors_origin__refused_naming_project_json(tmp_path: Path) -> None:
    folder = _project(tmp_path / "p", {"ok.js": GOOD_JS}, {"cors": {"origins": ["app.example/x"]}})
    with pytest.raises(InvalidProjectFile, match="project.json.*not an origin"):
        load_project(folder)


def test_load_project__cors__parsed_with_defaults(tmp_path: Path) -> None:
    folder = _project(
        tmp_path / "p", {"ok.js": GOOD_JS}, {"cors": {"origins": ["https://a.example"]}}
    )
    cors = load_project(folder).cors
    assert cors is not None and cors.methods == ("GET", "POST") and cors.max_age == 600
