# Tries every way to a forbidden module; the import itself fails with a clear error.
import subprocess  # noqa: F401


def handler(req):
    return {"status": 200}
