"""Helpers shared by the Python parts of scripts/bench (bench/throughput.py, isolation.py,
startup.py, scale.py): the workers as child processes, their memory and CPU time, a
NOTIFY_SOCKET of our own, and the broker as seen through plain AMQP (py-amqp, the client
Celery itself uses).

The broker and message helpers need the venv of scripts/python-env (Celery 5, kombu, py-amqp);
they import it when called, so the rest works with any python3 (bench/startup.py runs so).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from queue import Empty, Queue

HERE = os.path.dirname(os.path.abspath(__file__))
CELERY_APP_DIR = os.path.join(HERE, 'celery')


class BenchError(Exception):
    """A benchmark step failed; the message says what and where to look."""


def on_sigterm_raise():
    """Turn SIGTERM into SystemExit, so `finally` blocks stop the workers we started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# ----------------------------------------------------------------------------- broker

def connect(url):
    """An open py-amqp connection to an amqp:// URL (host, port, user, password, vhost)."""
    import amqp
    u = urllib.parse.urlsplit(url)
    vhost = urllib.parse.unquote(u.path[1:]) if len(u.path) > 1 else '/'
    conn = amqp.Connection(host=f'{u.hostname}:{u.port or 5672}', userid=u.username or 'guest',
                           password=u.password or 'guest', virtual_host=vhost, heartbeat=0)
    conn.connect()
    return conn


def queue_state(channel, name):
    """(ready messages, consumers) of queue `name`, by a passive declare; (None, 0) if absent."""
    import amqp
    try:
        ok = channel.queue_declare(name, passive=True)
        return ok.message_count, ok.consumer_count
    except amqp.exceptions.NotFound:
        return None, 0


class Broker:
    """One connection for polling queues. A passive declare of a missing queue closes the
    channel (404), so every call runs on a channel that is reopened when needed."""

    def __init__(self, url):
        self.url = url
        self.conn = connect(url)
        self.channel = self.conn.channel()

    def _channel(self):
        if not self.channel.is_open:
            self.channel = self.conn.channel()
        return self.channel

    def state(self, name):
        return queue_state(self._channel(), name)

    def declare(self, name, durable=True):
        self._channel().queue_declare(name, durable=durable, auto_delete=False)

    def delete(self, *names):
        for name in names:
            self._channel().queue_delete(name)

    def wait_consumers(self, queues, timeout, proc=None, log=None):
        """Until every queue in `queues` (name -> consumers wanted) has that many consumers."""
        deadline = time.monotonic() + timeout
        while True:
            if all(self.state(q)[1] >= n for q, n in queues.items()):
                return
            if proc is not None and proc.poll() is not None:
                raise BenchError(f'worker exited with status {proc.returncode} before consuming'
                                 + tail(log))
            if time.monotonic() > deadline:
                raise BenchError(f'no consumers on {", ".join(queues)} after {timeout:.0f}s' + tail(log))
            time.sleep(0.05)

    def close(self):
        try:
            self.conn.close()
        except Exception:  # the broker may be gone already; nothing to clean up then
            pass


# ----------------------------------------------------------------------------- messages

class TaskPublisher:
    """Publishes tasks exactly as a Celery 5 client does (protocol v2 headers from Celery's own
    `as_task_v2`, JSON body, persistent, correlation_id = id), on a channel of its own."""

    def __init__(self, url):
        # Celery's message builder, without a broker connection of its own.
        from celery import Celery
        self.app = Celery('warren-bench-client', set_as_current=False)
        self.conn = connect(url)
        self.channel = self.conn.channel()

    def publish(self, name, args=(), kwargs=None, exchange='', routing_key='', reply_to='',
                ignore_result=False):
        """Publish one task; returns its id."""
        import amqp
        task_id = str(uuid.uuid4())
        msg = self.app.amqp.as_task_v2(task_id, name, args=args, kwargs=kwargs or {},
                                       ignore_result=ignore_result)
        body = json.dumps(list(msg.body))
        message = amqp.Message(body, content_type='application/json', content_encoding='utf-8',
                               application_headers=msg.headers, correlation_id=task_id,
                               reply_to=reply_to, delivery_mode=2, priority=0)
        self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
        return task_id

    def close(self):
        try:
            self.conn.close()
        except Exception:
            pass


