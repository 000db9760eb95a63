"""The soak run's body (scripts/soak sets up the broker, the build, the config and the venv, then runs this).

Usage: python soak.py --binary WARREN_DEMO --config CONFIG --url AMQP_URL --exchange NAME --metrics-port P
                      --broker SCRIPTS_BROKER --log FILE [--minutes M] [--gap S] [--final-gap S] [--seed N]

One supervisor (`warren-demo run` with the demo config: latency x2, slow, bigmem, default) lives
for --minutes through cycles of a burst of mixed tasks and an idle gap (--gap seconds):
  burst     demo.add/demo.echo/demo.noop (latency), demo.sleep 0.2 (slow), demo.alloc (bigmem),
            demo.add published straight to the queue `default` and demo.flaky (fails once, retried;
            default), Celery protocol v2 with reply_to; the burst ends once every reply came (or 90 s).
  cycle 2   SIGHUP in the middle of the burst; waits for "reloaded" and every child ready again.
  cycle 3   after the gap: the broker is stopped and started (scripts/broker); waits until every
            child is ready again (the metrics' warren_children_ready).
  cycle 4   after the gap: a random child is SIGKILLed; waits for its replacement to be ready.
After each cycle the supervisor's and children's RSS and open fds are sampled. At the end: a
final idle gap (--final-gap, so that the supervisor has aged and idled), the last sample, then
SIGKILL of the supervisor, and every child must exit within 3 s (those left are named and killed).

Checks (one line each, then `N passed, N failed`):
  ready / reload / broker restart / child restart  each step came back to every child ready
  lost               every task sent got a reply (within the burst's bound)
  replies            replies == sent + duplicate replies (duplicates are counted, not failures)
  results            every reply is the expected result
  warren_tasks_total == the handler runs this run's log shows ("task succeeded", "task failed,
                     will retry", "task failed, dead-lettered"): exact, polled up to 5 s
  fds / RSS          supervisor fds grew by at most 16, its RSS by at most 50 % + 10 MiB; each
                     child slot's fds by at most 16 (children are replaced: their RSS is reported)
  trend              on a long run (20 samples after the events, cycle 5 on: --minutes 10 or more),
                     the supervisor's RSS did not grow at every sample (by > 1 MiB in all), nor
                     its fds, nor its RSS from third to third of the samples (medians, > 2 MiB in
                     all); a shorter run prints the samples and the growth per hour only
  orphans            no child of this run left 3 s after the supervisor's SIGKILL
Exit status: 0 every check passed, 1 otherwise.
"""
import argparse, json, os, random, re, signal, subprocess, sys, threading, time, urllib.request, uuid

import amqp  # py-amqp, from the venv of scripts/python-env

RUN = re.compile(r"task\.id=(\S+) .*\] (task succeeded|task failed, will retry|task failed, dead-lettered)$")
# A periodic schedule's fire (Config/warren.yaml has a demo schedule): its task runs too.
FIRED = re.compile(r"task\.id=(\S+) .*\] fired \S+ tick")
CHILD_STARTED = re.compile(r"child=(\S+) child\.pid=(\d+) .*\] child started$")
REPLY_QUEUE = "soak.replies"
MiB = 1024 * 1024
LONG_RUN_SAMPLES = 20  # steady samples (after the events) for the trend check: about --minutes 10


def log(text):
    print(f"soak: {text}", file=sys.stderr, flush=True)


class Deadline(Exception):
    pass


