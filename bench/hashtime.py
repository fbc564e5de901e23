#!/usr/bin/env python3
"""One argon2 hash time as a client sees it, on an idle server (wall clock).

T3 itself uses the hashing threads' CPU time over these logins (bench/run's
`lone_hash`); this figure is printed beside it.

  hashtime.py BASE_URL USERNAME PASSWORD TOKEN [N]

Runs N (default 20) sequential correct logins and N sequential
GET /api/auth/user on one keep-alive connection; the hash time is the mean
login minus the mean authenticated GET (HTTP round trip, token lookup and a
row write are thus mostly taken out; what is left is the password check).

The mean, not the median: a run of logins pays for every hash, the slow ones
too, so the throughput a core can reach is 1 / the mean hash time. On a
machine whose speed swings (lone logins of 15 to 50 ms within a few
seconds, with a median 10% under the mean), the median would set a bound no
server could reach. The median is printed beside it.
Prints one JSON line.
"""
import http.client
import json
import statistics
import sys
import time
import urllib.parse

base, user, password, token = sys.argv[1:5]
n = int(sys.argv[5]) if len(sys.argv) > 5 else 20
url = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
login_body = json.dumps({"username": user, "password": password})


def timed(method, path, body=None, headers=None):
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    resp.read()
    elapsed = time.perf_counter() - start
    if resp.status != 200:
        sys.exit(f"{method} {path}: HTTP {resp.status}")
    return elapsed


login = lambda: timed("POST", "/api/auth/login", login_body, {"Content-Type": "application/json"})
me = lambda: timed("GET", "/api/auth/user", None, {"Authorization": f"Token {token}"})
login(), me()  # warm up
logins, mes = [], []
for _ in range(n):
    logins.append(login())
    mes.append(me())
login_ms, user_ms = statistics.mean(logins) * 1000, statistics.mean(mes) * 1000
median_ms = (statistics.median(logins) - statistics.median(mes)) * 1000
print(json.dumps({"login_ms": round(login_ms, 3), "user_ms": round(user_ms, 3),
                  "hash_ms": round(login_ms - user_ms, 3), "median_ms": round(median_ms, 3), "n": n}))
