"""Start-up time and idle memory of `warren-demo run` (a scripts/bench section).

Usage: python3 bench/startup.py WARREN_DEMO CONFIG ROUNDS

Each round starts the supervisor with NOTIFY_SOCKET pointing at a socket of our own, times
exec -> READY=1 (sent once every child consumes), reads the resident memory of the supervisor
and of each child from /proc once idle, then stops it with SIGTERM. Prints one JSON line.
"""
import json, os, shutil, statistics, sys, tempfile, time

import benchlib

def round_(binary, config, tmp):
    with benchlib.NotifySocket() as notify:
        start = time.monotonic()
        worker = benchlib.warren_worker(binary, config, os.path.join(tmp, "warren.log"), env=notify.env())
        try:
            ready = notify.wait_ready(worker, timeout=30)[0] - start
            time.sleep(1.0)  # idle: let allocations settle before reading RSS
            kids = benchlib.children(worker.pid)
            return ready, benchlib.memory_kib(worker.pid), [benchlib.memory_kib(k) for k in kids]
        finally:
            worker.stop()

def main():
    binary, config, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    benchlib.on_sigterm_raise()
    tmp = tempfile.mkdtemp(prefix="warren-bench-startup-")
    try:
        results = [round_(binary, config, tmp) for _ in range(rounds)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    def med(values):
        return statistics.median(list(values))
    print(json.dumps({
        "ready_ms": med(r[0] for r in results) * 1000,
        "supervisor": {k: med(r[1][k] for r in results) for k in ("rss", "pss", "private")},
        "child": {k: med(c[k] for r in results for c in r[2]) for k in ("rss", "pss", "private")},
        "children": len(results[0][2]),
    }))

if __name__ == "__main__":
    try:
        main()
    except benchlib.BenchError as exc:
        print(f"startup: {exc}", file=sys.stderr)
        sys.exit(1)
