"""The python runtime: user modules on the shared, snapshotted CPython runtime."""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sandbox_helpers import RunFn, sample_input

from peerhost.sandbox import Limits, Sandbox
from peerhost.sandbox.errors import PythonRuntimeMismatch, PythonRuntimeNotFound
from peerhost.sandbox.python_engine import (
    ENGINE_SHA256,
    FORBIDDEN_MODULES,
    default_engine_path,
)
from peerhost.wire import Envelope, ErrorKind

Outcome = Callable[..., Envelope]


def py(source: str) -> bytes:
    return source.encode()


def test_run__hello__returns_its_response(outcome: Outcome) -> None:
    env = outcome(py("def handler(req):\n    return {'status': 200, 'body': 'hello'}\n"), "python")
    assert (env.ok, env.status, env.body) == (True, 200, "hello")


def test_run__json_in_and_out__sums_the_numbers(outcome: Outcome) -> None:
    source = (
        "import json\n"
        "def handler(req):\n"
        "    data = json.loads(req['body'] or '{}')\n"
        "    return {'status': 201, 'headers': {'X-Kind': 'sum'},\n"
        "            'body': {'sum': sum(data['xs']), 'method': req['method']}}\n"
    )
    env = outcome(py(source), "python", input=sample_input(b'{"xs": [1, 2, 39]}'))
    assert (env.status, env.headers, env.body) == (
        201,
        {"x-kind": "sum"},
        {"sum": 42, "method": "POST"},
    )


def test_run__async_handler__awaits_helpers(outcome: Outcome) -> None:
    source = (
        "async def double(x):\n    return 2 * x\n"
        "async def handler(req):\n    return {'status': 200, 'body': await double(21)}\n"
    )
    assert outcome(py(source), "python").body == 42


def test_run__handler_raises__python_error_with_type_and_message(outcome: Outcome) -> None:
    env = outcome(py("def handler(req):\n    raise ValueError('bad order')\n"), "python")
    assert (env.error_kind, env.error_detail) == (ErrorKind.PYTHON_ERROR, "ValueError: bad order")


def test_run__handler_raises__same_envelope_and_traceback_in_log(run: RunFn) -> None:
    code = py("def handler(req):\n    return {'status': 200, 'body': 1 / 0}\n")
    first, again = run(code, "python"), run(code, "python")
    assert first.envelope == again.envelope
    assert first.decoded.error_detail == "ZeroDivisionError: division by zero"
    assert b'File "function.py", line 2, in handler' in first.logs


def test_run__syntax_error__python_error(outcome: Outcome) -> None:
    env = outcome(py("def handler(req:\n    pass\n"), "python")
    assert env.error_kind is ErrorKind.PYTHON_ERROR
    assert env.error_detail.startswith("SyntaxError")


def test_run__no_handler__python_error(outcome: Outcome) -> None:
    env = outcome(py("x = 1\n"), "python")
    assert (env.error_kind, env.error_detail) == (
        ErrorKind.PYTHON_ERROR,
        "the module defines no handler(req) function",
    )


@pytest.mark.parametrize(
    ("module", "reason"),
    [
        ("socket", "there is no network"),
        ("subprocess", "there are no processes"),
        ("threading", "there are no threads"),
        ("asyncio", "there is no event loop"),
    ],
)
def test_run__forbidden_import__clear_python_error(
    outcome: Outcome, module: str, reason: str
) -> None:
    env = outcome(py(f"import {module}\ndef handler(req):\n    return {{}}\n"), "python")
    assert env.error_kind is ErrorKind.PYTHON_ERROR
    assert env.error_detail.startswith(
        f"ImportError: module '{module}' is not available in PeerHost functions: {reason}"
    )


