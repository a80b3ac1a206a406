"""Publishing clf functions: project.json selects the runtime, the source is published as
written, and the clf-compiles check refuses what the runtime cannot run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from peerhost.publishing import load_project
from peerhost.publishing.checks import Checker, CheckFailed
from peerhost.wire import declarations

GOOD = "const n = BigInt(args[0]);\nreturn Functions.encodeUint256(n * 2n);\n"


@pytest.fixture(scope="module")
def checker(compiled_modules: Path) -> Iterator[Checker]:
    checker = Checker(compiled_modules)
    yield checker
    checker.close()


def _project(root: Path, source: str, settings: dict | None = None) -> Path:  # type: ignore[type-arg]
    (root / "functions").mkdir(parents=True)
    (root / "functions" / "double.js").write_text(source)
    manifest = {"project": "clf", "functions": {"double": {"runtime": "clf", **(settings or {})}}}
    (root / "project.json").write_text(json.dumps(manifest))
    return root


def test_load_project__runtime_clf__source_published_as_written(tmp_path: Path) -> None:
    spec = load_project(_project(tmp_path, GOOD)).function("double")
    assert spec.runtime == "clf"
    assert spec.code() == GOOD.encode()


def test_load_project__clf_with_declared_headers__declaration_is_the_last_line(
    tmp_path: Path,
) -> None:
    spec = load_project(_project(tmp_path, GOOD, {"headers": ["x-trace"]})).function("double")
    code = spec.code()
    assert code.startswith(GOOD.encode())
    assert declarations.read(code).headers == ("x-trace",)


def test_check__good_clf_source__passes_and_sample_runs(tmp_path: Path, checker: Checker) -> None:
    project = load_project(_project(tmp_path, "return Functions.encodeString('ok');\n"))
    [sample] = checker.check_project(project, sample=True)
    assert sample.status == 200


def test_check__clf_syntax_error__refused_naming_the_rule(tmp_path: Path, checker: Checker) -> None:
    project = load_project(_project(tmp_path, "const = 1;\nreturn x;\n"))
    with pytest.raises(CheckFailed, match=r"clf-compiles.*SyntaxError"):
        checker.check_project(project)


def test_check__clf_static_import__refused_with_what_to_do(
    tmp_path: Path, checker: Checker
) -> None:
    source = 'import { ethers } from "npm:ethers";\nreturn Functions.encodeString("x");\n'
    project = load_project(_project(tmp_path, source))
    with pytest.raises(CheckFailed, match=r"line 1 is an import or export statement.*js function"):
        checker.check_project(project)


def test_check__clf_source_never_runs_at_check(tmp_path: Path, checker: Checker) -> None:
    # Compiling the source must not execute it (a clf body may call makeHttpRequest at once).
    project = load_project(_project(tmp_path, "throw new Error('ran at check');\n"))
    checker.check_project(project)
