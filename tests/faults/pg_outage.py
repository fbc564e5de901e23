#!/usr/bin/env python3
"""A PostgreSQL outage under load, on a private PostgreSQL instance.

The test initialises its own cluster (initdb as the `postgres` OS user, its
own port, 127.0.0.1 only, trust auth, socket in its temp dir; the suite's
server of LEADS_TEST_PG_URL is never touched), starts the app on it with
ROCKET_DATABASES={leads={url=...,connect_timeout=2}} (rocket_db_pools'
connect_timeout, which src/db/pool.rs uses as the pool's acquire timeout),
and runs a steady mixed load (8 threads: list, create, current user,
/healthz, login). Then `pg_ctl stop -m immediate`, 12 s of outage (with
one extra request of each kind at once 1 s in), `pg_ctl start`, and it
checks:
  - before the outage every request succeeds;
  - during the outage every request (started after the stop, and early
    enough to finish before PostgreSQL is back) answers 503 with a JSON body
    ({"detail": ...}, /healthz {"status": "unavailable"}), while /livez
    still answers 200 {"status": "alive"}; none is 401, 500
    or anything else; the slowest takes at most connect_timeout + 3 s;
  - no request anywhere goes unanswered (15 s client timeout) and the app
    process stays alive;
  - after PostgreSQL is back, service resumes by itself with the same token
    within 15 s, every request from 1 s after the first success on
    succeeds (3 s of load), and every create
    acknowledged before the outage is still listed.
Usage: pg_outage.py BIN (CI set: a missing PostgreSQL installation fails).
"""
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402

CONNECT_TIMEOUT = 2
MARGIN = 3.0
LIMIT = CONNECT_TIMEOUT + MARGIN       # max latency of a request during the outage
THREADS = 8
WARM_SECONDS = 3.0
OUTAGE_SECONDS = 12.0
RECOVERY_DEADLINE = 15.0
STEADY_SECONDS = 3.0
CLIENT_TIMEOUT = 15.0
KINDS = ["list", "create", "user", "healthz", "list", "create", "user", "login"]
OK = {"list": 200, "create": 201, "user": 200, "healthz": 200, "login": 200}


class Load:
    def __init__(self, server, token, username):
        self.server, self.token, self.username = server, token, username
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.records = []   # (kind, start, end, Resp, extra)
        self.alive_failures = 0

    def one(self, kind, t, n):
        s = self.server
        if kind == "list":
            return c.call(s, "GET", "/api/leads/", token=self.token, timeout=CLIENT_TIMEOUT), None
        if kind == "create":
            email = f"outage.t{t}.n{n}@example.com"
            return c.call(s, "POST", "/api/leads/", {"name": "Outage", "email": email,
                                                      "message": "m"},
                          token=self.token, timeout=CLIENT_TIMEOUT), email
        if kind == "user":
            return c.call(s, "GET", "/api/auth/user", token=self.token, timeout=CLIENT_TIMEOUT), None
        if kind == "healthz":
            return c.call(s, "GET", "/healthz", timeout=CLIENT_TIMEOUT), None
        return c.call(s, "POST", "/api/auth/login", {"username": self.username,
                                                      "password": c.PASSWORD},
                      timeout=CLIENT_TIMEOUT), None

    def timed(self, kind, t, n):
        start = time.monotonic()
        r, extra = self.one(kind, t, n)
        end = time.monotonic()
        with self.lock:
            self.records.append((kind, start, end, r, extra))
        return r

    def probe_every_kind(self):
        """One request of each kind at once, besides the steady load, so
        that every kind is seen during the outage whatever the timing."""
        c.run_threads([lambda k=k, i=i: self.timed(k, 100 + i, 0)
                       for i, k in enumerate(sorted(OK))], timeout=CLIENT_TIMEOUT + 5)

    def worker(self, t):
        n = 0
        while not self.stop.is_set():
            kind = KINDS[(n + t) % len(KINDS)]
            r = self.timed(kind, t, n)
            n += 1
            if r.status is not None and r.status < 500:
                time.sleep(0.02)   # keep a healthy server from spinning the CPU

    def run(self):
        self.threads = [threading.Thread(target=self.worker, args=(t,), daemon=True)
                        for t in range(THREADS)]
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(CLIENT_TIMEOUT + 5)
        c.check(not any(t.is_alive() for t in self.threads), "client threads hung")

    def snapshot(self):
        with self.lock:
            return list(self.records)


def is_success(kind, r):
    return r.status == OK[kind]


def is_unavailable(kind, r):
    ctype = (r.header("Content-Type") or "").lower()
    body = r.json()
    if r.status != 503 or "json" not in ctype or not isinstance(body, dict):
        return False
    if kind == "healthz":
        return body == {"status": "unavailable"}
    return isinstance(body.get("detail"), str) and body["detail"] != ""


