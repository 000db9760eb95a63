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
    return 0


if __name__ == '__main__':
    sys.exit(main())
