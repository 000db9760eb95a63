#!/usr/bin/env python3
"""Drives the Hummingbird example with concurrent requests and checks every answer.

Usage: python3 load.py --port PORT [--concurrency 1000] [--rounds 1] [--timeout 60]

Standard library only (asyncio streams, HTTP/1.1 keep-alive). Phases, each with CONCURRENCY
connections opened first (connecting is not timed), then every request written at once and
timed from its write to its whole response:

  add          GET /add?a=&b= on every connection (random a, b): each answer must be a + b
  noop         GET /noop on every connection: the event loops alone, same concurrency
  noop-during  CONCURRENCY /add and, while they are in flight, a /noop every 2 ms (at most
               PROBES, each on a connection of its own): what a route that does nothing
               waits while the app awaits a thousand tasks (an event-loop stall shows here)

Prints one JSON line: for each phase the count, errors, and p50/p90/p99/max latency in ms
(over all rounds), plus the wall time of each phase. Exit status 1 when any /add answer is
wrong or missing or any request failed, 0 otherwise.
"""
import argparse
import asyncio
import json
import math
import random
import resource
import sys
import time


def raise_file_limit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class Connection:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port):
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        return cls(reader, writer)

    async def get(self, path):
        """Sends GET path; returns (status, body, seconds from write to whole response)."""
        start = time.perf_counter()
        self.writer.write(f'GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'.encode())
        head = await self.reader.readuntil(b'\r\n\r\n')
        lines = head.decode('latin-1').split('\r\n')
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(':')
            if name.strip().lower() == 'content-length':
                length = int(value.strip())
        body = await self.reader.readexactly(length) if length else b''
        return status, body.decode(), time.perf_counter() - start

    def close(self):
        self.writer.close()


async def open_all(port, n):
    # Connect in batches: the accept queue holds them, but a SYN flood helps no one.
    conns = []
    for i in range(0, n, 200):
        conns += await asyncio.gather(*(Connection.open(port) for _ in range(min(200, n - i))))
    return conns


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)  # nearest rank
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(latencies, errors, walls):
    ms = [x * 1000 for x in latencies]
    return {
        'count': len(latencies), 'errors': errors,
        'p50_ms': percentile(ms, 50), 'p90_ms': percentile(ms, 90),
        'p99_ms': percentile(ms, 99), 'max_ms': max(ms) if ms else None,
        'wall_s': [round(w, 3) for w in walls],
    }


async def one_add(conn, timeout, problems):
    a, b = random.randint(-10**6, 10**6), random.randint(-10**6, 10**6)
    try:
        status, body, seconds = await asyncio.wait_for(conn.get(f'/add?a={a}&b={b}'), timeout)
    except Exception as exc:  # noqa: BLE001 - any failure is a missing answer
        problems.append(f'/add?a={a}&b={b}: {type(exc).__name__}: {exc}')
        return None
    if status != 200 or body.strip() != str(a + b):
        problems.append(f'/add?a={a}&b={b}: HTTP {status} {body!r}, expected {a + b}')
        return None
    return seconds


async def one_noop(conn, timeout, problems):
    try:
        status, body, seconds = await asyncio.wait_for(conn.get('/noop'), timeout)
    except Exception as exc:  # noqa: BLE001
        problems.append(f'/noop: {type(exc).__name__}: {exc}')
        return None
    if status != 200:
        problems.append(f'/noop: HTTP {status} {body!r}')
        return None
    return seconds


async def phase(port, n, timeout, problems, kind, probes=0):
    conns = await open_all(port, n + probes)
    try:
        start = time.perf_counter()
        if kind == 'add':
            results = await asyncio.gather(*(one_add(c, timeout, problems) for c in conns))
            probe_results = []
        elif kind == 'noop':
            results = await asyncio.gather(*(one_noop(c, timeout, problems) for c in conns))
            probe_results = []
        else:  # noop-during: the adds go out first; a probe every 2 ms while they are in flight
            adds = [asyncio.ensure_future(one_add(c, timeout, problems)) for c in conns[:n]]
            probes_sent = []
            for c in conns[n:]:
                await asyncio.sleep(0.002)
                if all(a.done() for a in adds):
                    break
                probes_sent.append(asyncio.ensure_future(one_noop(c, timeout, problems)))
            results = await asyncio.gather(*adds)
            probe_results = await asyncio.gather(*probes_sent)
        wall = time.perf_counter() - start
    finally:
        for c in conns:
            c.close()
    return results, probe_results, wall


async def main_async(opts):
    problems = []
    stats = {k: ([], 0, []) for k in ('add', 'noop', 'noop-during', 'add-during')}

    def record(key, results, wall):
        lat, errs, walls = stats[key]
        lat += [r for r in results if r is not None]
        stats[key] = (lat, errs + sum(1 for r in results if r is None), walls + [wall])

    for _ in range(opts.rounds):
        results, _, wall = await phase(opts.port, opts.concurrency, opts.timeout, problems, 'add')
        record('add', results, wall)
        results, _, wall = await phase(opts.port, opts.concurrency, opts.timeout, problems, 'noop')
        record('noop', results, wall)
        results, probes, wall = await phase(opts.port, opts.concurrency, opts.timeout, problems, 'noop-during',
                                            probes=opts.probes)
        record('add-during', results, wall)
        record('noop-during', probes, wall)
    out = {k: summary(*v) for k, v in stats.items()}
    out['concurrency'] = opts.concurrency
    out['rounds'] = opts.rounds
    out['problems'] = problems[:20]
    out['problem_count'] = len(problems)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--concurrency', type=int, default=1000)
    parser.add_argument('--probes', type=int, default=200)
    parser.add_argument('--rounds', type=int, default=1)
    parser.add_argument('--timeout', type=float, default=60.0)
    opts = parser.parse_args(argv)
    raise_file_limit(opts.concurrency + opts.probes + 256)
    out = asyncio.run(main_async(opts))
    print(json.dumps(out), flush=True)
    expected_adds = 2 * opts.concurrency * opts.rounds
    got_adds = out['add']['count'] + out['add-during']['count']
    return 1 if out['problem_count'] or got_adds != expected_adds else 0


if __name__ == '__main__':
    sys.exit(main())
