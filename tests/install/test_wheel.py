"""The built wheel works outside the checkout: installed into a fresh venv in a temporary folder
(dependencies from uv's cache, or pip's without uv, pinned by constraints.txt), it runs a JavaScript function on the
QuickJS engine it ships, and its console scripts answer ``--help``.

About half a minute with uv (a minute and more with pip) on warm caches; marked ``packaging`` (runs in CI with the rest;
``-m "not packaging"`` skips it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.packaging
def test_wheel__installed_in_fresh_venv__runs_a_function_and_the_worker_cli(tmp_path: Path):
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("peerhost-*.whl")

    env_dir = tmp_path / "venv"
    python = env_dir / "bin" / "python"
    uv = Path(sys.executable).with_name("uv")  # bin/setup installs it; pip is the fallback
    if uv.exists():  # from uv's per-user cache in seconds, where pip takes about a minute
        venv.create(env_dir, with_pip=False)
        pip = [uv, "pip", "install", "-q", "--python", python]
    else:
        venv.create(env_dir, with_pip=True)
        pip = [python, "-m", "pip", "install", "-q", "--no-compile", "--disable-pip-version-check"]
    _run(*pip, "-c", ROOT / "constraints.txt", wheel, cwd=tmp_path)

    outside = tmp_path / "elsewhere"  # no checkout in sight: only what the wheel carries
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PEERHOST_", "PYTHONPATH"))}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run(python, "-c", "import peerhost; print(peerhost.__file__)", cwd=outside, env=env)
    assert Path(where.strip()).is_relative_to(env_dir), where

    function = outside / "greet.js"
    function.write_text(
        "export default function handler(req) {\n"
        "  return { status: 200, body: { hello: req.query.name } };\n"
        "}\n"
    )
    out = _run(
        env_dir / "bin" / "peerhost-sandbox",
        "js",
        function,
        "--query",
        "name=wheel",
        "--cache-dir",
        outside / "cache",
        cwd=outside,
        env=env,
    )
    envelope = json.loads(out.splitlines()[0])
    assert envelope["ok"] and envelope["response"]["status"] == 200, out
    assert envelope["response"]["body"] == {"hello": "wheel"}
    assert "committable=True" in out

    worker_help = _run(env_dir / "bin" / "peerhost-worker", "--help", cwd=outside, env=env)
    assert "--metrics-port" in worker_help
    gateway_help = _run(env_dir / "bin" / "peerhost-gateway", "--help", cwd=outside, env=env)
    assert "--chain-config" in gateway_help
    abi = _run(
        python,
        "-c",
        "from peerhost.chain.abis import load_abi; print(len(load_abi('ExecutionCoordinator')))",
        cwd=outside,
        env=env,
    )
    assert int(abi) > 10
    typed = _run(
        python,
        "-c",
        "import peerhost, pathlib; print(pathlib.Path(peerhost.__file__).with_name('py.typed').exists())",
        cwd=outside,
        env=env,
    )
    assert typed.strip() == "True"
