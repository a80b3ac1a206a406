# Answers with more than the output cap.
def handler(req):
    return {"status": 200, "body": "x" * (2 << 20)}
