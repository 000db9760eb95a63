#!/usr/bin/env python3
"""Celery's own remote control and event receiver against a Warren node, for Warren's tests.

Usage (python: the venv that scripts/python-env prints):

  python celery_node.py --broker URL [--timeout 2] COMMAND ...

  inspect NODE METHOD
      app.control.inspect(destination=[NODE], timeout).METHOD(); prints one JSON line:
      {"reply": <the node's reply, or null when it did not answer>}
  broadcast NODE METHOD [--arguments JSON]
      app.control.broadcast(METHOD, arguments, destination=[NODE], reply=True); prints
      {"replies": [{node: reply}, ...]} (how an unknown method's error comes back).
  revoke TASK_ID
      app.control.revoke(TASK_ID); prints {"sent": true}.
  cli NODE ARGS...
      Celery's command line, `python -m celery -b BROKER ARGS... --destination NODE --timeout T`
      (say `inspect ping --json`); prints {"status": <exit status>, "stdout": ..., "stderr": ...}.
  call-revoked EXCHANGE TASK TASK_ID
      app.send_task(TASK, task_id=TASK_ID) through EXCHANGE, then .get(timeout=20); prints
      {"exc_type": ..., "state": ...} (a revoked task raises TaskRevokedError) or
      {"result": ...}.
  heartbeat NODE SECONDS
      an app.events.Receiver on the celeryev exchange; prints {"event": <the first
      worker-heartbeat whose hostname is NODE>} or {"event": null} after SECONDS.
  task-events NODE EXCHANGE SECONDS
      broadcast enable_events to NODE (waiting for its reply), start an app.events.Receiver,
      send demo.add(2, 3) through EXCHANGE and collect the task events with its uuid until
      task-succeeded or SECONDS; prints {"task_id": ..., "enabled": <reply>, "events": [...]}.

  flower NODE EXCHANGE PORT SECONDS
      starts Flower (celery flower, FLOWER_UNAUTHENTICATED_API=true) on 127.0.0.1:PORT, waits
      until /api/workers?status=true says NODE is online and its conf says task events are on
      (Flower's own enable_events), runs demo.add(2, 3) through EXCHANGE,
      waits until /api/task/info/<id> shows it SUCCESS, reads /api/workers and the worker page,
      stops Flower; prints {"online": bool, "workers": <api/workers>, "task": <task info>,
      "worker_page": <HTTP status>}. Each wait gives up after SECONDS.

  flood NODE COUNT
      publishes COUNT malformed control messages to celery.pidbox (not JSON, JSON that is no
      request, wrong types, huge and deep bodies, bad arguments), half of them asking for a
      reply, then pings NODE; prints {"error_replies": <replies with "error" from NODE>,
      "ping": <NODE's ping reply or null>}.

  terminate NODE EXCHANGE
      sends demo.sleep(60) through EXCHANGE, waits until NODE's `active` lists it, then
      app.control.revoke(id, terminate=True, signal='SIGKILL', reply=True) and .get(timeout=20);
      prints {"reply": <the node's revoke reply>, "active": <its entry in `active`>, "now": <time.time()
      after it was seen>, "exc_type": ..., "state": ...,
      "seconds": <from the revoke to get() raising>}.

Exit status: 0 when the line was printed, 2 usage error, 1 anything unexpected.
"""
import argparse
import json
import sys

from celery import Celery
from kombu import Exchange


