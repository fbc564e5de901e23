"""What the timing scenarios (bench/*_timing.py) share: one HTTP request with
its times, and the median server time of a list of pages.

Page times are the server's own (`Server-Timing: app;dur=…`, from the request
reaching the app to the response leaving it), so the client's overhead and
the machine's other load between client and server stay out of them.
Progress goes to stderr; each script prints one JSON line on stdout for
bench/run to record.
"""
import json
import re
import statistics
import sys
import time
import urllib.error
import urllib.request
from collections import namedtuple

Response = namedtuple("Response", "status body headers server_ms wall_ms")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def request(url, data=None, headers=None, method=None):
    """One request, redirects not followed; data is bytes, or an object sent as JSON."""
    headers = dict(headers or {})
    if data is not None and not isinstance(data, bytes):
        data = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    start = time.perf_counter()
    try:
        resp = _opener.open(req, timeout=120)
    except urllib.error.HTTPError as err:
        resp = err
    body = resp.read()
    wall_ms = (time.perf_counter() - start) * 1000
    match = re.search(r"dur=([0-9.]+)", resp.headers.get("Server-Timing", ""))
    return Response(resp.status, body, resp.headers, float(match.group(1)) if match else None, wall_ms)


def log(line):
    print(line, file=sys.stderr, flush=True)


def time_pages(get, paths, runs):
    """get(path) -> Response, each path runs times (each answer a 200); the
    median and max server time of each page."""
    width = max(len(p) for p in paths)
    log(f"  {'page':{width}} {'median ms':>10} {'max ms':>8}")
    pages = []
    for path in paths:
        times = []
        for _ in range(runs):
            resp = get(path)
            if resp.status != 200 or resp.server_ms is None:
                sys.exit(f"{path}: HTTP {resp.status}, Server-Timing {resp.headers.get('Server-Timing')!r}")
            times.append(resp.server_ms)
        pages.append({"path": path, "median_ms": statistics.median(times), "max_ms": max(times)})
        log(f"  {path:{width}} {pages[-1]['median_ms']:10.2f} {pages[-1]['max_ms']:8.2f}")
    slowest = max(pages, key=lambda p: p["median_ms"])
    log(f"  slowest median: {slowest['median_ms']:.2f} ms ({slowest['path']}), {runs} requests a page")
    return pages
