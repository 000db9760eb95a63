"""Scale: one supervisor with many children (a scripts/bench section, issue 11).

Usage (python: the venv of scripts/python-env):

  python bench/scale.py --url URL --port PORT --amqpbench BIN --warren BIN
                        [--children 100] [--count 50000] [--prefetch 100] [--starts 3] [--rounds 1]

`warren-demo run` with CHILDREN children, 2 per queue (50 queues x 2 by default), each queue
consumed straight (publishing to a queue by name needs no route: the `task` header names the
task), metrics port on as in production (nothing scrapes it).

  start-up  STARTS times, with the queues empty: exec -> READY=1 on a NOTIFY_SOCKET of our own
            (sent once every child consumes), then, idle 1 s, the supervisor's memory.
  reports   ROUNDS times: the supervisor starts on empty queues; once READY=1 (every child
            consumes), COUNT demo.noop tasks (Celery v2, persistent) are published round-robin
            over the queues by one AMQPBench process (far faster than the children drain them,
            so the queues fill up), and every child drains its queue, reporting each task to
            the supervisor over its pipe. (Tasks prefilled before the start would mostly be done
            before READY=1: 100 children take a while to start, and the spawning would mix with
            the reports.) The supervisor's task count comes from its own STATUS= lines ("N tasks
            done", sent every 2 s while it changes, as under systemd: nothing extra asked of
            it); at each one the script reads the supervisor's CPU time (utime + stime of
            /proc/PID/stat, all its threads, not its children). The window runs from the first
            STATUS with tasks done to the last one with tasks left, all children busy; a run
            too short for two such lines is measured from READY=1 to the STATUS that counted
            every task (idle edges included: a lower tasks/s and CPU %, about the same CPU per
            task):
              tasks/s = tasks done in the window / its wall time
              CPU     = supervisor CPU time in the window / its wall time (% of one core)
              per 10k = CPU * 10000 / tasks/s (= CPU seconds per task x 10^4: what the
                        supervisor would need at 10k tasks/s of reports, if it scales linearly)
            Then the supervisor's memory (warm, idle 1 s), a warm shutdown, and a check that
            every queue is empty (a task taken but never acked would be back).

Prints one JSON line: {"children", "queues", "count", "ready_ms", "ready_runs_ms",
"supervisor_idle", "load": [per round: "ready_ms", "tasks", "seconds", "rate", "cpu_percent",
"cpu_per_10k", "window", "samples", "publish_rate", "startup_cpu_s", "supervisor_warm"], and the medians "rate", "cpu_percent",
"cpu_per_10k"}. Memory in KiB (rss, pss, private).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import benchlib
from benchlib import BenchError

STALL = 60.0       # seconds without a new task count (or anything from the supervisor) before giving up
READY_TIMEOUT = 60.0


def layout(children):
    """[(queue, children)]: 2 children per queue, one queue with 1 if the number is odd."""
    queues = [2] * (children // 2) + ([1] if children % 2 else [])
    return [(f'bench.scale.q{i:03d}', n) for i, n in enumerate(queues)]


def shares(count, parts):
    return [count // parts + (1 if i < count % parts else 0) for i in range(parts)]


class Run:
    """One supervisor under test, with its config, log and notify socket; stopped on exit."""

    def __init__(self, opts, tmp, queues):
        self.opts = opts
        self.log = os.path.join(tmp, 'warren.log')
        self.config = benchlib.warren_config(
            os.path.join(tmp, 'scale.yaml'), opts.url, 'bench.scale',
            [(q, [], n, opts.prefetch) for q, n in queues],
            metrics_listen=f'127.0.0.1:{benchlib.free_port()}')
        self.notify = benchlib.NotifySocket()
        self.worker = None

    def __enter__(self):
        try:
            self.start = time.monotonic()
            self.worker = benchlib.warren_worker(self.opts.warren, self.config, self.log,
                                                 env=self.notify.env())
        except BaseException:
            self.notify.close()
            raise
        return self

    def __exit__(self, *_):
        try:
            if self.worker is not None:
                self.worker.stop()
        finally:
            self.notify.close()

    def ready(self):
        """Seconds from exec to READY=1; checks that every child is there."""
        at, _ = self.notify.wait_ready(self.worker, READY_TIMEOUT)
        kids = len(benchlib.children(self.worker.pid))
        if kids != self.opts.children:
            raise BenchError(f'{kids} children after READY=1, not {self.opts.children}'
                             + benchlib.tail(self.log))
        return at - self.start

    def samples(self, count, publisher):
        """[(time, tasks done, supervisor CPU s)] at each STATUS with a task count, until one
        says `count` or more; gives up if `publisher` fails or the count stalls."""
        pid = self.worker.pid
        out = []
        last_change = time.monotonic()
        while True:
            got = self.notify.receive(1.0)
            now = time.monotonic()
            if got:
                done = benchlib.tasks_done(got[1].get('STATUS'))
                if done is not None:
                    out.append((got[0], done, benchlib.cpu_seconds(pid)))
                    if len(out) == 1 or done != out[-2][1]:
                        last_change = now
                    if done >= count:
                        return out
            self.worker.check_alive()
            if publisher.poll():
                raise BenchError(f'publishing failed (status {publisher.returncode})')
            if now - last_change > STALL:
                seen = out[-1][1] if out else 0
                raise BenchError(f'stuck at {seen} of {count} tasks done for {STALL:.0f}s'
                                 + benchlib.tail(self.log))


def window(samples, count):
    """The measured stretch of `samples` and its kind: from the first with tasks done to the
    last with tasks left ("busy"), or, without two such, the whole of it ("whole")."""
    busy = [s for s in samples if 0 < s[1] < count]
    if len(busy) >= 2:
        return busy[0], busy[-1], 'busy'
    return samples[0], samples[-1], 'whole'


def startup_round(opts, queues):
    tmp = tempfile.mkdtemp(prefix='warren-bench-scale-')
    try:
        with Run(opts, tmp, queues) as run:
            ready = run.ready()
            time.sleep(1.0)  # idle: let allocations settle before reading RSS
            run.worker.check_alive()
            return ready, benchlib.memory_kib(run.worker.pid)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_round(opts, queues, broker):
    names = [q for q, _ in queues]
    broker.delete(*names)
    tmp = tempfile.mkdtemp(prefix='warren-bench-scale-')
    publisher = None
    try:
        with Run(opts, tmp, queues) as run:
            ready = run.ready()
            startup_cpu = benchlib.cpu_seconds(run.worker.pid)
            with open(os.path.join(tmp, 'publish.out'), 'w') as out:
                publisher = subprocess.Popen(
                    benchlib.prefill_argv(opts.amqpbench, opts.port, ','.join(names), opts.count),
                    stdout=out, stderr=subprocess.STDOUT)
            samples = run.samples(opts.count, publisher)
            publisher.wait(timeout=60)
            with open(os.path.join(tmp, 'publish.out')) as f:
                published = f.read().split()
            if publisher.returncode != 0:
                raise BenchError('publishing failed: ' + ' '.join(published))
            (t0, n0, c0), (t1, n1, c1), kind = window(samples, opts.count)
            if n1 <= n0 or t1 <= t0:
                raise BenchError(f'only one task count ({n1} of {opts.count} done) from the '
                                 f'supervisor: raise --scale-count')
            time.sleep(1.0)  # idle and warm
            run.worker.check_alive()
            warm = benchlib.memory_kib(run.worker.pid)
            run.worker.stop()
            if run.worker.proc.returncode != 0:
                raise BenchError(f'warren-demo exited with status {run.worker.proc.returncode}'
                                 + benchlib.tail(run.log))
        left = sum(broker.state(q)[0] or 0 for q in names)
        if left:
            raise BenchError(f'{left} tasks left in the queues after the run')
        seconds, tasks, cpu = t1 - t0, n1 - n0, c1 - c0
        rate = tasks / seconds
        cpu_percent = 100 * cpu / seconds
        return {'ready_ms': ready * 1000, 'tasks': tasks, 'seconds': round(seconds, 3),
                'rate': rate, 'cpu_percent': cpu_percent, 'cpu_per_10k': cpu_percent * 10000 / rate,
                'window': kind, 'samples': len(samples),
                'publish_rate': float(published[3]) if len(published) > 3 else None,
                'startup_cpu_s': startup_cpu, 'supervisor_warm': warm}
    finally:
        if publisher is not None and publisher.poll() is None:
            publisher.kill()
            publisher.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--url', required=True, help='AMQP URL of the bench broker')
    parser.add_argument('--port', type=int, required=True, help="the broker's AMQP port")
    parser.add_argument('--amqpbench', required=True, help="bench/swift's AMQPBench binary")
    parser.add_argument('--warren', required=True, help='the warren-demo binary')
    parser.add_argument('--children', type=int, default=100)
    parser.add_argument('--count', type=int, default=50000, help='tasks per load round')
    parser.add_argument('--prefetch', type=int, default=100, help='prefetch per child')
    parser.add_argument('--starts', type=int, default=3, help='start-up rounds (queues empty)')
    parser.add_argument('--rounds', type=int, default=1, help='load rounds')
    opts = parser.parse_args()
    if min(opts.children, opts.count, opts.prefetch, opts.starts, opts.rounds) < 1:
        parser.error('counts must be positive')

    benchlib.on_sigterm_raise()
    queues = layout(opts.children)
    names = [q for q, _ in queues]
    broker = benchlib.Broker(opts.url)
    try:
        broker.delete(*names)
        starts = []
        for i in range(opts.starts):
            print(f'scale: start-up {i + 1}/{opts.starts} ({opts.children} children)...', file=sys.stderr)
            starts.append(startup_round(opts, queues))
        loads = []
        for i in range(opts.rounds):
            print(f'scale: reports round {i + 1}/{opts.rounds} ({opts.count} tasks over '
                  f'{len(queues)} queues)...', file=sys.stderr)
            loads.append(load_round(opts, queues, broker))
    finally:
        try:
            broker.delete(*names)
        finally:
            broker.close()

    def med(values):
        return statistics.median(list(values))
    print(json.dumps({
        'children': opts.children, 'queues': len(queues), 'count': opts.count,
        'ready_ms': med(r[0] * 1000 for r in starts),
        'ready_runs_ms': [round(r[0] * 1000, 1) for r in starts],
        'supervisor_idle': {k: med(r[1][k] for r in starts) for k in ('rss', 'pss', 'private')},
        'load': loads,
        **{k: med(r[k] for r in loads) for k in ('rate', 'cpu_percent', 'cpu_per_10k')},
    }), flush=True)


if __name__ == '__main__':
    try:
        main()
    except BenchError as exc:
        print(f'scale: {exc}', file=sys.stderr)
        sys.exit(1)