def prefill_argv(amqpbench, port, queue, count, reply_to=None):
    """The command that publishes `count` demo.noop tasks (Celery v2, persistent; with
    reply_to, answered there) straight to `queue` (or round-robin over a comma-separated list
    of queues), with bench/swift's AMQPBench (publisher confirms; far faster than py-amqp)."""
    argv = [amqpbench, 'prefill-tasks', '127.0.0.1', str(port), queue, str(count), 'demo.noop']
    return argv + ([reply_to] if reply_to else [])


def prefill(amqpbench, port, queue, count, reply_to=None):
    """Run prefill_argv(...) to its end."""
    out = subprocess.run(prefill_argv(amqpbench, port, queue, count, reply_to), capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise BenchError(f'prefill of {queue} failed: {out.stderr.strip()}')


# ----------------------------------------------------------------------------- processes

def tail(log, lines=20):
    if not log or not os.path.exists(log):
        return ''
    with open(log, errors='replace') as f:
        text = f.readlines()[-lines:]
    return f'\n---- last lines of {log}\n' + ''.join(text)


class Worker:
    """A worker under test: its own session (so that its whole process group can be stopped),
    stderr to a log file. Stopped with SIGTERM (a warm shutdown for both Warren and Celery),
    then SIGKILL for anything of its group still alive."""

    def __init__(self, kind, argv, log, env=None, cwd=None):
        self.kind = kind
        self.log = log
        with open(log, 'w') as f:
            self.proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, env=env,
                                         cwd=cwd, start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def check_alive(self):
        if self.proc.poll() is not None:
            raise BenchError(f'{self.kind} exited with status {self.proc.returncode}' + tail(self.log))

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f'{self.kind}: no warm shutdown within {timeout}s; killing it', file=sys.stderr)
        # Children that outlived their parent (none should): the whole group goes.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            time.sleep(0.5)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def warren_worker(binary, config, log, env=None):
    return Worker('warren-demo', [binary, 'run', '--config', config], log, env=env)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now (for a metrics port)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class NotifySocket:
    """A NOTIFY_SOCKET of our own, as systemd gives a Type=notify service: the supervisor
    sends READY=1 once every child consumes, then STATUS= lines ("100/100 children consuming,
    N tasks done") on changes, at most every 2 s for the task count. Use as a context manager.

    A thread reads every datagram as it comes, as systemd does: the supervisor's sends block
    once the socket's queue is full (net.unix.max_dgram_qlen, often 10 datagrams), and it sends
    one STATUS per child that stops, so a reader that stopped after READY=1 would hang a
    shutdown with many children."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix='warren-bench-notify-')
        self.path = os.path.join(self.dir, 'notify')
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.received = Queue()
        self.closing = threading.Event()
        self.reader = threading.Thread(target=self._read, name='notify-reader', daemon=True)
        self.reader.start()

    def _read(self):
        while not self.closing.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.received.put((time.monotonic(), data.decode(errors='replace')))

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def env(self):
        """os.environ with NOTIFY_SOCKET pointing here (and no watchdog of an outer systemd)."""
        env = {k: v for k, v in os.environ.items() if k not in ('WATCHDOG_USEC', 'WATCHDOG_PID')}
        env['NOTIFY_SOCKET'] = self.path
        return env

    def receive(self, timeout):
        """(time.monotonic() at arrival, {field: value}) of the next datagram, or None after
        `timeout` seconds without one."""
        try:
            at, data = self.received.get(timeout=max(timeout, 0.001))
        except Empty:
            return None
        return at, dict(line.split('=', 1) for line in data.splitlines() if '=' in line)

    def wait_ready(self, worker, timeout=60):
        """(arrival time, fields) of the READY=1 datagram; raises BenchError if the worker
        exits first or nothing comes within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.receive(min(0.5, deadline - time.monotonic()))
            if got and got[1].get('READY') == '1':
                return got
            worker.check_alive()
            if time.monotonic() >= deadline:
                raise BenchError(f'{worker.kind}: no READY=1 within {timeout:.0f}s' + tail(worker.log))

    def close(self):
        self.closing.set()
        self.reader.join()
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def tasks_done(status):
    """The task count of a supervisor's STATUS= line ("..., 1234 tasks done"), or None."""
    m = re.search(r'(\d+) tasks done', status or '')
    return int(m.group(1)) if m else None


