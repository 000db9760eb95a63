"""Start-up time and idle memory of `warren-demo run` (a scripts/bench section).

Usage: python3 bench/startup.py WARREN_DEMO CONFIG ROUNDS

Each round starts the supervisor with NOTIFY_SOCKET pointing at a socket of our own, times
exec -> READY=1 (sent once every child consumes), reads the resident memory of the supervisor
and of each child from /proc once idle, then stops it with SIGTERM. Prints one JSON line.
"""
import json, os, signal, socket, statistics, subprocess, sys, tempfile, time

def memory_kib(pid):
    """RSS, PSS (shared pages split between their users) and private (USS) memory, in KiB.
    RSS counts every shared library page in every process; private is what one more child costs."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":"):
                fields[parts[0][:-1]] = int(parts[1]) if parts[1].isdigit() else 0
    return {"rss": fields.get("Rss", 0), "pss": fields.get("Pss", 0),
            "private": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}

def children(pid):
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            out += [int(p) for p in f.read().split()]
    return out

def round_(binary, config):
    path = os.path.join(tempfile.mkdtemp(), "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    start = time.monotonic()
    proc = subprocess.Popen([binary, "run", "--config", config], env=env, stderr=subprocess.DEVNULL)
    try:
        while True:
            data = sock.recv(4096).decode()
            if "READY=1" in data:
                ready = time.monotonic() - start
                break
        time.sleep(1.0)  # idle: let allocations settle before reading RSS
        kids = children(proc.pid)
        return ready, memory_kib(proc.pid), [memory_kib(k) for k in kids]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        sock.close()

binary, config, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
results = [round_(binary, config) for _ in range(rounds)]
def med(values):
    return statistics.median(list(values))

print(json.dumps({
    "ready_ms": med(r[0] for r in results) * 1000,
    "supervisor": {k: med(r[1][k] for r in results) for k in ("rss", "pss", "private")},
    "child": {k: med(c[k] for r in results for c in r[2]) for k in ("rss", "pss", "private")},
    "children": len(results[0][2]),
}))