def body(res):
    binary = sys.argv[1]
    pg = c.PrivatePostgres(res)
    pg.start()
    tmp = res.tempdir("leads-fault-pgout-")
    server = c.Server(res, binary, pg.url, os.path.join(tmp, "server"),
                      db_options=f"connect_timeout={CONNECT_TIMEOUT}")
    server.start()
    username = c.unique("outage_")
    token, _ = c.register(server, username)

    load = Load(server, token, username)
    load.run()
    try:
        time.sleep(WARM_SECONDS)
        t_stop = time.monotonic()
        pg.stop("immediate")
        t_stopped = time.monotonic()
        time.sleep(1.0)
        load.probe_every_kind()
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - t_stopped)))
        c.check(server.alive(), f"app died during the outage:\n{server.log_tail()}")
        hc = c.call(server, "GET", "/healthz", timeout=CLIENT_TIMEOUT)
        lv = c.call(server, "GET", "/livez", timeout=CLIENT_TIMEOUT)
        t_start = time.monotonic()
        pg.start()
        t_started = time.monotonic()
        recovered_at = None
        while time.monotonic() - t_started < RECOVERY_DEADLINE:
            recs = [x for x in load.snapshot() if x[1] >= t_started and is_success(x[0], x[3])]
            if recs:
                recovered_at = min(x[2] for x in recs)
                break
            time.sleep(0.1)
        c.check(recovered_at is not None,
                f"no request succeeded within {RECOVERY_DEADLINE} s after PostgreSQL came back")
        time.sleep(1.0 + STEADY_SECONDS)
    finally:
        load.finish()
    c.check(server.alive(), f"app process died:\n{server.log_tail()}")
    c.check(hc.status == 503 and is_unavailable("healthz", hc),
            f"/healthz during the outage: {hc!r}")
    c.check(lv.status == 200 and lv.json() == {"status": "alive"},
            f"/livez during the outage (liveness must not depend on the database): {lv!r}")

    records = load.snapshot()
    unanswered = [x for x in records if x[3].status is None]
    c.check(not unanswered, f"{len(unanswered)} requests got no answer (hang or connection error), "
            f"first: {[(k, r) for k, _, _, r, _ in unanswered[:3]]}")

    before = [x for x in records if x[2] < t_stop]
    bad = [(k, r) for k, _, _, r, _ in before if not is_success(k, r)]
    c.check(len(before) >= 20, f"only {len(before)} requests before the outage")
    c.check(not bad, f"{len(bad)} requests failed before the outage: {bad[:3]}")

    during = [x for x in records if x[1] >= t_stopped + 0.2 and x[1] + LIMIT < t_start]
    not_503 = [(k, r) for k, _, _, r, _ in during if not is_unavailable(k, r)]
    c.check(not not_503, f"{len(not_503)} of {len(during)} requests during the outage were not "
            f"503 + JSON: {not_503[:5]}")
    max_latency = max((x[2] - x[1] for x in during), default=0.0)
    c.check(max_latency <= LIMIT, f"slowest request during the outage took {max_latency:.2f} s "
            f"(limit {LIMIT} s)")
    c.check(len(during) >= 12, f"only {len(during)} requests during the outage")
    by_kind = {}
    for k, *_ in during:
        by_kind[k] = by_kind.get(k, 0) + 1
    c.check(set(by_kind) == set(OK), f"not every kind of request ran during the outage: {by_kind}")

    transition = [x for x in records if t_stop <= x[1] < t_stopped + 0.2 or
                  (x[1] < t_start <= x[1] + LIMIT) or (t_start <= x[1] < recovered_at)]
    odd = [(k, r) for k, _, _, r, _ in transition
           if not (is_success(k, r) or is_unavailable(k, r))]
    c.check(not odd, f"{len(odd)} requests around the stop/start answered neither success nor "
            f"503: {odd[:5]}")

    steady = [x for x in records if x[1] >= recovered_at + 1.0]
    failed = [(k, r) for k, _, _, r, _ in steady if not is_success(k, r)]
    c.check(len(steady) >= 10, f"only {len(steady)} requests after recovery")
    c.check(not failed, f"{len(failed)} of {len(steady)} requests failed after recovery: "
            f"{failed[:5]}")

    acked = {x[4] for x in records if x[0] == "create" and x[3].status == 201}
    r = c.call(server, "GET", "/api/leads/", token=token, timeout=CLIENT_TIMEOUT)
    c.check(r.status == 200, f"list after recovery: {r!r}")
    listed = {lead["email"] for lead in r.json()}
    lost = acked - listed
    c.check(not lost, f"{len(lost)} acknowledged creates missing after the outage: "
            f"{sorted(lost)[:5]}")
    r = c.call(server, "GET", "/healthz")
    c.check(r.status == 200, f"/healthz after recovery: {r!r}")

    c.log(f"pg-outage: {len(before)} requests before (all ok); {len(during)} requests during "
          f"{t_start - t_stopped:.1f} s outage, {len(during)} answered 503+JSON "
          f"({', '.join(f'{k} {v}' for k, v in sorted(by_kind.items()))}), max latency "
          f"{max_latency:.2f} s (limit {LIMIT:.0f} s), 0 unanswered, app alive; /healthz 503, /livez 200; "
          f"recovered {recovered_at - t_started:.2f} s after PostgreSQL was back "
          f"({recovered_at - t_start:.2f} s after pg_ctl start), {len(steady)} requests after "
          f"all ok, {len(acked)} acknowledged creates all present")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: pg_outage.py BIN")
    c.main("pg_outage", body, deadline=150)
