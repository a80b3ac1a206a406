"""Publishing discovers functions/*.py as runtime python and checks each before storing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from peerhost.publishing.errors import InvalidCode
from peerhost.publishing.manifest import DEFAULT_FUEL, DEFAULT_MEMORY, load_project


def project(tmp_path: Path, **files: str) -> Path:
    functions = tmp_path / "shop" / "functions"
    functions.mkdir(parents=True)
    for name, text in files.items():
        (functions / name).write_text(text)
    return functions.parent


def test_load_project__py_file__python_runtime_with_its_defaults(tmp_path: Path) -> None:
    spec = load_project(project(tmp_path, **{"report.py": "def handler(req):\n    return {}\n"}))
    report = spec.function("report")
    assert (report.runtime, report.fuel, report.memory) == (
        "python",
        DEFAULT_FUEL["python"],
        DEFAULT_MEMORY["python"],
    )
    assert report.code() == b"def handler(req):\n    return {}\n"


@pytest.mark.parametrize(
    "source",
    [
        "async def handler(req):\n    return {}\n",
        "def _impl(req):\n    return {}\nhandler = _impl\n",
        "from json import loads as handler\n",
        "try:\n    import json\nexcept ImportError:\n    pass\nelse:\n    def handler(req):\n        return {}\n",
    ],
)
def test_code__handler_defined_some_way__accepted(tmp_path: Path, source: str) -> None:
    spec = load_project(project(tmp_path, **{"fn.py": source})).function("fn")
    assert spec.code() == source.encode()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def handler(req:\n    pass\n", r"fn.py: does not compile: .* \(line 1, column \d+\)"),
        ("def helper(req):\n    return {}\n", r"fn.py: defines no top-level `handler`: add `def"),
        ("def outer():\n    def handler(req):\n        pass\n", "defines no top-level `handler`"),
        ("return 1\n", "does not compile: 'return' outside function"),
    ],
)
def test_code__broken_python__refused_with_the_reason(
    tmp_path: Path, source: str, message: str
) -> None:
    spec = load_project(project(tmp_path, **{"fn.py": source})).function("fn")
    with pytest.raises(InvalidCode, match=message):
        spec.code()


def test_code__not_utf8__refused(tmp_path: Path) -> None:
    folder = project(tmp_path)
    (folder / "functions" / "fn.py").write_bytes(b"def handler(req):\n    return '\xff'\n")
    with pytest.raises(InvalidCode, match="Python source must be UTF-8"):
        load_project(folder).function("fn").code()


def test_load_project__examples_folder__report_is_python() -> None:
    examples = Path(__file__).resolve().parents[3] / "examples" / "functions"
    spec = load_project(examples).function("report")
    assert spec.runtime == "python"
    spec.code()  # passes the publish check