class Supervisor:
    """`warren-demo run`, its log file, and what the log says (runs per task id, children started, reloads)."""

    def __init__(self, binary, config, log_path):
        self.config = config
        self.log_file = open(log_path, "w")
        self.proc = subprocess.Popen([binary, "run", "--config", config], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        self.lock = threading.Lock()
        self.runs = {}            # task id -> {"task succeeded": n, ...}
        self.run_lines = 0        # every handler run logged
        self.fired = set()        # task ids of the schedules' fires
        self.started = []         # (slot, pid) in order
        self.reloads = 0
        self.ready = threading.Event()
        self.exited = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.log_file.write(line)
            line = line.rstrip("\n")
            m = RUN.search(line)
            with self.lock:
                if m:
                    per = self.runs.setdefault(m.group(1), {})
                    per[m.group(2)] = per.get(m.group(2), 0) + 1
                    self.run_lines += 1
                elif (f := FIRED.search(line)):
                    self.fired.add(f.group(1))
                elif (c := CHILD_STARTED.search(line)):
                    self.started.append((c.group(1), int(c.group(2))))
                elif line.endswith("] reloaded"):
                    self.reloads += 1
                elif "ready: every child is consuming" in line:
                    self.ready.set()
        self.log_file.flush()
        self.exited.set()

    def children(self):
        """The supervisor's live child processes, pid -> slot (from their --queue and --slot)."""
        found = {}
        try:
            tids = os.listdir(f"/proc/{self.proc.pid}/task")
        except OSError:
            return found
        for tid in tids:
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/children") as f:
                    pids = [int(p) for p in f.read().split()]
            except OSError:
                continue
            for pid in pids:
                slot = child_slot(pid, self.config)
                if slot:
                    found[pid] = slot
        return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace").split("\0")
    except OSError:
        return []


def alive(pid):
    """Running (a zombie has exited: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def child_slot(pid, config):
    """"latency#1" for a child process of this run (`child --config CONFIG --queue Q --slot N`), else None."""
    args = cmdline(pid)
    if "child" not in args or "--config" not in args:
        return None
    try:
        if args[args.index("--config") + 1] != config:
            return None
        return f"{args[args.index('--queue') + 1]}#{args[args.index('--slot') + 1]}"
    except (ValueError, IndexError):
        return "?"


def scan_children(config):
    """Every live process whose command line is a child of this run's config, pid -> slot."""
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            slot = child_slot(int(name), config)
            if slot and alive(int(name)):
                found[int(name)] = slot
    return found


def proc_stats(pid):
    """(RSS in bytes, open fds) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            rss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        return rss, len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, StopIteration, ValueError):
        return None


def scrape(port):
    """The supervisor's /metrics, summed per metric name (over every label set)."""
    sums = {}
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.rpartition(" ")
        name = name.split("{", 1)[0]
        try:
            sums[name] = sums.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return sums


def amqp_params(url):
    m = re.match(r"amqp://([^:]+):([^@]+)@([^:/]+):(\d+)/", url)
    return dict(host=f"{m.group(3)}:{m.group(4)}", userid=m.group(1), password=m.group(2), virtual_host="/",
                connect_timeout=5)


class Publisher:
    """Publishes with confirms; reconnects (100 ms doubling to 5 s) and republishes what was not confirmed."""

    def __init__(self, url, deadline):
        self.params = amqp_params(url)
        self.deadline = deadline
        self.conn = self.channel = None
        self.republished = 0

    def _connect(self):
        delay = 0.1
        while True:
            if time.monotonic() > self.deadline:
                raise Deadline("publishing")
            try:
                conn = amqp.Connection(confirm_publish=True, **self.params)
                conn.connect()
                self.conn, self.channel = conn, conn.channel()
                return
            except Exception:
                time.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 5)

    def publish(self, task_id, name, args, kwargs, exchange, routing_key):
        body = json.dumps([args, kwargs, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
        message = amqp.Message(body, content_type="application/json", content_encoding="utf-8",
                               correlation_id=task_id, reply_to=REPLY_QUEUE, delivery_mode=2,
                               application_headers={"lang": "py", "task": name, "id": task_id, "retries": 0,
                                                    "root_id": task_id, "parent_id": None})
        while True:
            if self.channel is None:
                self._connect()
            try:
                # With confirm_publish, basic_publish returns once the broker acked, and raises otherwise.
                self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
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


class Replies:
    """Consumes the durable reply queue on a connection of its own (reconnecting), id -> [replies]."""

    def __init__(self, url):
        self.params = amqp_params(url)
        self.lock = threading.Lock()
        self.replies = {}
        self.declared = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _on_message(self, message):
        try:
            reply = json.loads(message.body)
            task_id = reply.get("task_id") or message.properties.get("correlation_id")
        except Exception:
            task_id, reply = message.properties.get("correlation_id"), {"status": "UNREADABLE"}
        with self.lock:
            self.replies.setdefault(task_id, []).append(reply)
        message.channel.basic_ack(message.delivery_tag)

    def _run(self):
        delay = 0.1
        while not self.stop.is_set():
            conn = None
            try:
                conn = amqp.Connection(**self.params)
                conn.connect()
                channel = conn.channel()
                channel.queue_declare(REPLY_QUEUE, durable=True, auto_delete=False)
                channel.basic_qos(0, 500, False)
                channel.basic_consume(REPLY_QUEUE, callback=self._on_message)
                self.declared.set()
                delay = 0.1
                while not self.stop.is_set():
                    try:
                        conn.drain_events(timeout=0.3)
                    except TimeoutError:
                        pass
            except Exception:
                time.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 5)
            finally:
                try:
                    if conn:
                        conn.close()
                except Exception:
                    pass

    def count(self, ids):
        with self.lock:
            return sum(1 for i in ids if i in self.replies)

    def snapshot(self):
        with self.lock:
            return {k: list(v) for k, v in self.replies.items()}


class Soak:
    def __init__(self, a):
        self.a = a
        self.seed = a.seed if a.seed is not None else random.randrange(1 << 30)
        self.rng = random.Random(self.seed)
        self.t0 = time.monotonic()
        self.deadline = self.t0 + a.minutes * 60 + a.deadline_slack
        self.checks = []          # (ok, name, detail)
        self.expected = {}        # task id -> expected result
        self.names = {}           # task id -> task name
        self.samples = []         # (label, elapsed, {"supervisor": (pid, rss, fds), slot: (pid, rss, fds)})
        self.events = []
        self.sup = None
        self.children_total = None
        self.max_settle = 0.0
        self.reloads_before = 0
        self.unsettled = 0        # bursts after which warren_tasks_total did not catch up within 5 s

    # ------------------------------------------------------------------ helpers

    def elapsed(self):
        return time.monotonic() - self.t0

    def left(self):
        """Seconds to the deadline; raises Deadline once it passed, or once the supervisor died."""
        if self.sup and self.sup.proc.poll() is not None:
            raise Deadline(f"the supervisor exited, status {self.sup.proc.returncode} (log: {self.a.log})")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Deadline(f"the run's deadline ({self.deadline - self.t0:.0f}s) passed")
        return left

    def check(self, ok, name, detail=""):
        self.checks.append((bool(ok), name, detail))
        print(f"{'PASS' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}", flush=True)
        return ok

    def sleep(self, seconds):
        time.sleep(max(0.0, min(seconds, self.left())))

    def metrics(self):
        try:
            return scrape(self.a.metrics_port)
        except Exception:
            return {}

    def wait_ready(self, timeout, what):
        """Until the metrics say every child holds a consumer (and as many children as at the start)."""
        end = time.monotonic() + min(timeout, self.left())
        m = {}
        while time.monotonic() < end:
            m = self.metrics()
            ready, children = m.get("warren_children_ready"), m.get("warren_children")
            if ready is not None and ready == children and (self.children_total is None or children == self.children_total):
                return True
            time.sleep(0.25)
        log(f"{what}: not every child ready after {timeout:.0f}s: {m.get('warren_children_ready')}"
            f"/{m.get('warren_children')} children ready")
        return False

    def sample(self, label):
        entry = {}
        s = proc_stats(self.sup.proc.pid)
        if s:
            entry["supervisor"] = (self.sup.proc.pid, *s)
        for pid, slot in self.sup.children().items():
            st = proc_stats(pid)
            if st:
                entry[slot] = (pid, *st)
        self.samples.append((label, self.elapsed(), entry))
        sup = entry.get("supervisor")
        if sup:
            log(f"sample {label}: supervisor RSS {sup[1] / MiB:.1f} MiB, {sup[2]} fds; "
                f"{len(entry) - 1} children, RSS {sum(v[1] for k, v in entry.items() if k != 'supervisor') / MiB:.1f} MiB")

    # ------------------------------------------------------------------ the work

    def new_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def burst_tasks(self):
        """(id, name, args, kwargs, exchange, routing key) for one burst, shuffled."""
        a, rng, ex = self.a, self.rng, self.a.exchange
        tasks = []

        def add(name, args, kwargs, expected, exchange=ex, key=None):
            task_id = self.new_id()
            self.expected[task_id] = expected
            self.names[task_id] = name
            tasks.append((task_id, name, args, kwargs, exchange, key or name))

        for _ in range(a.burst):
            kind = rng.random()
            if kind < 0.4:
                x, y = rng.randrange(1000), rng.randrange(1000)
                add("demo.add", [x, y], {}, x + y)
            elif kind < 0.7:
                kw = {"n": rng.randrange(10 ** 6), "word": rng.choice(["ada", "grace", "edsger", "barbara"])}
                add("demo.echo", [], kw, kw)
            else:
                add("demo.noop", [], {}, None)
        for _ in range(max(1, a.burst // 24)):
            add("demo.sleep", [0.2], {}, 0.2)
        for _ in range(max(1, a.burst // 80)):
            add("demo.alloc", [], {"mb": 32}, 32)
        for _ in range(max(1, a.burst // 12)):   # straight to the queue: the task header names the task
            x, y = rng.randrange(1000), rng.randrange(1000)
            add("demo.add", [], {"a": x, "b": y}, x + y, exchange="", key="default")
        for _ in range(max(1, a.burst // 120)):
            add("demo.flaky", [], {"fail_times": 1, "retry_in": 0.5}, 2)
        rng.shuffle(tasks)
        return tasks

    def burst(self, cycle, publisher, replies, hup=False):
        tasks = self.burst_tasks()
        ids = [t[0] for t in tasks]
        began = time.monotonic()
        for n, (task_id, name, args, kwargs, exchange, key) in enumerate(tasks):
            self.left()
            publisher.publish(task_id, name, args, kwargs, exchange, key)
            if hup and n == len(tasks) // 2:
                log(f"cycle {cycle}: SIGHUP to the supervisor mid-burst ({n} of {len(tasks)} published)")
                self.reloads_before = self.sup.reloads
                self.sup.proc.send_signal(signal.SIGHUP)
                self.events.append(("reload", self.elapsed()))
            if n % 25 == 24:
                time.sleep(0.05)  # a burst of a few seconds, not one instant
        published = time.monotonic()
        end = time.monotonic() + min(90, self.left())
        while replies.count(ids) < len(ids) and time.monotonic() < end and self.sup.proc.poll() is None:
            time.sleep(0.05)
        got = replies.count(ids)
        log(f"cycle {cycle}: {len(ids)} tasks published in {published - began:.1f}s, "
            f"{got} replies after {time.monotonic() - began:.1f}s (t={self.elapsed():.0f}s)")
        self.settle()
        return ids

    def settle(self):
        """Polls until warren_tasks_total equals the handler runs logged (or 5 s); returns whether it did."""
        began = time.monotonic()
        while True:
            total = self.metrics().get("warren_tasks_total", -1)
            with self.sup.lock:
                runs = self.sup.run_lines
            if total == runs:
                self.max_settle = max(self.max_settle, time.monotonic() - began)
                return True
            if time.monotonic() - began > 5:
                log(f"warren_tasks_total {total:.0f} != {runs} handler runs logged, 5 s after the burst")
                self.max_settle = max(self.max_settle, 5.0)
                self.unsettled += 1
                return False
            time.sleep(0.1)

    def restart_broker(self):
        began = time.monotonic()
        log("stopping the broker")
        subprocess.run([self.a.broker, "stop"], check=True, stdout=subprocess.DEVNULL, timeout=min(120, self.left()))
        log("starting the broker")
        subprocess.run([self.a.broker, "start"], check=True, stdout=subprocess.DEVNULL, timeout=min(180, self.left()))
        back = time.monotonic()
        self.events.append(("broker restart", self.elapsed()))
        ok = self.wait_ready(120, "broker restart")
        log(f"broker down and up in {back - began:.1f}s; every child ready {time.monotonic() - back:.1f}s after")
        return self.check(ok, "broker restart", f"every child ready again {time.monotonic() - back:.1f}s after the broker "
                          f"came back (stop+start took {back - began:.1f}s)")

    def kill_child(self):
        children = self.sup.children()
        if not children:
            return self.check(False, "child SIGKILL", "no child to kill")
        pid = self.rng.choice(sorted(children))
        slot = children[pid]
        with self.sup.lock:
            started_before = len(self.sup.started)
        log(f"SIGKILL to child {slot} (pid {pid})")
        os.kill(pid, signal.SIGKILL)
        self.events.append((f"child {slot} SIGKILLed", self.elapsed()))
        killed = time.monotonic()
        end = killed + min(60, self.left())
        new = None
        while time.monotonic() < end and new is None:
            with self.sup.lock:
                new = next((p for s, p in self.sup.started[started_before:] if s == slot), None)
            time.sleep(0.1)
        ok = new is not None and self.wait_ready(60, "child restart")
        return self.check(ok, "child SIGKILL", f"{slot} pid {pid} killed; replaced by pid {new}, every child ready "
                          f"{time.monotonic() - killed:.1f}s after" if ok else f"{slot} pid {pid} killed; no ready replacement")

    def final_kill(self):
        """SIGKILL to the supervisor; every child of this run must exit within 3 s."""
        known = dict(self.sup.children())
        with self.sup.lock:
            for slot, pid in self.sup.started:
                if child_slot(pid, self.a.config) and alive(pid):
                    known.setdefault(pid, slot)
        known.update(scan_children(self.a.config))
        up = self.elapsed()
        log(f"SIGKILL to the supervisor (pid {self.sup.proc.pid}, up {up:.0f}s, idle {self.a.final_gap:.0f}s); "
            f"children: {', '.join(f'{s} {p}' for p, s in sorted(known.items()))}")
        self.sup.proc.kill()
        self.sup.proc.wait(10)
        end = time.monotonic() + 3
        left = known
        while time.monotonic() < end:
            left = {p: s for p, s in {**known, **scan_children(self.a.config)}.items()
                    if alive(p) and child_slot(p, self.a.config)}
            if not left:
                break
            time.sleep(0.05)
        self.check(not left, "no orphans after the supervisor's SIGKILL",
                   f"{len(known)} children all exited within 3 s" if not left else
                   f"{len(left)} of {len(known)} children still running 3 s later: "
                   + ", ".join(f"{s} pid {p}" for p, s in sorted(left.items())) + " (killed now)")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    # ------------------------------------------------------------------ the run

    def run(self):
        a = self.a
        log(f"{a.minutes:g} min, bursts of ~{a.burst} latency tasks, gaps {a.gap:g}s, final gap {a.final_gap:g}s, "
            f"seed {self.seed}")
        replies = Replies(a.url)
        if not replies.declared.wait(30):
            self.check(False, "reply queue", "could not declare it within 30 s")
            return
        self.sup = Supervisor(a.binary, a.config, a.log)
        if not self.sup.ready.wait(60):
            self.check(False, "supervisor ready", "no 'ready: every child is consuming' within 60 s")
            return
        m = {}
        for _ in range(40):
            m = self.metrics()
            if m.get("warren_children"):
                break
            time.sleep(0.25)
        self.children_total = m.get("warren_children")
        ready = self.children_total == 5 and self.wait_ready(30, "start")
        self.check(ready, "supervisor ready", f"{self.children_total and int(self.children_total)} children "
                   f"consuming after {self.elapsed():.1f}s, metrics on port {a.metrics_port}")
        if not ready:
            return
        self.sample("start")
        publisher = Publisher(a.url, self.deadline)
        all_ids, cycle = [], 0
        try:
            while True:
                cycle += 1
                all_ids += self.burst(cycle, publisher, replies, hup=(cycle == 2))
                if cycle == 2:
                    end = time.monotonic() + min(90, self.left())
                    while self.sup.reloads <= self.reloads_before and time.monotonic() < end:
                        time.sleep(0.1)
                    reloaded = self.sup.reloads > self.reloads_before
                    self.check(reloaded and self.wait_ready(60, "reload"), "SIGHUP reload",
                               "'reloaded' logged and every child ready again" if reloaded else "no 'reloaded' within 90 s")
                self.sleep(a.gap)
                if cycle == 3:
                    publisher.close()
                    self.restart_broker()
                elif cycle == 4:
                    self.kill_child()
                self.sample(f"cycle {cycle}")
                # The last cycle: the rest of the run cannot hold another burst and gap.
                if cycle >= 4 and self.elapsed() + a.gap + 10 + a.final_gap > a.minutes * 60:
                    break
            publisher.close()
            log(f"{cycle} cycles done at t={self.elapsed():.0f}s; idling {a.final_gap:g}s before the last sample")
            self.sleep(a.final_gap)
        except Deadline as e:
            self.check(False, "the run went to its end", str(e))
        self.report(all_ids, replies)
        self.sample("end")
        self.report_resources()
        self.final_kill()
        replies.stop.set()

    def report(self, ids, replies):
        total = None
        end = time.monotonic() + 5
        while time.monotonic() < end:  # settled long ago (after the final gap): a few looks at most
            total = self.metrics().get("warren_tasks_total")
            with self.sup.lock:
                runs_logged = self.sup.run_lines
            if total == runs_logged:
                break
            time.sleep(0.2)
        got = replies.snapshot()
        with self.sup.lock:
            runs = {k: dict(v) for k, v in self.sup.runs.items()}
            runs_logged = self.sup.run_lines
        lost = [i for i in ids if i not in got]
        reply_count = sum(len(got.get(i, [])) for i in ids)
        dup_replies = sum(len(got[i]) - 1 for i in ids if len(got.get(i, [])) > 1)
        succeeded = sum(r.get("task succeeded", 0) for r in runs.values())
        retried = sum(r.get("task failed, will retry", 0) for r in runs.values())
        dead = sum(r.get("task failed, dead-lettered", 0) for r in runs.values())
        dup_runs = sum(r.get("task succeeded", 0) - 1 for r in runs.values() if r.get("task succeeded", 0) > 1)
        with self.sup.lock:
            fired = set(self.sup.fired)
        scheduled = sum(1 for k in runs if k not in self.expected and k in fired)
        foreign = sum(1 for k in runs if k not in self.expected and k not in fired)
        wrong = [i for i in ids if i in got and any(r.get("status") != "SUCCESS" or r.get("result") != self.expected[i]
                                                    for r in got[i])]
        flaky = sum(1 for i in ids if self.names[i] == "demo.flaky")
        print(f"tasks sent {len(ids)}, replies {reply_count} ({len(ids) - len(lost)} tasks, {dup_replies} duplicate), "
              f"lost {len(lost)}")
        print(f"handler runs logged {runs_logged} (succeeded {succeeded} = {len(ids) - len(lost)} tasks + {dup_runs} "
              f"duplicate runs; retried {retried}, expected {flaky} for demo.flaky; dead-lettered {dead}); "
              f"warren_tasks_total {total if total is None else int(total)}")
        # The identity the run checks: every task sent ran and answered once, plus the counted
        # extras (demo.flaky's failed first attempts, duplicates after a kill or a broker restart).
        total_text = "none" if total is None else str(int(total))
        print(f"sent {len(ids)} = replies {reply_count} - {dup_replies} duplicate + {len(lost)} lost; "
              f"warren_tasks_total {total_text} = sent {len(ids)} + {retried} retried + {dead} dead-lettered "
              f"+ {dup_runs} duplicate runs + {scheduled} scheduled fires run - {len(lost)} lost = "
              f"{len(ids) + retried + dead + dup_runs + scheduled - len(lost)}")
        self.check(not lost, "no task lost", f"{len(ids) - len(lost)} of {len(ids)} tasks answered"
                   if not lost else f"{len(lost)} without a reply, e.g. {lost[:3]}")
        self.check(reply_count == len(ids) - len(lost) + dup_replies, "replies = sent - lost + duplicates",
                   f"{reply_count} = {len(ids)} - {len(lost)} + {dup_replies}")
        self.check(not wrong, "every reply is the expected result",
                   "" if not wrong else f"{len(wrong)} wrong, e.g. {self.names[wrong[0]]}: {got[wrong[0]]}")
        self.check(total == runs_logged and foreign == 0 and not self.unsettled,
                   "warren_tasks_total = handler runs logged (exact)",
                   f"{total_text} {'=' if total == runs_logged else '!='} {runs_logged}; " + (
                       f"caught up within {self.max_settle:.1f}s of each burst's last reply" if not self.unsettled else
                       f"{self.unsettled} bursts not caught up 5 s after their last reply") + (
                       f"; {foreign} runs of unknown ids" if foreign else ""))
        self.result = {"sent": len(ids), "replies": reply_count, "lost": len(lost), "duplicate_replies": dup_replies,
                       "duplicate_runs": dup_runs, "runs_logged": runs_logged, "retried": retried,
                       "warren_tasks_total": total}

    def report_resources(self):
        (_, _, first), (_, _, last) = self.samples[0], self.samples[-1]
        print(f"{'process':<12} {'pid':>16} {'RSS start':>10} {'RSS end':>10} {'growth':>10} {'fds':>5} {'fds':>5} {'growth':>6}")
        for key in ["supervisor"] + sorted(k for k in set(first) | set(last) if k != "supervisor"):
            s, e = first.get(key), last.get(key)
            pids = f"{s[0] if s else '-'}->{e[0] if e else '-'}" if not s or not e or s[0] != e[0] else str(s[0])
            if s and e:
                print(f"{key:<12} {pids:>16} {s[1] / MiB:>8.1f}Mi {e[1] / MiB:>8.1f}Mi {(e[1] - s[1]) / MiB:>+8.1f}Mi "
                      f"{s[2]:>5} {e[2]:>5} {e[2] - s[2]:>+6}")
            else:
                print(f"{key:<12} {pids:>16} (missing in a sample)")
        s, e = first.get("supervisor"), last.get("supervisor")
        if not s or not e:
            self.check(False, "supervisor sampled", "at the start and at the end")
            return
        self.check(e[2] - s[2] <= 16, "supervisor fds growth <= 16", f"{s[2]} -> {e[2]} ({e[2] - s[2]:+d})")
        limit = s[1] * 1.5 + 10 * MiB
        self.check(e[1] <= limit, "supervisor RSS growth <= 50 % + 10 MiB",
                   f"{s[1] / MiB:.1f} -> {e[1] / MiB:.1f} MiB ({(e[1] - s[1]) / MiB:+.1f} MiB, "
                   f"{(e[1] - s[1]) * 100 / s[1]:+.0f} %; limit {limit / MiB:.1f} MiB)")
        grew = [f"{k} {first[k][2]} -> {last[k][2]}" for k in first if k != "supervisor" and k in last
                and last[k][2] - first[k][2] > 16]
        missing = sorted(k for k in first if k != "supervisor" and k not in last)
        self.check(not grew and not missing, "every child slot's fds growth <= 16",
                   "; ".join(grew + [f"{k} missing at the end" for k in missing]) or
                   f"{len(first) - 1} slots, largest growth "
                   f"{max((last[k][2] - first[k][2] for k in first if k != 'supervisor'), default=0):+d}")
        # The trend: the samples after the last event (cycle 5 on, and the end). The reload, the
        # broker restart and the new child allocate once; what still grows after them, cycle
        # after cycle, is a leak. Checked only on a long run: a few minutes cannot tell a leak
        # from a heap that is still settling.
        steady = [(t, entry["supervisor"]) for label, t, entry in self.samples if "supervisor" in entry
                  and (label == "end" or (label.startswith("cycle ") and int(label.split()[1]) >= 5))]
        rss = [x[1] for _, x in steady]
        fds = [x[2] for _, x in steady]
        if len(steady) < 2:
            print(f"trend: {len(steady)} samples after the last event")
            return
        # Least squares: the growth per hour the samples point to.
        ts = [t for t, _ in steady]
        t_mean, r_mean = sum(ts) / len(ts), sum(rss) / len(rss)
        spread = sum((t - t_mean) ** 2 for t in ts) or 1.0
        per_hour = sum((t - t_mean) * (r - r_mean) for t, r in zip(ts, rss)) / spread / MiB * 3600
        shown = sorted({round(i * (len(steady) - 1) / 23) for i in range(24)})  # at most 24 of them, evenly
        text = (f"RSS {' '.join(f'{rss[i] / MiB:.1f}' for i in shown)} MiB ({per_hour:+.1f} MiB/h); "
                f"fds {' '.join(str(fds[i]) for i in shown)}" + (f" ({len(shown)} of {len(steady)} samples shown)"
                                                                 if len(shown) < len(steady) else ""))
        if len(steady) >= LONG_RUN_SAMPLES:
            every_rss = all(b > a for a, b in zip(rss, rss[1:])) and rss[-1] - rss[0] > MiB
            every_fds = all(b > a for a, b in zip(fds, fds[1:]))
            k = len(rss) // 3
            m1, m2, m3 = (sorted(part)[len(part) // 2] for part in (rss[:k], rss[k:-k], rss[-k:]))
            thirds = m1 < m2 < m3 and m3 - m1 > 2 * MiB
            self.check(not (every_rss or every_fds or thirds), f"no steady growth of the supervisor over "
                       f"{len(steady)} samples after the events", text + (
                           "; RSS grew at every sample" if every_rss else "") + (
                           "; fds grew at every sample" if every_fds else "") + (
                           f"; the thirds' median RSS {m1 / MiB:.1f} < {m2 / MiB:.1f} < {m3 / MiB:.1f} MiB" if thirds else ""))
        else:
            print(f"trend (not checked: {len(steady)} samples after the events, {LONG_RUN_SAMPLES} needed, "
                  f"--minutes 10 or more): supervisor {text}")


def main():
    p = argparse.ArgumentParser()
    for name in ("--binary", "--config", "--url", "--exchange", "--broker", "--log"):
        p.add_argument(name, required=True)
    p.add_argument("--metrics-port", type=int, required=True)
    p.add_argument("--minutes", type=float, default=4)
    p.add_argument("--gap", type=float, default=15, help="idle seconds after each burst")
    p.add_argument("--final-gap", type=float, default=20, help="idle seconds before the supervisor's SIGKILL")
    p.add_argument("--burst", type=int, default=240, help="latency tasks per burst (the other queues get a share)")
    p.add_argument("--deadline-slack", type=float, default=180,
                   help="the run stops, failing, this long after --minutes")
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args()
    a.config = os.path.abspath(a.config)
    soak = Soak(a)
    try:
        soak.run()
    except Deadline as e:
        soak.check(False, "the run went to its end", str(e))
    except Exception as e:
        soak.check(False, "the run", f"{type(e).__name__}: {e}")
    finally:
        # Nothing left behind, whatever happened: the supervisor, then any child of this run.
        if soak.sup and soak.sup.proc.poll() is None:
            soak.sup.proc.kill()
            soak.sup.proc.wait(10)
        for pid in scan_children(a.config):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    passed = sum(1 for ok, _, _ in soak.checks if ok)
    failed = len(soak.checks) - passed
    result = dict(getattr(soak, "result", {}), seed=soak.seed, total_s=round(soak.elapsed(), 1),
                  events=[f"{what} at {t:.0f}s" for what, t in soak.events])
    print(json.dumps(result))
    if failed:
        print("failed: " + "; ".join(name for ok, name, _ in soak.checks if not ok))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
