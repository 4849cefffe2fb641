"""bench/cluster.sh's peers: Celery and RQ on the same Redis as hilo.

Imported by the workers (`celery -A cluster_peers worker`, `rq worker`)
for its task, and run as the client:

    python3 cluster_peers.py celery LABEL ROUND_TRIPS LATENCY MAP_ITEMS CHUNK
    python3 cluster_peers.py rq LABEL ROUND_TRIPS

The Redis URL comes from HILO_BENCH_URL (redis+socket:///path for Celery,
unix:///path for RQ). Every result is checked (count and sum); a lost or
wrong one exits 1. Output: `LABEL_what key=value ...` lines, as the Rust
side prints them.
"""

import os
import statistics
import sys
import time

URL = os.environ.get("HILO_BENCH_URL", "")


def noop(x):
    return x


try:  # The RQ client and worker do not need Celery.
    from celery import Celery

    app = Celery("cluster_peers", broker=URL, backend=URL)
    app.conf.update(result_expires=600, worker_hijack_root_logger=False)
    celery_noop = app.task(name="cluster_peers.noop")(noop)
except ImportError:
    app = None


def check(who, got, n):
    want = n * (n - 1) // 2
    if len(got) != n or sum(got) != want:
        sys.exit(f"{who}: results lost or wrong: {len(got)} summing to {sum(got)}, want {n} summing to {want}")


def run_celery(label, n, latency, items, chunk):
    for r in [celery_noop.delay(x) for x in range(100)]:  # warm up
        r.get(timeout=60)
    start = time.perf_counter()
    results = [celery_noop.delay(x) for x in range(n)]
    got = [r.get(timeout=600) for r in results]
    took = time.perf_counter() - start
    check(label, got, n)
    print(f"{label}_round_trips n={n} secs={took:.4f} per_sec={n / took:.0f}", flush=True)

    times = []
    for x in range(latency):
        start = time.perf_counter()
        celery_noop.delay(x).get(timeout=60)
        times.append(time.perf_counter() - start)
    times.sort()
    p99 = times[int((len(times) - 1) * 0.99)]
    print(f"{label}_latency n={latency} median_ms={statistics.median(times) * 1e3:.3f} p99_ms={p99 * 1e3:.3f}", flush=True)

    start = time.perf_counter()
    job = celery_noop.chunks(((x,) for x in range(items)), chunk).group().apply_async()
    got = [v for part in job.get(timeout=600) for v in part]
    took = time.perf_counter() - start
    check(label, got, items)
    print(f"{label}_map_chunked n={items} chunk={chunk} secs={took:.4f} per_sec={items / took:.0f}", flush=True)


def run_rq(label, n):
    from redis import Redis
    from rq import Queue

    queue = Queue("bench", connection=Redis.from_url(URL))
    start = time.perf_counter()
    # By name: the workers import this module as cluster_peers.
    jobs = [queue.enqueue("cluster_peers.noop", x) for x in range(n)]
    got = []
    for job in jobs:
        while True:
            status = job.get_status(refresh=True)
            if status == "finished":
                got.append(job.return_value())
                break
            if status == "failed":
                sys.exit(f"{label}: job {job.id} failed")
            time.sleep(0.001)
    took = time.perf_counter() - start
    check(label, got, n)
    print(f"{label}_round_trips n={n} secs={took:.4f} per_sec={n / took:.0f}", flush=True)


if __name__ == "__main__":
    kind, label, *numbers = sys.argv[1:]
    numbers = [int(v) for v in numbers]
    if kind == "celery":
        run_celery(label, *numbers)
    else:
        run_rq(label, *numbers)