def c_reference_workers(binary, port, queue, count, processes, prefetch, log):
    """`processes` C reference consumers (bench/c, consume-reply), count/processes tasks each."""
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    script = ' & '.join(f'"$0" consume-reply 127.0.0.1 {port} {queue} {n} {prefetch}' for n in shares)
    return Worker('c reference', ['sh', '-c', script + '; wait', binary], log)


def celery_worker(python, broker_url, queue, concurrency, prefetch_multiplier, log):
    """`celery worker` with the prefork pool, the app of bench/celery, consuming `queue`."""
    argv = [python, '-m', 'celery', '--workdir', CELERY_APP_DIR, '-A', 'benchapp', 'worker',
            '--pool', 'prefork', '--concurrency', str(concurrency), '--queues', queue,
            '--prefetch-multiplier', str(prefetch_multiplier), '--loglevel', 'WARNING',
            '--hostname', f'bench-{os.getpid()}@%h']
    env = dict(os.environ, WARREN_BENCH_BROKER_URL=broker_url)
    return Worker('celery', argv, log, env=env)


def celery_argv_text(concurrency, prefetch_multiplier, queue):
    return (f'celery -A benchapp worker --pool prefork -c {concurrency} -Q {queue} '
            f'--prefetch-multiplier {prefetch_multiplier}')


def warren_config(path, url, exchange, queues, metrics_listen=None):
    """Write a Warren config: `queues` is a list of (name, routes, children, prefetch); the
    metrics port is off unless `metrics_listen` ("127.0.0.1:PORT") is given."""
    lines = ['broker:', f'  url: {url}', f'exchange: {exchange}', 'queues:']
    for name, routes, children, prefetch in queues:
        lines += [f'  {name}:', f'    routes: {json.dumps(routes)}', f'    children: {children}',
                  f'    prefetch: {prefetch}']
    lines += ['log:', '  level: warning', 'metrics:']
    lines += [f'  listen: "{metrics_listen}"'] if metrics_listen else ['  enabled: false']
    lines += ['']
    with open(path, 'w') as f:
        f.write('\n'.join(lines))
    return path


# ----------------------------------------------------------------------------- memory

def memory_kib(pid):
    """RSS, PSS (shared pages split between the processes sharing them) and private (USS)
    memory of one process, in KiB, from /proc/PID/smaps_rollup."""
    fields = {}
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(':') and parts[1].isdigit():
                fields[parts[0][:-1]] = int(parts[1])
    return {'rss': fields.get('Rss', 0), 'pss': fields.get('Pss', 0),
            'private': fields.get('Private_Clean', 0) + fields.get('Private_Dirty', 0)}


def cpu_seconds(pid):
    """User + system CPU time of process `pid`, all its threads (not its reaped children),
    from /proc/PID/stat (utime and stime, fields 14 and 15, in clock ticks)."""
    with open(f'/proc/{pid}/stat') as f:
        stat = f.read()
    fields = stat[stat.rindex(')') + 2:].split()  # field 3 (state) onwards; comm may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def children(pid):
    out = []
    for tid in os.listdir(f'/proc/{pid}/task'):
        with open(f'/proc/{pid}/task/{tid}/children') as f:
            out += [int(p) for p in f.read().split()]
    return out


def tree_memory(pid):
    """{"main": memory of pid, "children": [memory of each direct child]}."""
    return {'main': memory_kib(pid), 'children': [memory_kib(c) for c in children(pid)]}


def percentile(values, p):
    """The p-th percentile (0..100) by linear interpolation between closest ranks."""
    xs = sorted(values)
    if not xs:
        return float('nan')
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)
