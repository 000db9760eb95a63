"""The Celery 5 side of scripts/bench: the demo tasks the benchmark compares Warren with.

Run by bench/throughput.py and bench/isolation.py as

    celery --workdir bench/celery -A benchapp worker --pool prefork -c 2 ...

with the broker in $WARREN_BENCH_BROKER_URL. The tasks do what warren-demo's do
(the demo tasks):

    demo.noop            nothing, returns None
    demo.sleep(seconds)  sleeps, returns seconds

The settings are the ones a production Celery user on RabbitMQ would pick for a fair fight
with Warren, which acks late (at-least-once) and answers in the rpc:// result format:

    task_acks_late=True    ack after the task ran, as Warren does
    result_backend=rpc://  results go back to the message's reply_to, as Warren's do;
                           a message whose header says ignore_result gets no reply
    json only              Warren speaks JSON only

Everything else is Celery's default; the prefetch multiplier is given on the worker's
command line (--prefetch-multiplier) so that each benchmark says which it used.
"""
import os
import time

from celery import Celery

app = Celery('warren-bench', set_as_current=True)
app.conf.update(
    broker_url=os.environ.get('WARREN_BENCH_BROKER_URL', 'amqp://guest:guest@127.0.0.1:5672//'),
    broker_connection_retry_on_startup=True,
    result_backend='rpc://',
    task_acks_late=True,
    task_serializer='json',
    result_serializer='json',
    accept_content=['json'],
    result_accept_content=['json'],
)


@app.task(name='demo.noop')
def noop():
    """Nothing, returns None (warren-demo's demo.noop returns null)."""
    return None


@app.task(name='demo.sleep')
def sleep(seconds):
    """Sleeps `seconds`, returns them (warren-demo's demo.sleep)."""
    time.sleep(float(seconds))
    return seconds
