"""Isolation latency of Warren vs Celery 5 prefork (a scripts/bench section).

Usage (python: the venv of scripts/python-env):

  python bench/isolation.py warren --url URL --warren BIN [--sleeps 200] [--sleep-seconds 0.5]
                                   [--noops 200] [--rate 20]
  python bench/isolation.py celery --url URL [the same options]

Two processes of each worker run the tasks (Warren: one child per queue; Celery: -c 2):

  warren  `warren-demo run` with its routes: demo.sleep -> queue bench.slow (1 child, prefetch 1),
          demo.noop -> queue bench.latency (1 child, prefetch 8); tasks are published to its
          topic exchange with the task name as routing key, as Celery clients do for it
  celery  bench/celery's app with Celery's default setup: every task in the one `celery`
          queue, `celery worker --pool prefork -c 2`, prefetch multiplier 4 (Celery's default)

Once the worker consumes, --sleeps demo.sleep tasks (ignore_result) flood it at once, then
--noops demo.noop tasks are published at --rate per second, each with reply_to our own reply
queue. For every noop two delays are taken from its publish time (wall clock, this machine):

  done   the result's date_done, stamped by the worker when the task finished (Celery's
         rpc:// result format, which Warren writes too): demo.noop does nothing, so this is
         publish-to-start plus the task's own microseconds, and the primary figure
  reply  the result's arrival in our reply queue: the full round trip, an upper bound

Both are upper bounds of publish-to-start. The script stops once every noop has answered (or
after a timeout that covers Celery draining the whole flood first), stops the worker, and
deletes its queues, flood leftovers included.

Prints one JSON line: {"impl", "noops", "answered", "done_ms": {p50, p99, max}, "reply_ms":
{...}, "flood_left": sleeps still queued when the last noop answered}.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import datetime

import amqp

import benchlib
from benchlib import BenchError


class Replies(threading.Thread):
    """Consumes the reply queue on a connection of its own; records per task id the arrival
    time and the worker's date_done (both as Unix time in seconds)."""

    def __init__(self, url, queue):
        super().__init__(daemon=True)
        self.conn = benchlib.connect(url)
        self.channel = self.conn.channel()
        self.channel.queue_declare(queue, durable=True, auto_delete=False)
        self.channel.basic_consume(queue, no_ack=True, callback=self.on_message)
        self.got = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def on_message(self, message):
        arrived = time.time()
        reply = json.loads(message.body)
        done = reply.get('date_done')
        done = datetime.fromisoformat(done).timestamp() if done else None
        task_id = message.properties.get('correlation_id') or reply.get('task_id')
        with self.lock:
            self.got[task_id] = (arrived, done, reply.get('status'))

    def run(self):
        while not self.stopping.is_set():
            try:
                self.conn.drain_events(timeout=0.1)
            except TimeoutError:  # socket.timeout: nothing arrived in 0.1 s
                pass

    def count(self):
        with self.lock:
            return len(self.got)

    def stop(self):
        self.stopping.set()
        self.join(timeout=5)
        try:
            self.conn.close()
        except Exception:
            pass


