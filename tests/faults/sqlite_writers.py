#!/usr/bin/env python3
"""64 concurrent writers on one SQLite file: no "database is locked", no 5xx.

One server on a fresh SQLite file; 64 threads each register a user, wait for
each other, then do 20 operations as fast as they can: create, update (PUT
and PATCH), delete their own leads, list them, log in again, register more
users. Checks:
  - every answer has the expected status (201/200/204), none is a 5xx,
    none mentions "database is locked", none is missing (30 s timeout);
  - each list answers exactly the ids that thread expects at that moment;
  - afterwards the database holds exactly each user's expected leads (id,
    name, email, message, owner), exactly 1 + logins tokens per user, every
    user registered, and PRAGMA integrity_check is "ok"; the server log does
    not mention "database is locked".
Usage: sqlite_writers.py BIN
"""
import os
import random
import sqlite3
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402

THREADS = 64
OPS = 20
WEIGHTS = {"create": 45, "update": 20, "delete": 15, "list": 10, "login": 7, "register": 3}


class Writer:
    def __init__(self, server, t, barrier, run_id):
        self.server, self.t, self.barrier = server, t, barrier
        self.rng = random.Random(t * 7919 + 17)
        self.username = f"w{run_id}_{t}"
        self.leads = {}          # id -> (name, email, message)
        self.logins = 0
        self.extra_users = []
        self.counts = {k: 0 for k in WEIGHTS}
        self.problems = []
        self.n = 0

    def expect(self, what, r, status):
        if r.status is None:
            self.problems.append(f"{what}: no answer ({r.error})")
            return False
        if "database is locked" in r.text.lower():
            self.problems.append(f"{what}: body mentions database is locked: {r!r}")
            return False
        if r.status != status:
            self.problems.append(f"{what}: want {status}, got {r!r}")
            return False
        return True

    def op(self, kind):
        s, t = self.server, self.t
        if kind == "create":
            self.n += 1
            lead = (f"Writer {t} lead {self.n}", f"w{t}.n{self.n}.{self.username}@example.com",
                    f"message {self.n}")
            r = c.call(s, "POST", "/api/leads/", {"name": lead[0], "email": lead[1],
                                                  "message": lead[2]},
                       token=self.token, timeout=30)
            if self.expect("create", r, 201):
                body = r.json()
                if (body.get("name"), body.get("email"), body.get("message"),
                        body.get("owner")) != (*lead, self.uid):
                    self.problems.append(f"create answered another lead: {body}")
                self.leads[body["id"]] = lead
        elif kind == "update":
            lead_id = self.rng.choice(sorted(self.leads))
            name, email, message = self.leads[lead_id]
            if self.rng.random() < 0.5:
                new = (name + " (put)", email, message + " updated")
                r = c.call(s, "PUT", f"/api/leads/{lead_id}/",
                           {"name": new[0], "email": new[1], "message": new[2]},
                           token=self.token, timeout=30)
            else:
                new = (name + " (patch)", email, message)
                r = c.call(s, "PATCH", f"/api/leads/{lead_id}/", {"name": new[0]},
                           token=self.token, timeout=30)
            if self.expect("update", r, 200):
                self.leads[lead_id] = new
        elif kind == "delete":
            lead_id = self.rng.choice(sorted(self.leads))
            r = c.call(s, "DELETE", f"/api/leads/{lead_id}/", token=self.token, timeout=30)
            if self.expect("delete", r, 204):
                del self.leads[lead_id]
        elif kind == "list":
            r = c.call(s, "GET", "/api/leads/", token=self.token, timeout=30)
            if self.expect("list", r, 200):
                got = {lead["id"] for lead in r.json()}
                if got != set(self.leads):
                    self.problems.append(f"list: got ids {sorted(got)}, want {sorted(self.leads)}")
        elif kind == "login":
            r = c.login(s, self.username)
            if self.expect("login", r, 200):
                self.logins += 1
        elif kind == "register":
            name = f"{self.username}_x{len(self.extra_users)}"
            r = c.call(s, "POST", "/api/auth/register",
                       {"username": name, "email": f"{name}@example.com", "password": c.PASSWORD},
                       timeout=30)
            if self.expect("register", r, 200):
                self.extra_users.append(name)
        self.counts[kind] += 1

    def __call__(self):
        r = c.call(self.server, "POST", "/api/auth/register",
                   {"username": self.username, "email": f"{self.username}@example.com",
                    "password": c.PASSWORD}, timeout=60)
        ok = self.expect("initial register", r, 200)
        self.barrier.wait(90)
        if not ok:
            return self
        self.token, self.uid = r.json()["token"], r.json()["user"]["id"]
        kinds, weights = zip(*WEIGHTS.items())
        for _ in range(OPS):
            kind = self.rng.choices(kinds, weights)[0]
            if kind in ("update", "delete") and not self.leads:
                kind = "create"
            self.op(kind)
        return self