@pytest.mark.parametrize(
    ("call", "module"),
    [
        ("importlib.import_module('socket')", "socket"),
        ("__import__('socket')", "socket"),
        ("importlib.__import__('subprocess')", "subprocess"),
        ("importlib.import_module('threading')", "threading"),  # loaded in the snapshot
        ("importlib.import_module('concurrent.futures')", "concurrent"),
        ("importlib.util.find_spec('asyncio')", "asyncio"),
        ("importlib._bootstrap._gcd_import('selectors')", "selectors"),
    ],
)
def test_run__forbidden_import_by_another_path__same_clear_error(
    outcome: Outcome, call: str, module: str
) -> None:
    source = (
        f"import importlib, importlib.util\ndef handler(req):\n    return {{'m': repr({call})}}\n"
    )
    env = outcome(py(source), "python")
    assert env.error_kind is ErrorKind.PYTHON_ERROR
    assert env.error_detail.startswith(
        f"ImportError: module '{module}' is not available in PeerHost functions: "
    )


def test_run__standard_module_using_a_forbidden_one__still_imports(outcome: Outcome) -> None:
    source = (
        "import importlib\n"
        "def handler(req):\n"
        "    client = importlib.import_module('http.client')\n"  # imports socket itself
        "    import queue  # imports threading itself\n"
        "    try:\n"
        "        __import__('socket')\n"
        "    except ImportError as exc:\n"
        "        return {'body': [client.__name__, queue.__name__, str(exc)]}\n"
    )
    env = outcome(py(source), "python")
    assert env.body == [
        "http.client",
        "queue",
        "module 'socket' is not available in PeerHost functions: there is no network",
    ]


def test_harness__forbidden_modules__same_list_as_the_publish_check() -> None:
    harness = Path(__file__).resolve().parents[3] / "tools" / "python" / "harness.py"
    tree = ast.parse(harness.read_text())
    assigned = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "FORBIDDEN" for t in node.targets)
    )
    assert ast.literal_eval(assigned) == dict(FORBIDDEN_MODULES)


def test_run__infinite_loop__out_of_fuel(outcome: Outcome) -> None:
    env = outcome(
        py("def handler(req):\n    while True:\n        pass\n"),
        "python",
        limits=Limits(fuel=50_000_000),
    )
    assert (env.error_kind, env.fuel_used) == (ErrorKind.OUT_OF_FUEL, 50_000_000)


def test_run__memory_bomb__memory_limit(outcome: Outcome) -> None:
    source = (
        "def handler(req):\n    hoard = []\n    while True:\n        hoard.append('x' * 100_000)\n"
    )
    env = outcome(py(source), "python", limits=Limits(fuel=10**10, memory_bytes=32 * 2**20))
    assert env.error_kind is ErrorKind.MEMORY_LIMIT


def test_run__memory_cap_below_the_snapshot__memory_limit(outcome: Outcome) -> None:
    env = outcome(
        py("def handler(req):\n    return {}\n"), "python", limits=Limits(memory_bytes=2**20)
    )
    assert env.error_kind is ErrorKind.MEMORY_LIMIT


def test_run__unicode__round_trips(outcome: Outcome) -> None:
    text = "naïve café — 東京 🚀 ∑"
    source = (
        "import json\n"
        "def handler(req):\n"
        "    text = json.loads(req['body'])['text']\n"
        "    return {'status': 200, 'body': {'text': text, 'upper': text.upper(), 'len': len(text)}}\n"
    )
    body = json.dumps({"text": text}, ensure_ascii=False).encode()
    env = outcome(py(source), "python", input=sample_input(body))
    assert env.body == {"text": text, "upper": text.upper(), "len": len(text)}


def test_run__clock_and_random__from_the_ticket(run: RunFn) -> None:
    source = (
        "import datetime, os, random, secrets, time, uuid\n"
        "def handler(req):\n"
        "    return {'status': 200, 'body': {\n"
        "        'time': time.time(), 'now': datetime.datetime.now(datetime.UTC).isoformat(),\n"
        "        'random': random.random(), 'urandom': os.urandom(8).hex(),\n"
        "        'token': secrets.token_hex(8), 'uuid': str(uuid.uuid4()), 'hash': hash('abc')}}\n"
    )
    first = run(py(source), "python", request_id=b"\x01" * 32, block_timestamp=1_700_000_000)
    again = run(py(source), "python", request_id=b"\x01" * 32, block_timestamp=1_700_000_000)
    other = run(py(source), "python", request_id=b"\x02" * 32, block_timestamp=1_700_000_000)
    body, other_body = first.decoded.body, other.decoded.body
    assert first.envelope == again.envelope
    assert (body["time"], body["now"]) == (1_700_000_000.0, "2023-11-14T22:13:20+00:00")
    for key in ("random", "urandom", "token", "uuid"):
        assert body[key] != other_body[key], key
    assert body["hash"] == other_body["hash"]  # PYTHONHASHSEED is fixed


