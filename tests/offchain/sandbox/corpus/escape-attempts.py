# Looks for ambient authority: files, environment, network, processes, native code.
import importlib
import os
import sys


def attempt(fn):
    try:
        return repr(fn())[:80]
    except BaseException as exc:
        return type(exc).__name__


def handler(req):
    seen = {
        "environ": dict(os.environ),
        "argv": sys.argv,
        "platform": sys.platform,
        "cwd": attempt(os.getcwd),
        "listdir_root": attempt(lambda: os.listdir("/")),
        "etc_passwd": attempt(lambda: open("/etc/passwd").read()),  # noqa: SIM115
        "write_tmp": attempt(lambda: open("/tmp/x", "w")),  # noqa: SIM115
        "importlib_socket": attempt(lambda: importlib.import_module("socket").socket()),
        "ctypes": attempt(lambda: importlib.import_module("ctypes")),
        "fork": attempt(os.fork) if hasattr(os, "fork") else "absent",
        "system": attempt(lambda: os.system("id")) if hasattr(os, "system") else "absent",
        "pid": attempt(os.getpid),
        "cpu_count": os.cpu_count(),
        "sleep": attempt(lambda: __import__("time").sleep(1)),
    }
    return {"status": 200, "body": seen}
