"""A Python Celery app whose worker runs tasks sent by WarrenClient (Warren's interop tests).

Run by Tests/WarrenIntegrationTests/Support/CeleryWorker.swift, from this folder:

  python -m celery -A py_tasks worker --pool solo --concurrency 1 -Q QUEUE ...

Broker: WARREN_TEST_AMQP_URL (default the local guest broker); results: rpc://, JSON only,
so a Swift `TaskHandle.result()` reads them as it reads Warren's own.

With WARREN_TEST_PARENT_PID set, the worker exits as soon as that process is gone (a test
run that died must not leave a Celery worker consuming behind it).
"""
import os
import signal
import threading
import time

from celery import Celery

app = Celery('py_tasks', set_as_current=True)
app.conf.update(
    broker_url=os.environ.get('WARREN_TEST_AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672/%2F'),
    result_backend='rpc://',
    task_serializer='json',
    accept_content=['json'],
    result_serializer='json',
    result_accept_content=['json'],
    broker_connection_retry_on_startup=True,
    # Nothing but the test's queue: no default `celery` queue, no pidbox or events traffic.
    worker_enable_remote_control=False,
    worker_send_task_events=False,
    task_create_missing_queues=True,
    # No AMQP heartbeats: with the broker's 120 s, the worker's event loop wakes so rarely
    # that a SIGTERM takes 10 s to act on; without them, about 2 s (and a long task in the
    # solo pool cannot miss heartbeats).
    broker_heartbeat=0,
)


class PyTaskError(Exception):
    """Raised by py.fail: a Python exception type of this module, not a builtin."""


@app.task(name='py.multiply')
def multiply(a, b):
    return a * b


@app.task(name='py.fail')
def fail(message='boom'):
    raise PyTaskError(message)


@app.task(name='py.args')
def args(*args, **kwargs):
    """Returns what it received, as Warren's demo.args does (canvas tests)."""
    return {'args': list(args), 'kwargs': kwargs}


@app.task(name='py.headers', bind=True)
def headers(self):
    """Returns the trace headers the task arrived with (traceparent/tracestate)."""
    request = self.request
    found = {}
    for key in ('traceparent', 'tracestate'):
        value = getattr(request, key, None)
        if value is None and isinstance(getattr(request, 'headers', None), dict):
            value = request.headers.get(key)
        if value is not None:
            found[key] = value
    return found


@app.task(name='py.trace', bind=True)
def trace_context(self):
    """What OpenTelemetry's W3C extractor reads from the task's headers, as the worker side of
    opentelemetry-instrumentation-celery does: {"traceparent", "trace_id", "span_id"} (hex),
    the ids null when no valid context arrived."""
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    carrier = {}
    for key in ('traceparent', 'tracestate'):
        value = getattr(self.request, key, None)
        if value is not None:
            carrier[key] = value
    context = TraceContextTextMapPropagator().extract(carrier)
    span = trace.get_current_span(context).get_span_context()
    return {
        'traceparent': carrier.get('traceparent'),
        'trace_id': format(span.trace_id, '032x') if span.is_valid else None,
        'span_id': format(span.span_id, '016x') if span.is_valid else None,
    }


def _watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(3)
        except PermissionError:
            pass
        time.sleep(0.5)


_parent = os.environ.get('WARREN_TEST_PARENT_PID')
if _parent and _parent.isdigit():
    # A thread of the Swift test process spawned us, and its blocked signals are inherited:
    # unblock the ones Celery's shutdown listens to, or a SIGTERM would never arrive.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})
    threading.Thread(target=_watch_parent, args=(int(_parent),), daemon=True).start()
