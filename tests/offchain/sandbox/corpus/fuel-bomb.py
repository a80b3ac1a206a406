# Spins forever: must end out of fuel at the same point on every worker.
def handler(req):
    n = 0
    while True:
        n += 1
