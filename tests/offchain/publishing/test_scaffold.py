"""``init``: a template becomes a project that loads, passes the publish checks and its own test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from peerhost.publishing import load_project
from peerhost.publishing.checks import Checker
from peerhost.scaffold import ScaffoldError, init_project, templates
from peerhost.scaffold.testing import run_local


def test_templates__listed__every_shape_and_runtime() -> None:
    assert templates() == ["c", "express", "fetch", "js", "python"]


@pytest.fixture(scope="module")
def checker(compiled_modules: Path) -> Iterator[Checker]:
    """One local sandbox over the session's compiled runtimes."""
    checker = Checker(compiled_modules)
    yield checker
    checker.close()


@pytest.mark.parametrize("template", ["c", "express", "fetch", "js", "python"])
def test_init__template__project_loads_passes_checks_and_runs(
    checker: Checker, tmp_path: Path, template: str
) -> None:
    folder = tmp_path / "my-api"
    written = init_project(folder, template)
    assert folder / "project.json" in written and folder / "README.md" in written
    readme = (folder / "README.md").read_text()
    # Its commands run where `ape run init` ran (`ape run` finds no command inside the folder).
    assert f"ape run publish {folder} --check" in readme and f"pytest {folder}/tests" in readme
    assert "{{" not in readme and "cd " not in readme
    # Every template's tests are sandbox tests: the Ape plugin (and the node it starts) stays off.
    assert "addopts = -p no:ape_test" in (folder / "pytest.ini").read_text()
    project = load_project(folder)
    assert project.name == "my-api" and [f.name for f in project.functions] == ["hello"]
    [run] = checker.check_project(project, sample=True)
    assert run.status == 200
    answer = run_local(folder, "hello", "GET", "/", query={"name": "ada"})
    assert answer.status == 200 and answer.log
    if template != "c":  # the same answer in every js shape and in Python
        assert answer.json() == {"hello": "ada", "method": "GET", "path": "/"}
        assert answer.log == "greeting ada\n"


def test_init__folder_not_empty__refused_and_nothing_written(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="not empty"):
        init_project(tmp_path, "js", project="ok")
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_init__bad_project_name__refused_with_the_rule(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="not a valid project name"):
        init_project(tmp_path / "My_API", "js")


def test_init__unknown_template__refused_listing_templates(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="templates: "):
        init_project(tmp_path / "x", "cobol")
