#!/usr/bin/env python3
"""Publishes one Celery task with OpenTelemetry's Celery instrumentation active (Warren's
trace-context interop tests).

Usage (python: the venv that scripts/python-env prints):

  python otel_publish.py --broker URL --queue QUEUE [--task NAME] [--args JSON]

Sets a TracerProvider (spans kept in memory) and the W3C Trace Context propagator, calls
CeleryInstrumentor().instrument(), then, inside a span `client-request`, sends TASK with
app.send_task(..., queue=QUEUE) (Celery declares QUEUE; nothing consumes it here). The
instrumentation starts a producer span `apply_async/TASK` and writes its context into the
message's headers (`traceparent`). Prints one JSON line:

  {"task_id": "...", "trace_id": "<32 hex>", "span_id": "<16 hex: the producer span,
   the one in traceparent>", "outer_span_id": "<16 hex: client-request>",
   "producer_spans": N}

Exit status: 0 printed, 1 anything unexpected (traceback on stderr), 2 usage.
"""
import argparse
import json
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--broker', required=True)
    parser.add_argument('--queue', required=True)
    parser.add_argument('--task', default='py.multiply')
    parser.add_argument('--args', type=json.loads, default=[2, 3])
    opts = parser.parse_args(argv)

    from celery import Celery
    from opentelemetry import trace
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.propagate import set_global_textmap
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    set_global_textmap(TraceContextTextMapPropagator())
    CeleryInstrumentor().instrument(tracer_provider=provider)

    app = Celery('otel-publish', set_as_current=True)
    app.conf.update(broker_url=opts.broker, task_serializer='json', accept_content=['json'],
                    broker_connection_retry_on_startup=True)
    tracer = trace.get_tracer('warren-interop')
    try:
        with tracer.start_as_current_span('client-request') as outer:
            result = app.send_task(opts.task, args=opts.args, queue=opts.queue, ignore_result=True)
    finally:
        app.close()
    provider.force_flush()

    producers = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.PRODUCER]
    if len(producers) != 1:
        print(f'expected one producer span, got {[s.name for s in exporter.get_finished_spans()]}',
              file=sys.stderr)
        return 1
    producer = producers[0].get_span_context()
    print(json.dumps({
        'task_id': result.id,
        'trace_id': format(outer.get_span_context().trace_id, '032x'),
        'producer_trace_id': format(producer.trace_id, '032x'),
        'span_id': format(producer.span_id, '016x'),
        'outer_span_id': format(outer.get_span_context().span_id, '016x'),
        'producer_spans': len(producers),
    }), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
