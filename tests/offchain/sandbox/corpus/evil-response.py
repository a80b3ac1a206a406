# Answers with values JSON cannot carry.
def handler(req):
    return {"status": 200, "body": {"nan": float("nan"), "inf": float("inf")}}
