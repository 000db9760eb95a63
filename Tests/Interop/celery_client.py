#!/usr/bin/env python3
"""A real Celery client, for Warren's interop tests.

Usage (python: the venv that scripts/python-env prints):

  python celery_client.py --broker URL --exchange NAME [--timeout 30] COMMAND ...

  call TASK [--args JSON] [--kwargs JSON]
      app.send_task(TASK, exchange=<topic exchange NAME>, routing_key=TASK), then
      .get(timeout). Prints one JSON line:
        {"ok": true, "result": <value>, "task_id": "..."}                  on success
        {"ok": false, "exc_type": "...", "exc_module": "...",
         "message": "<str(exc)>", "task_id": "..."}                         when .get() raises
  send TASK [--args JSON] [--kwargs JSON]
      as call, with ignore_result=True and no waiting. Prints {"task_id": "..."}.
  queue-call QUEUE TASK [--args JSON] [--kwargs JSON] [--no-declare]
      app.send_task(TASK, queue=QUEUE): Celery publishes to the default exchange with
      routing key QUEUE, after declaring (as Celery always does) a durable classic queue
      QUEUE, a direct exchange QUEUE and the binding between them. --no-declare sends
      without declaring anything (for a queue Celery's declare would conflict with,
      e.g. a quorum queue). Waits and prints like call.

Exit status: 0 when the line was printed (whatever the task's outcome), 2 usage error,
1 anything unexpected (traceback on stderr).

The client never declares the exchange NAME (Warren owns it, with arguments Celery
does not know), nor Celery's default `celery` queue; it declares only its rpc://
reply queue, as every Celery client does.
"""
import argparse
import json
import sys


def json_arg(kind):
    def parse(text):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f'not JSON: {exc}')
        if not isinstance(value, kind):
            raise argparse.ArgumentTypeError(
                f'must be a JSON {"array" if kind is list else "object"}')
        return value
    return parse


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--broker', required=True, help='AMQP URL')
    parser.add_argument('--exchange', required=True, help="Warren's topic exchange")
    parser.add_argument('--timeout', type=float, default=30.0,
                        help='seconds to wait for the result (default 30)')
    commands = parser.add_subparsers(dest='command', required=True)

    def task_args(p):
        p.add_argument('task')
        p.add_argument('--args', type=json_arg(list), default=[], help='JSON array')
        p.add_argument('--kwargs', type=json_arg(dict), default={}, help='JSON object')

    task_args(commands.add_parser('call', help='send to the exchange and wait'))
    task_args(commands.add_parser('send', help='send to the exchange, do not wait'))
    p = commands.add_parser('queue-call', help='send straight to a queue and wait')
    p.add_argument('queue')
    task_args(p)
    p.add_argument('--no-declare', action='store_true',
                   help='do not declare the queue before publishing')
    return parser.parse_args(argv)


def make_app(broker):
    from celery import Celery
    app = Celery('warren-interop', set_as_current=False)
    app.conf.update(
        broker_url=broker,
        result_backend='rpc://',
        task_serializer='json',
        accept_content=['json'],
        result_serializer='json',
        result_accept_content=['json'],
        broker_connection_retry_on_startup=True,
    )
    return app


def send(app, opts, **route):
    from kombu import Exchange, Queue
    if opts.command == 'queue-call':
        if opts.no_declare:
            route['queue'] = Queue(opts.queue, Exchange(''), routing_key=opts.queue,
                                   no_declare=True)
        else:
            route['queue'] = opts.queue
    else:
        route.update(
            exchange=Exchange(opts.exchange, type='topic', no_declare=True),
            routing_key=opts.task,
            # Without a queue, Celery would route to (and declare) its default
            # `celery` queue, even though the message goes to the exchange above.
            declare=[],
        )
    return app.send_task(opts.task, args=opts.args, kwargs=opts.kwargs, **route)


def wait(result, timeout):
    try:
        return {'ok': True, 'result': result.get(timeout=timeout), 'task_id': result.id}
    except Exception as exc:
        return {'ok': False, 'exc_type': type(exc).__name__,
                'exc_module': type(exc).__module__, 'message': str(exc),
                'task_id': result.id}


def main(argv=None):
    opts = parse_args(argv)
    app = make_app(opts.broker)
    try:
        if opts.command == 'send':
            out = {'task_id': send(app, opts, ignore_result=True).id}
        else:
            out = wait(send(app, opts), opts.timeout)
    finally:
        app.close()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