def stats(values):
    ms = [v * 1000 for v in values]
    return {'p50': benchlib.percentile(ms, 50), 'p99': benchlib.percentile(ms, 99),
            'max': max(ms) if ms else float('nan')}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('impl', choices=['warren', 'celery'])
    parser.add_argument('--url', required=True, help='AMQP URL of the bench broker')
    parser.add_argument('--warren', help='the warren-demo binary')
    parser.add_argument('--sleeps', type=int, default=200)
    parser.add_argument('--sleep-seconds', type=float, default=0.5)
    parser.add_argument('--noops', type=int, default=200)
    parser.add_argument('--rate', type=float, default=20.0, help='noops per second')
    opts = parser.parse_args()
    if opts.impl == 'warren' and not opts.warren:
        parser.error('warren needs --warren BIN')

    benchlib.on_sigterm_raise()
    tmp = tempfile.mkdtemp(prefix='warren-bench-')
    log = os.path.join(tmp, f'{opts.impl}.log')
    reply_queue = f'bench.iso.replies.{os.getpid()}'
    if opts.impl == 'warren':
        exchange = 'bench.iso'
        queues = {'bench.latency': 1, 'bench.slow': 1}
        route = {'demo.noop': (exchange, 'demo.noop'), 'demo.sleep': (exchange, 'demo.sleep')}
        flood_queue = 'bench.slow'
    else:
        # Celery's default: one direct exchange `celery`, published to through the default
        # exchange with routing key = queue name (what send_task does with no routes).
        queues = {'celery': 1}
        route = {'demo.noop': ('', 'celery'), 'demo.sleep': ('', 'celery')}
        flood_queue = 'celery'
    broker = benchlib.Broker(opts.url)
    worker = replies = publisher = None
    try:
        broker.delete(*queues, reply_queue)
        if opts.impl == 'warren':
            config = benchlib.warren_config(
                os.path.join(tmp, 'warren.yaml'), opts.url, exchange,
                [('bench.latency', ['demo.noop'], 1, 8), ('bench.slow', ['demo.sleep'], 1, 1)])
            worker = benchlib.warren_worker(opts.warren, config, log)
        else:
            worker = benchlib.celery_worker(sys.executable, opts.url, 'celery', 2, 4, log)
        broker.wait_consumers(queues, 60, worker.proc, log)
        replies = Replies(opts.url, reply_queue)
        replies.start()
        publisher = benchlib.TaskPublisher(opts.url)

        for _ in range(opts.sleeps):
            publisher.publish('demo.sleep', args=(opts.sleep_seconds,), ignore_result=True,
                              exchange=route['demo.sleep'][0], routing_key=route['demo.sleep'][1])
        published = {}
        start = time.monotonic()
        for i in range(opts.noops):
            delay = start + i / opts.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.time()
            task_id = publisher.publish('demo.noop', reply_to=reply_queue,
                                        exchange=route['demo.noop'][0],
                                        routing_key=route['demo.noop'][1])
            published[task_id] = sent

        # Celery answers the noops only after the sleeps ahead of them: allow for the whole
        # flood on 2 processes, plus slack.
        timeout = opts.sleeps * opts.sleep_seconds / 2 + 60
        deadline = time.monotonic() + timeout
        while replies.count() < opts.noops and time.monotonic() < deadline:
            worker.check_alive()
            time.sleep(0.05)
        flood_left = broker.state(flood_queue)[0]
        replies.stop()
        got = dict(replies.got)
        done = [got[t][1] - sent for t, sent in published.items() if t in got and got[t][1]]
        reply = [got[t][0] - sent for t, sent in published.items() if t in got]
        failed = [t for t in published if t in got and got[t][2] != 'SUCCESS']
        if failed:
            raise BenchError(f'{len(failed)} noops did not succeed: {got[failed[0]]}')
        strays = len(got) - len(reply)  # replies to anything but our noops (there should be none)
        if strays:
            raise BenchError(f'{strays} replies to tasks that were not our noops (ignore_result not honoured?)')
        print(json.dumps({'impl': opts.impl, 'noops': opts.noops, 'answered': len(reply),
                          'done_ms': stats(done), 'reply_ms': stats(reply),
                          'flood_left': flood_left}), flush=True)
        if len(reply) < opts.noops:
            raise BenchError(f'{worker.kind}: only {len(reply)} of {opts.noops} noops answered '
                             f'within {timeout:.0f}s' + benchlib.tail(log))
    finally:
        if replies is not None and replies.is_alive():
            replies.stop()
        if publisher is not None:
            publisher.close()
        if worker is not None:
            worker.stop()
        try:
            broker.delete(*queues, reply_queue)
        finally:
            broker.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    try:
        main()
    except BenchError as exc:
        print(f'isolation: {exc}', file=sys.stderr)
        sys.exit(1)
