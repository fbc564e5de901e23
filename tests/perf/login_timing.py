#!/usr/bin/env python3
"""Measures SPEC §5's timing promises against a running server (a measurement
with numbers to report, not a pass/fail test):

1. A login with a wrong password for an existing user and one with an unknown
   username take the same time (median of 20 each, interleaved).
2. While 8 logins run at once, an authenticated GET /api/leads/ still answers
   quickly (argon2 runs on the blocking pool, not on the async workers).

Usage: login_timing.py BASE_URL
"""
import json
import secrets
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request

BASE = sys.argv[1].rstrip("/")
PASSWORD = "timing-Measure-42"


def call(method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Token {token}")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, text = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, text = err.code, err.read()
    return status, (json.loads(text) if text else None), time.perf_counter() - start


def main():
    user = "timing_" + secrets.token_hex(4)
    status, body, _ = call("POST", "/api/auth/register",
                           {"username": user, "email": f"{user}@example.com", "password": PASSWORD})
    assert status == 200, body
    token = body["token"]
    for i in range(20):
        call("POST", "/api/leads/", {"name": f"L{i}", "email": f"{user}.{i}@example.com", "message": "m"}, token)

    # Warm up both paths (the dummy hash is computed on first use).
    call("POST", "/api/auth/login", {"username": user, "password": "wrong-password-1"})
    call("POST", "/api/auth/login", {"username": "nobody_" + user, "password": "wrong-password-1"})
    wrong, unknown = [], []
    for _ in range(20):
        s1, _, t1 = call("POST", "/api/auth/login", {"username": user, "password": "wrong-password-1"})
        s2, _, t2 = call("POST", "/api/auth/login", {"username": "nobody_" + user, "password": "wrong-password-1"})
        assert s1 == 400 and s2 == 400, (s1, s2)
        wrong.append(t1)
        unknown.append(t2)
    mw, mu = statistics.median(wrong), statistics.median(unknown)
    diff = abs(mw - mu) / max(mw, mu) * 100
    print(f"login, wrong password: median {mw*1000:.1f} ms; unknown username: median {mu*1000:.1f} ms; "
          f"difference {diff:.1f}% (target < 20%)")

    quiet = [call("GET", "/api/leads/", token=token)[2] for _ in range(50)]
    stop = threading.Event()
    logins = [0]

    def login_loop():
        while not stop.is_set():
            s, _, _ = call("POST", "/api/auth/login", {"username": user, "password": PASSWORD})
            assert s == 200, s
            logins[0] += 1

    threads = [threading.Thread(target=login_loop) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    busy = []
    for _ in range(50):
        s, _, t = call("GET", "/api/leads/", token=token)
        assert s == 200, s
        busy.append(t)
    stop.set()
    for t in threads:
        t.join()
    busy.sort()
    print(f"GET /api/leads/ (20 leads) quiet: median {statistics.median(quiet)*1000:.1f} ms; "
          f"with 8 concurrent logins: median {statistics.median(busy)*1000:.1f} ms, "
          f"p95 {busy[int(len(busy)*0.95)-1]*1000:.1f} ms, max {busy[-1]*1000:.1f} ms "
          f"(target < 50 ms); {logins[0]} logins completed meanwhile")


if __name__ == "__main__":
    main()
