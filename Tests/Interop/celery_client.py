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

  canvas SCENARIO
      Celery's canvas through Warren's exchange, built with Celery's own signatures:
        chain      chain(add(2, 2), add(4), add(10))            -> 18
        immutable  chain(add(2, 2), add.si(1, 1))               -> 2
        link       add(2, 3) with link=add(10): the callback's result (15)
        link_error fail("boom") with link_error=args(): the errback's result,
                   {"args": [<failed task id>], "kwargs": {}}; "failed_id" is printed too
        retrying   chain(add(1, 1), flaky(fail_times=2) immutable, add(5)) -> 8
        failing    chain(add(1, 1), fail("step two broke") immutable, add(5)): the caller
                   gets the failure (the last step never runs)
        chord      add(1, 2) sent with a chord body (Warren refuses chords)
      Prints like call (the awaited result is the last step's, or the callback's).

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
    p = commands.add_parser('canvas', help="Celery's canvas through Warren")
    p.add_argument('scenario', choices=['chain', 'immutable', 'link', 'link_error', 'retrying', 'failing', 'chord'])
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


def canvas(app, opts):
    """Runs one canvas scenario; returns the AsyncResult to wait for and extra output."""
    from celery import chain

    def sig(name, *args, immutable=False, **kwargs):
        # Routed like `call`: Warren's topic exchange, routing key = task name, nothing declared.
        return app.signature(name, args=args, kwargs=kwargs, immutable=immutable,
                             exchange=opts.exchange, routing_key=name, declare=[])

    extra = {}
    if opts.scenario == 'chain':
        result = chain(sig('demo.add', 2, 2), sig('demo.add', 4), sig('demo.add', 10)).apply_async()
    elif opts.scenario == 'immutable':
        result = chain(sig('demo.add', 2, 2), sig('demo.add', 1, 1, immutable=True)).apply_async()
    elif opts.scenario == 'retrying':
        result = chain(sig('demo.add', 1, 1), sig('demo.flaky', immutable=True, fail_times=2),
                       sig('demo.add', 5)).apply_async()
    elif opts.scenario == 'failing':
        result = chain(sig('demo.add', 1, 1), sig('demo.fail', immutable=True, message='step two broke'),
                       sig('demo.add', 5)).apply_async()
    elif opts.scenario == 'link':
        callback = sig('demo.add', 10)
        callback.freeze()
        sig('demo.add', 2, 3).apply_async(link=callback)
        result = app.AsyncResult(callback.id)
    elif opts.scenario == 'link_error':
        errback = sig('demo.args')
        errback.freeze()
        failed = sig('demo.fail', message='boom').apply_async(link_error=errback)
        extra['failed_id'] = failed.id
        result = app.AsyncResult(errback.id)
    else:  # chord: a header task whose embed carries the chord body, as Celery's chord sends it
        body = sig('demo.args')
        body.freeze()
        result = app.send_task('demo.add', args=[1, 2], chord=body, exchange=opts.exchange,
                               routing_key='demo.add', declare=[])
    return result, extra


def main(argv=None):
    opts = parse_args(argv)
    app = make_app(opts.broker)
    try:
        if opts.command == 'send':
            out = {'task_id': send(app, opts, ignore_result=True).id}
        elif opts.command == 'canvas':
            result, extra = canvas(app, opts)
            out = wait(result, opts.timeout)
            out.update(extra)
        else:
            out = wait(send(app, opts), opts.timeout)
    finally:
        app.close()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
