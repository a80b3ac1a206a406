# A PeerHost function in Python: the request comes in as the dict `req`, the response goes out
# as the returned dict. print() lines are this function's log:
# `ape run logs {{project}} hello --account …`.


def handler(req):
    name = req["query"].get("name", "world")
    if isinstance(name, list):  # ?name=a&name=b
        name = name[0]
    print(f"greeting {name}")
    return {
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": {"hello": name, "method": req["method"], "path": req["path"]},
    }
