# Recurses without end: CPython's own recursion limit stops it, deterministically.
def dive(n):
    return dive(n + 1) + 1


def handler(req):
    return {"status": 200, "body": dive(0)}
