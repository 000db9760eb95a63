"""Throughput and memory of Warren vs Celery 5 prefork (a scripts/bench section).

Usage (python: the venv of scripts/python-env):

  python bench/throughput.py warren --url URL --port PORT --amqpbench BIN --count N
                                    --warren BIN [--children 2] [--prefetch 100]
  python bench/throughput.py celery --url URL --port PORT --amqpbench BIN --count N
                                    [--children 2] [--prefetch-multiplier 100]
  python bench/throughput.py c --url URL --port PORT --amqpbench BIN --count N --c-ref BIN
                                    [--children 2] [--prefetch 100]

One round: N demo.noop tasks (Celery protocol v2, reply_to set, as every Celery client sends
them) are prefilled in the worker's own queue, then the worker starts and drains it:

  warren  `warren-demo run`, one queue with --children children and prefetch --prefetch each
  celery  bench/celery's app, `celery worker --pool prefork -c CHILDREN`, task_acks_late,
          --prefetch-multiplier M (the prefetch of the whole worker is M x CHILDREN)
  c       the C reference (bench/c, `consume-reply`), CHILDREN processes with --prefetch each:
          take a message, publish its rpc:// reply, ack, nothing else: the ceiling of any worker
          that answers its tasks, on this broker and machine

Each answers every task in the rpc:// result format on its reply_to queue, then ack it. The
finish of a task is detected the same way for both: its result arrives in the reply queue,
which this script watches by its depth (a passive queue.declare every 2 ms, nothing consumed,
so the watcher cannot fall behind). Time runs from the first result seen to the last one:
worker start-up is not counted, and rate = (results - results at the first look) / time.
Each worker acks right after publishing a result, so the last result is also, within one
round trip, the last ack; after the worker stopped, the script checks that the work queue
is empty (a task answered but never acked would be back in it).

Before that, after one idle second (the worker is warm: it just ran N tasks), it reads the
memory of the worker's main process (Warren's supervisor, Celery's parent) and of each child,
and stops the worker (SIGTERM: warm shutdown, then SIGKILL for anything left of its process
group).

Prints one JSON line: {"impl", "count", "seconds", "rate", "memory": {"main", "children"}}.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import benchlib
from benchlib import BenchError

POLL = 0.002        # seconds between two looks at the reply queue
STALL = 60.0        # seconds without a new result before the round is given up


def measure(broker, worker, results_queue, count):
    """Watch the depth of the reply queue until it holds `count` results."""
    first = None
    last_change, last_depth = time.monotonic(), 0
    while True:
        depth, _ = broker.state(results_queue)
        now = time.monotonic()
        if depth and first is None:
            first = (now, depth)
        if depth != last_depth:
            last_change, last_depth = now, depth
        if depth >= count:
            return first, (now, depth)
        if now - last_change > STALL:
            worker.check_alive()
            raise BenchError(f'{worker.kind}: stuck at {depth} of {count} results for {STALL:.0f}s'
                             + benchlib.tail(worker.log))
        time.sleep(POLL)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('impl', choices=['warren', 'celery', 'c'])
    parser.add_argument('--url', required=True, help='AMQP URL of the bench broker')
    parser.add_argument('--port', type=int, required=True, help="the broker's AMQP port")
    parser.add_argument('--amqpbench', required=True, help="bench/swift's AMQPBench binary")
    parser.add_argument('--count', type=int, required=True)
    parser.add_argument('--warren', help='the warren-demo binary')
    parser.add_argument('--c-ref', help="bench/c's amqp_bench_ref binary")
    parser.add_argument('--children', type=int, default=2)
    parser.add_argument('--prefetch', type=int, default=100, help="Warren's prefetch per child")
    parser.add_argument('--prefetch-multiplier', type=int, default=100,
                        help="Celery's worker_prefetch_multiplier")
    opts = parser.parse_args()
    if opts.impl == 'warren' and not opts.warren:
        parser.error('warren needs --warren BIN')
    if opts.impl == 'c' and not opts.c_ref:
        parser.error('c needs --c-ref BIN')

    benchlib.on_sigterm_raise()
    tag = f'{os.getpid()}'
    work_queue = f'bench.{opts.impl}.noop'
    results_queue = f'bench.{opts.impl}.results.{tag}'
    tmp = tempfile.mkdtemp(prefix='warren-bench-')
    log = os.path.join(tmp, f'{opts.impl}.log')
    broker = benchlib.Broker(opts.url)
    worker = None
    try:
        broker.delete(work_queue, results_queue)
        broker.declare(results_queue)
        benchlib.prefill(opts.amqpbench, opts.port, work_queue, opts.count, results_queue)
        if opts.impl == 'warren':
            config = benchlib.warren_config(
                os.path.join(tmp, 'warren.yaml'), opts.url, 'bench',
                [(work_queue, ['demo.noop'], opts.children, opts.prefetch)])
            worker = benchlib.warren_worker(opts.warren, config, log)
        elif opts.impl == 'c':
            worker = benchlib.c_reference_workers(opts.c_ref, opts.port, work_queue, opts.count,
                                                  opts.children, opts.prefetch, log)
        else:
            worker = benchlib.celery_worker(sys.executable, opts.url, work_queue, opts.children,
                                            opts.prefetch_multiplier, log)
        (t0, d0), (t1, d1) = measure(broker, worker, results_queue, opts.count)
        memory = None
        if opts.impl != 'c':  # the C reference exits after its share of the tasks
            time.sleep(1.0)  # idle and warm
            worker.check_alive()
            memory = benchlib.tree_memory(worker.pid)
        worker.stop()
        # Every task was answered; one the worker had not acked would be back in the queue
        # now that its connection is closed.
        left = broker.state(work_queue)[0]
        if left:
            raise BenchError(f'{worker.kind}: {left} tasks back in {work_queue} after all results')
        seconds = t1 - t0
        print(json.dumps({'impl': opts.impl, 'count': opts.count, 'seconds': round(seconds, 4),
                          'rate': (d1 - d0) / seconds if seconds > 0 else float('inf'),
                          'memory': memory}), flush=True)
    finally:
        if worker is not None:
            worker.stop()
        try:
            broker.delete(work_queue, results_queue)
        finally:
            broker.close()
        if os.path.exists(log):
            os.unlink(log)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    try:
        main()
    except BenchError as exc:
        print(f'throughput: {exc}', file=sys.stderr)
        sys.exit(1)
