# report: summarizes a list of numbers. Runtime "python".
#
#   POST {"xs": [3, 1, 4, 1, 5, 9]}  ->  count, sum, mean, median, a random pick
#
# Every worker answers the same: datetime.now() reads the request's block
# timestamp and `random` is seeded from the request id, so honest workers
# agree byte for byte (and a new request makes a new pick).
import datetime
import json
import random


def median(xs):
    ordered = sorted(xs)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def handler(req):
    try:
        data = json.loads(req["body"] or "{}")
    except json.JSONDecodeError as exc:
        return {"status": 400, "body": {"error": f"the body is not JSON: {exc.msg}"}}
    xs = data.get("xs") if isinstance(data, dict) else None
    numbers = isinstance(xs, list) and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs
    )
    if not numbers or not xs:
        return {"status": 400, "body": {"error": 'send {"xs": [numbers...]} with at least one'}}
    print(f"report over {len(xs)} numbers")  # print() goes to the function's log
    return {
        "status": 200,
        "body": {
            "count": len(xs),
            "sum": sum(xs),
            "mean": sum(xs) / len(xs),
            "median": median(xs),
            "pick": random.choice(xs),
            "generated_at": datetime.datetime.now(datetime.UTC).isoformat(),
        },
    }
