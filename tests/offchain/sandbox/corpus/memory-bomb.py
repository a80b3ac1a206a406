# Hoards memory until the cap: must end memory_limit on every worker.
def handler(req):
    hoard = []
    while True:
        hoard.append(bytearray(1 << 20))