def make_app(broker):
    app = Celery('warren-node-interop', set_as_current=False)
    app.conf.update(broker_url=broker, result_backend='rpc://', broker_connection_retry_on_startup=False)
    return app


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--broker', required=True)
    parser.add_argument('--timeout', type=float, default=2.0)
    sub = parser.add_subparsers(dest='command', required=True)
    p = sub.add_parser('inspect')
    p.add_argument('node')
    p.add_argument('method')
    p = sub.add_parser('broadcast')
    p.add_argument('node')
    p.add_argument('method')
    p.add_argument('--arguments', type=json.loads, default={})
    p = sub.add_parser('revoke')
    p.add_argument('task_id')
    p = sub.add_parser('cli')
    p.add_argument('node')
    p.add_argument('cli_args', nargs=argparse.REMAINDER)
    p = sub.add_parser('call-revoked')
    p.add_argument('exchange')
    p.add_argument('task')
    p.add_argument('task_id')
    p = sub.add_parser('heartbeat')
    p.add_argument('node')
    p.add_argument('seconds', type=float)
    p = sub.add_parser('task-events')
    p.add_argument('node')
    p.add_argument('exchange')
    p.add_argument('seconds', type=float)
    p = sub.add_parser('flower')
    p.add_argument('node')
    p.add_argument('exchange')
    p.add_argument('port', type=int)
    p.add_argument('seconds', type=float)
    p = sub.add_parser('flood')
    p.add_argument('node')
    p.add_argument('count', type=int)
    p = sub.add_parser('terminate')
    p.add_argument('node')
    p.add_argument('exchange')
    args = parser.parse_args()
    app = make_app(args.broker)

    if args.command == 'inspect':
        inspector = app.control.inspect(destination=[args.node], timeout=args.timeout)
        replies = getattr(inspector, args.method)() or {}
        print(json.dumps({'reply': replies.get(args.node)}))
    elif args.command == 'broadcast':
        replies = app.control.broadcast(
            args.method, arguments=args.arguments, destination=[args.node], reply=True, timeout=args.timeout)
        print(json.dumps({'replies': replies}))
    elif args.command == 'revoke':
        app.control.revoke(args.task_id)
        print(json.dumps({'sent': True}))
    elif args.command == 'call-revoked':
        exchange = Exchange(args.exchange, type='topic', no_declare=True)
        result = app.send_task(args.task, task_id=args.task_id, exchange=exchange, routing_key=args.task)
        try:
            value = result.get(timeout=20)
            print(json.dumps({'result': value}))
        except Exception as exc:  # what .get() raises is what the test checks
            print(json.dumps({'exc_type': type(exc).__name__, 'state': result.state}))
    elif args.command == 'heartbeat':
        found = {}

        def on_event(event):
            if event.get('hostname') == args.node:
                found['event'] = event
                raise KeyboardInterrupt  # stops capture

        with app.connection_for_read() as connection:
            receiver = app.events.Receiver(connection, handlers={'worker-heartbeat': on_event})
            try:
                receiver.capture(limit=None, timeout=args.seconds, wakeup=False)
            except KeyboardInterrupt:
                pass
            except Exception:  # the timeout (socket.timeout) ends the wait
                pass
        print(json.dumps({'event': found.get('event')}))
    elif args.command == 'task-events':
        import threading
        from celery.utils import uuid
        enabled = app.control.broadcast('enable_events', destination=[args.node], reply=True, timeout=args.timeout)
        task_id = uuid()
        events = []

        def on_event(event):
            if event.get('uuid') == task_id:
                events.append(event)
                if event.get('type') == 'task-succeeded':
                    raise KeyboardInterrupt

        def send():
            exchange = Exchange(args.exchange, type='topic', no_declare=True)
            app.send_task('demo.add', args=[2, 3], task_id=task_id, exchange=exchange, routing_key='demo.add',
                          ignore_result=True)

        with app.connection_for_read() as connection:
            receiver = app.events.Receiver(connection, handlers={'*': on_event})
            threading.Timer(1.0, send).start()
            try:
                receiver.capture(limit=None, timeout=args.seconds, wakeup=False)
            except KeyboardInterrupt:
                pass
            except Exception:
                pass
        print(json.dumps({'task_id': task_id, 'enabled': enabled, 'events': events}))
    elif args.command == 'terminate':
        import time
        exchange = Exchange(args.exchange, type='topic', no_declare=True)
        result = app.send_task('demo.sleep', args=[60], exchange=exchange, routing_key='demo.sleep')
        deadline = time.monotonic() + 20
        seen = None
        while time.monotonic() < deadline and seen is None:
            active = (app.control.inspect(destination=[args.node], timeout=args.timeout).active() or {}).get(args.node) or []
            seen = next((task for task in active if task.get('id') == result.id), None)
        started = time.monotonic()
        reply = app.control.revoke(result.id, terminate=True, signal='SIGKILL', reply=True, destination=[args.node])
        outcome = {'reply': reply, 'active': seen, 'now': time.time()}
        try:
            outcome['result'] = result.get(timeout=20)
        except Exception as exc:
            outcome['exc_type'] = type(exc).__name__
        outcome['state'] = result.state
        outcome['seconds'] = time.monotonic() - started
        print(json.dumps(outcome))
    elif args.command == 'cli':
        import subprocess
        run = subprocess.run(
            [sys.executable, '-m', 'celery', '-b', args.broker] + args.cli_args
            + ['--destination', args.node, '--timeout', str(args.timeout)],
            capture_output=True, text=True, timeout=60)
        print(json.dumps({'status': run.returncode, 'stdout': run.stdout, 'stderr': run.stderr}))
    elif args.command == 'flood':
        print(json.dumps(flood(app, args)))
    elif args.command == 'flower':
        print(json.dumps(run_flower(app, args)))
    return 0