def body(res):
    import threading
    binary = sys.argv[1]
    tmp = res.tempdir("leads-fault-writers-")
    db_file = os.path.join(tmp, "leads.db")
    server = c.Server(res, binary, f"sqlite://{db_file}", os.path.join(tmp, "server"))
    server.start()
    barrier = threading.Barrier(THREADS)
    run_id = os.getpid() % 100000
    writers = [Writer(server, t, barrier, run_id) for t in range(THREADS)]
    c.run_threads(writers, timeout=150)
    c.check(server.alive(), f"server died:\n{server.log_tail()}")

    problems = [p for w in writers for p in w.problems]
    c.check(not problems, f"{len(problems)} bad answers, first: {problems[:5]}")
    counts = {k: sum(w.counts[k] for w in writers) for k in WEIGHTS}

    conn = sqlite3.connect(db_file, timeout=30)
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        users = {row[0]: row[1] for row in conn.execute("SELECT username, id FROM users")}
        leads = {}
        for lead_id, name, email, message, owner in conn.execute(
                "SELECT id, name, email, message, owner_id FROM leads"):
            leads.setdefault(owner, {})[lead_id] = (name, email, message)
        tokens = dict(conn.execute("SELECT user_id, count(*) FROM auth_tokens GROUP BY user_id"))
    finally:
        conn.close()
    c.check(integrity == ["ok"], f"integrity_check: {integrity[:5]}")
    mismatched = [w.t for w in writers if leads.get(w.uid, {}) != w.leads]
    c.check(not mismatched, f"{len(mismatched)} writers' leads differ in the database, e.g. "
            f"thread {mismatched[:1]}")
    bad_tokens = [(w.t, tokens.get(w.uid), 1 + w.logins) for w in writers
                  if tokens.get(w.uid) != 1 + w.logins]
    c.check(not bad_tokens, f"token rows differ (thread, have, want): {bad_tokens[:5]}")
    expected_users = [w.username for w in writers] + [u for w in writers for u in w.extra_users]
    missing_users = [u for u in expected_users if u not in users]
    c.check(not missing_users, f"users missing: {missing_users[:5]}")
    c.check(len(users) == len(expected_users), f"{len(users)} users, want {len(expected_users)}")
    total_leads = sum(len(w.leads) for w in writers)
    db_leads = sum(len(v) for v in leads.values())
    c.check(db_leads == total_leads, f"{db_leads} leads in the database, want {total_leads}")
    server.stop()
    with open(server.log_path, errors="replace") as f:
        c.check("database is locked" not in f.read().lower(), "server log: database is locked")

    requests = THREADS + sum(counts.values())
    c.log(f"sqlite-writers: {THREADS} threads, {requests} requests ({THREADS} registrations, "
          + ", ".join(f"{v} {k}" for k, v in counts.items())
          + f"); 0 x 5xx, 0 'database is locked'; database: {db_leads} leads = expected, "
          f"{sum(tokens.values())} tokens = expected, {len(users)} users = expected, "
          "integrity_check ok")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sqlite_writers.py BIN")
    c.main("sqlite_writers", body, deadline=200)
