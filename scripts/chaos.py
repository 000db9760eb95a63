"""The chaos run's body (scripts/chaos sets up the broker, the build and the venv, then runs this).

Usage: python chaos.py --binary WARREN_DEMO --config CONFIG --url AMQP_URL --exchange NAME
                       --broker SCRIPTS_BROKER --tasks N --chaos-seconds S --deadline S --log FILE

1. Starts `warren-demo run` (its stderr, children's included, goes to --log and is read live)
   and waits for "ready: every child is consuming".
2. Publishes N tasks (demo.noop and demo.sleep of 5-20 ms, Celery protocol v2, persistent) to
   the exchange with publisher confirms, one at a time; a publish whose confirm did not come is
   published again (same task id) on a new connection, so every task is confirmed once at least.
3. Meanwhile: SIGKILLs a random child every second for --chaos-seconds, and stops and starts
   the broker once (scripts/broker stop; scripts/broker start), a third of the way through.
4. Waits until every task id logged "task succeeded" (the handler ran to its end: a signal of
   the children's own, which survives a broker restart), or --deadline passes; then SIGTERM.
5. Prints tasks, lost, duplicates, time to resume after the broker came back, total time,
   as text and as one JSON line. Exit status 1 when a task is lost (or the run broke), else 0.
"""
import argparse, json, os, random, re, signal, socket, subprocess, sys, threading, time, uuid

import amqp  # py-amqp, from the venv of scripts/python-env

SUCCEEDED = re.compile(r"task\.id=(\S+) .*\] task succeeded$")


def log(text):
    print(f"chaos: {text}", file=sys.stderr, flush=True)