def flood(app, args):
    import time
    from kombu import Consumer, Producer, Queue
    from celery.utils import uuid

    ticket = uuid()
    reply_key = 'flood-' + ticket
    reply_to = {'exchange': 'reply.celery.pidbox', 'routing_key': reply_key}
    bodies = [
        b'not json', b'[1, 2]', b'{"method": 5}', b'{"method": ""}', b'{"method": "ping", "arguments": []}',
        b'{' * 5000, b'"' + b'x' * 100000 + b'"',
    ]
    with_reply = [
        {'method': 'revoke', 'arguments': {'task_id': 5}},
        {'method': 'revoke', 'arguments': {'task_id': ['x' * 300]}},
        {'method': 'query_task', 'arguments': {'ids': {'a': 1}}},
        {'method': 'no_such_method\n\x00', 'arguments': {}},
        {'method': 'revoke', 'arguments': {'task_id': 'a', 'terminate': 'yes'}},
        {'method': 'stats', 'arguments': 'not-an-object'},
        {'method': 5},
    ]
    replies = []
    with app.connection_for_write() as connection:
        channel = connection.channel()
        exchange = app.control.mailbox.reply_exchange(channel)
        exchange.declare()
        queue = Queue(reply_key + '.flood', exchange=exchange, routing_key=reply_key, auto_delete=True, channel=channel)
        queue.declare()
        producer = Producer(channel)
        for i in range(args.count):
            if i % 2 == 0:
                body = dict(with_reply[(i // 2) % len(with_reply)], ticket=ticket, reply_to=reply_to)
                body.setdefault('destination', [args.node])
                producer.publish(json.dumps(body), exchange='celery.pidbox', routing_key='', content_type='application/json',
                                 content_encoding='utf-8')
            else:
                producer.publish(bodies[(i // 2) % len(bodies)], exchange='celery.pidbox', routing_key='',
                                 content_type='application/json', content_encoding='utf-8')

        def on_message(body, message):
            replies.append(body)
            message.ack()

        with Consumer(channel, [queue], callbacks=[on_message], accept=['json']):
            deadline = time.monotonic() + 30  # a loaded machine answers slowly; all come or the test says how many
            while time.monotonic() < deadline and len(replies) < args.count // 2:
                try:
                    connection.drain_events(timeout=1)
                except Exception:
                    pass
    errors = [r for r in replies if isinstance(r, dict) and isinstance(r.get(args.node), dict) and 'error' in r[args.node]]
    ping = (app.control.inspect(destination=[args.node], timeout=args.timeout).ping() or {}).get(args.node)
    return {'error_replies': len(errors), 'replies': len(replies), 'ping': ping}


def run_flower(app, args):
    import os
    import subprocess
    import time
    import urllib.error
    import urllib.parse
    import urllib.request

    base = f'http://127.0.0.1:{args.port}'

    def get(path):
        try:
            with urllib.request.urlopen(base + path, timeout=5) as response:
                return response.status, json.loads(response.read() or b'null') if path.startswith('/api') else None
        except urllib.error.HTTPError as error:
            return error.code, None
        except (urllib.error.URLError, ConnectionError, OSError):
            return None, None

    def wait_for(check):
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.2)
        return None

    def die_with_parent():  # Flower must not outlive a killed test (PR_SET_PDEATHSIG = 1)
        import ctypes
        import signal
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)

    env = dict(os.environ, FLOWER_UNAUTHENTICATED_API='true')
    flower = subprocess.Popen(
        [sys.executable, '-m', 'celery', '-b', args.broker, 'flower', f'--port={args.port}', '--address=127.0.0.1'],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)  # its log would fill a pipe nobody reads
    try:
        online = wait_for(lambda: (get('/api/workers?status=true')[1] or {}).get(args.node)) or False
        # Flower sends enable_events at start and every 5 s: wait until the node has them on.
        wait_for(lambda: (((get('/api/workers?refresh=1')[1] or {}).get(args.node) or {}).get('conf') or {}).get(
            'worker_send_task_events'))
        exchange = Exchange(args.exchange, type='topic', no_declare=True)
        result = app.send_task('demo.add', args=[2, 3], exchange=exchange, routing_key='demo.add')
        result.get(timeout=args.seconds)
        task = wait_for(lambda: (lambda info: info if info and info.get('state') == 'SUCCESS' else None)(
            get('/api/task/info/' + result.id)[1]))
        workers = get('/api/workers?refresh=1')[1]
        page = get('/worker/' + urllib.parse.quote(args.node))[0]
        return {'online': online, 'workers': workers, 'task': task, 'worker_page': page}
    finally:
        flower.terminate()
        try:
            flower.wait(timeout=3)
        except subprocess.TimeoutExpired:  # Flower takes its time to stop; nothing to keep
            flower.kill()
            flower.wait()


if __name__ == '__main__':
    sys.exit(main())
