"""The lesson's downloader in Python, for bench/io.sh: a
ThreadPoolExecutor of WORKERS threads, urllib.request, each body saved as
NAME-MD5 in OUTDIR. Prints `python_fetch n=N secs=S bytes=B`.

Usage: python3 bench/io_peers.py URLFILE OUTDIR WORKERS
"""

import concurrent.futures
import hashlib
import os
import sys
import time
import urllib.request

url_file, out_dir, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(url_file) as f:
    urls = [line.split()[0] for line in f if line.strip()]


def download(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read()
    digest = hashlib.md5(body).hexdigest()
    name = url.rstrip("/").rsplit("/", 1)[-1] or "index"
    with open(os.path.join(out_dir, f"{name}-{digest}"), "wb") as out:
        out.write(body)
    return len(body)


start = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
    total = sum(pool.map(download, urls))
secs = time.perf_counter() - start
print(f"python_fetch n={len(urls)} secs={secs:.4f} bytes={total}")