class Worker:
    """`warren-demo run`, its log file, and the successes it logs (id -> count, first time)."""

    def __init__(self, binary, config, log_path):
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen([binary, "run", "--config", config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        self.lock = threading.Lock()
        self.successes = {}
        self.success_times = []
        self.ready = threading.Event()
        self.exited = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.log_file.write(line)
            line = line.rstrip("\n")
            m = SUCCEEDED.search(line)
            if m:
                with self.lock:
                    self.successes[m.group(1)] = self.successes.get(m.group(1), 0) + 1
                    self.success_times.append(time.monotonic())
            elif "ready: every child is consuming" in line:
                self.ready.set()
        self.log_file.flush()
        self.exited.set()

    def children(self):
        pids = []
        try:
            for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{tid}/children") as f:
                    pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def first_success_after(self, moment):
        with self.lock:
            return next((t for t in self.success_times if t >= moment), None)

    def done(self, ids):
        with self.lock:
            return all(i in self.successes for i in ids)


class Publisher:
    """Publishes with confirms; reconnects (100 ms doubling to 5 s) and republishes what was not confirmed."""

    def __init__(self, url, exchange):
        m = re.match(r"amqp://([^:]+):([^@]+)@([^:/]+):(\d+)/", url)
        self.user, self.password, self.host, self.port = m.group(1), m.group(2), m.group(3), int(m.group(4))
        self.exchange = exchange
        self.conn = self.channel = None
        self.republished = 0

    def _connect(self):
        delay = 0.1
        while True:
            try:
                conn = amqp.Connection(host=f"{self.host}:{self.port}", userid=self.user, password=self.password,
                                       virtual_host="/", connect_timeout=5, confirm_publish=True)
                conn.connect()
                self.conn, self.channel = conn, conn.channel()
                return
            except Exception:
                time.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 5)

    def publish(self, task_id, name, kwargs):
        body = json.dumps([[], kwargs, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
        message = amqp.Message(body, content_type="application/json", content_encoding="utf-8",
                               correlation_id=task_id, delivery_mode=2,
                               application_headers={"task": name, "id": task_id, "retries": 0})
        while True:
            if self.channel is None:
                self._connect()
            try:
                # With confirm_publish, basic_publish returns once the broker acked, and raises otherwise.
                self.channel.basic_publish(message, exchange=self.exchange, routing_key=name)
                return
            except Exception:
                self.republished += 1  # not confirmed: never assumed; again, on a new connection
                try:
                    self.conn.collect()
                except Exception:
                    pass
                self.conn = self.channel = None

    def close(self):
        try:
            if self.conn:
                self.conn.close()
        except Exception:
            pass


def broker(script, verb):
    subprocess.run([script, verb], check=True, stdout=subprocess.DEVNULL)


def main():
    p = argparse.ArgumentParser()
    for name in ("--binary", "--config", "--url", "--exchange", "--broker", "--log"):
        p.add_argument(name, required=True)
    p.add_argument("--tasks", type=int, default=5000)
    p.add_argument("--chaos-seconds", type=float, default=60)
    p.add_argument("--deadline", type=float, default=600)
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args()
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    log(f"{a.tasks} tasks, chaos for {a.chaos_seconds:.0f}s, deadline {a.deadline:.0f}s, seed {seed}")

    t0 = time.monotonic()
    worker = Worker(a.binary, a.config, a.log)
    if not worker.ready.wait(60):
        log("the worker did not get ready within 60s")
        worker.proc.kill()
        return 1
    ids, stop_chaos = [], threading.Event()
    kills = []
    restart = {}

    def killer():
        while not stop_chaos.wait(1.0):
            if time.monotonic() - t0 > a.chaos_seconds:
                return
            pids = worker.children()
            if pids:
                victim = rng.choice(pids)
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills.append(victim)
                except ProcessLookupError:
                    pass

    def restarter():
        # A third of the way through the publishing, while tasks flow.
        while len(ids) < a.tasks // 3:
            if stop_chaos.wait(0.05):
                return
        log(f"stopping the broker ({len(ids)} tasks published)")
        restart["stop_began"] = time.monotonic()
        broker(a.broker, "stop")
        restart["stopped"] = time.monotonic()
        log("starting the broker")
        starting = subprocess.Popen([a.broker, "start"], stdout=subprocess.DEVNULL)
        while "back" not in restart and starting.poll() is None:  # back = its AMQP port accepts again
            try:
                socket.create_connection((publisher_host, int(publisher_port)), timeout=1).close()
                restart["back"] = time.monotonic()
            except OSError:
                time.sleep(0.05)
        if starting.wait() != 0:
            raise SystemExit("chaos: scripts/broker start failed")
        restart.setdefault("back", time.monotonic())
        log(f"the broker is back after {restart['back'] - restart['stop_began']:.1f}s")

    publisher_host, publisher_port = re.match(r"amqp://[^@]+@([^:/]+):(\d+)/", a.url).groups()
    threads = [threading.Thread(target=killer, daemon=True), threading.Thread(target=restarter, daemon=True)]
    for t in threads:
        t.start()

    publisher = Publisher(a.url, a.exchange)
    for n in range(a.tasks):
        task_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ids.append(task_id)
        if n % 2:
            publisher.publish(task_id, "demo.sleep", {"seconds": rng.choice([0.005, 0.01, 0.02])})
        else:
            publisher.publish(task_id, "demo.noop", {})
        if n % 50 == 49:
            time.sleep(0.1)  # spread the stream over the run, so that the chaos meets it
    publisher.close()
    published = time.monotonic()
    log(f"published {a.tasks} tasks in {published - t0:.1f}s ({publisher.republished} republished)")
    threads[1].join()  # the broker restart finished (it began at a third of the stream)

    while not worker.done(ids) and time.monotonic() - t0 < a.deadline and not worker.exited.is_set():
        time.sleep(0.2)
    stop_chaos.set()
    threads[0].join()
    finished = time.monotonic()

    worker.proc.send_signal(signal.SIGTERM)
    try:
        status = worker.proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        worker.proc.kill()
        status = "killed after 90s"
    worker.exited.wait(10)

    with worker.lock:
        runs = dict(worker.successes)
    lost = [i for i in ids if i not in runs]
    duplicates = sum(runs.get(i, 0) - 1 for i in ids if runs.get(i, 0) > 1)
    resume = None
    if "back" in restart:
        # Successes resume only once the broker is back, but the clock starts at the stop: no
        # success logged just before the stop is taken for one after it.
        first = worker.first_success_after(restart["stopped"])
        resume = None if first is None else first - restart["back"]
    result = {
        "tasks": a.tasks, "lost": len(lost), "duplicates": duplicates, "republished": publisher.republished,
        "kills": len(kills), "broker_down_s": round(restart["back"] - restart["stop_began"], 2) if "back" in restart else None,
        "resume_after_broker_back_s": None if resume is None else round(resume, 3),
        "total_s": round(finished - t0, 1), "supervisor_exit": status, "seed": seed,
    }
    print(f"tasks {a.tasks}, lost {len(lost)}, duplicates {duplicates}, republished {publisher.republished}, "
          f"children killed {len(kills)}")
    print(f"broker down {result['broker_down_s']}s; work resumed {result['resume_after_broker_back_s']}s after it came back; "
          f"total {result['total_s']}s; supervisor exit {status}")
    print(json.dumps(result))
    if lost:
        log(f"LOST {len(lost)} tasks, e.g. {lost[:5]}; worker log: {a.log}")
    if "back" not in restart:
        log("the broker restart did not happen")
        return 1
    return 1 if lost or status != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