def test_run__secrets_and_log__environ_in_stderr_out(run: RunFn) -> None:
    source = (
        "import os, sys\n"
        "def handler(req):\n"
        "    print('plain print')\n"
        "    print('to stderr', file=sys.stderr)\n"
        "    return {'status': 200, 'body': {'key': os.environ.get('API_KEY'), 'n': len(os.environ)}}\n"
    )
    result = run(py(source), "python", env={"API_KEY": "k-123"})
    assert result.decoded.body == {"key": "k-123", "n": 1}
    assert result.logs == b"plain print\nto stderr\n"


def test_run__files__read_only_stdlib_and_nothing_else(run: RunFn) -> None:
    source = (
        "import os\n"
        "def attempt(fn):\n"
        "    try:\n        return fn()\n"
        "    except OSError as exc:\n        return type(exc).__name__\n"
        "def append():\n"
        "    with open(os.__file__, 'a') as f:\n        f.write('# changed')\n"
        "    return os.path.getsize(os.__file__)\n"
        "def handler(req):\n"
        "    return {'status': 200, 'body': {\n"
        "        'write_tmp': attempt(lambda: open('/tmp/x', 'w') and 'allowed'),\n"
        "        'read_etc': attempt(lambda: open('/etc/passwd').read()),\n"
        "        'listdir_root': attempt(lambda: sorted(os.listdir('/'))),\n"
        "        'stdlib_size': os.path.getsize(os.__file__),\n"
        "        'after_append': attempt(append),\n"
        "    }}\n"
    )
    first, again = run(py(source), "python"), run(py(source), "python")
    body = first.decoded.body
    assert (body["write_tmp"], body["read_etc"]) == ("FileNotFoundError", "FileNotFoundError")
    assert body["listdir_root"] == "FileNotFoundError"
    assert body["after_append"] == "OSError"  # the embedded stdlib is read-only
    assert again.decoded.body["stdlib_size"] == body["stdlib_size"]  # the next run starts afresh


def test_run__bytes_body__base64_in_envelope(outcome: Outcome) -> None:
    env = outcome(
        py("def handler(req):\n    return {'status': 200, 'body': b'\\x00\\xff'}\n"), "python"
    )
    assert (env.body, env.body_encoding) == ("AP8=", "base64")


def test_run__nan_in_response__python_error(outcome: Outcome) -> None:
    env = outcome(
        py("def handler(req):\n    return {'status': 200, 'body': float('nan')}\n"), "python"
    )
    assert env.error_kind is ErrorKind.PYTHON_ERROR
    assert env.error_detail.startswith("ValueError: Out of range float values")


def test_runtime__built__matches_pinned_sha256() -> None:
    assert hashlib.sha256(default_engine_path().read_bytes()).hexdigest() == ENGINE_SHA256


def test_runtime__missing__clear_error(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, python_runtime=tmp_path / "nope.wasm")
    with pytest.raises(PythonRuntimeNotFound, match="tools/python/build.sh"):
        sandbox.warm("python")
    sandbox.close()


def test_runtime__tampered__refused(tmp_path: Path) -> None:
    fake = tmp_path / "python.wasm"
    fake.write_bytes(b"\0asm\x01\0\0\0")
    sandbox = Sandbox(tmp_path, python_runtime=fake)
    with pytest.raises(PythonRuntimeMismatch, match="--force"):
        sandbox.warm("python")
    sandbox.close()
