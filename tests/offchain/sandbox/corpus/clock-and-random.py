# Reads every clock, every random source and the hash seed: all come from the request (its block
# timestamp and request id), so every worker, in every process, answers the same bytes.
import datetime
import os
import random
import secrets
import time
import uuid


def handler(req):
    return {
        "status": 200,
        "body": {
            "time": time.time(),
            "time_ns": time.time_ns(),
            "monotonic": time.monotonic(),
            "now": datetime.datetime.now().isoformat(),
            "now_utc": datetime.datetime.now(datetime.UTC).isoformat(),
            "today": datetime.date.today().isoformat(),
            "random": random.random(),
            "randint": random.randint(1, 10**9),
            "system_random": random.SystemRandom().random(),
            "urandom": os.urandom(8).hex(),
            "token": secrets.token_hex(8),
            "uuid4": str(uuid.uuid4()),
            "hash": hash("peerhost"),
            "set_order": list({"alpha", "beta", "gamma", "delta", "epsilon"}),
        },
    }
