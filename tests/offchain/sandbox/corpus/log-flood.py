# Floods the log: the log is capped, the response still arrives.
import sys


def handler(req):
    for i in range(2000):
        print("line", i, "x" * 50)
        sys.stderr.write("err\n")
    return {"status": 200, "body": "done"}
