#!/usr/bin/env python3
"""kill -9 under write load on SQLite: no acknowledged write is lost and the
database file stays intact.

A server on a fresh SQLite file takes concurrent lead creates (16 threads,
one token); once enough have been acknowledged the server is killed with
SIGKILL in the middle of the load, restarted on the same file (and the same
folder, so the same leads.secret), and then:
  - PRAGMA integrity_check is "ok" and foreign_key_check finds nothing;
  - every create that was answered 201 is in the database with the id, email
    and owner of the 201 body (sqlite3) and is listed by the API with the
    same token (tokens survive the crash);
  - rows never exceed the creates sent;
  - the restarted server accepts a new create and still refuses a duplicate
    of an acknowledged email (the unique index is intact).
Three kill/restart rounds. Usage: kill9_sqlite.py BIN
"""
import os
import random
import sqlite3
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402

THREADS = 16
ROUNDS = 3
MIN_ACKED = 250          # acknowledged creates per round before the kill, at least
LOAD_SECONDS = (1.0, 2.0)  # the kill lands at a random moment in this span of load
MAX_LOAD_SECONDS = 10.0
DUPLICATE = {"email": ["lead with this email already exists."]}


def load_until_killed(server, token, uid, round_no):
    stop = threading.Event()
    killing = threading.Event()
    lock = threading.Lock()
    acked = []          # (id, email) answered 201
    sent = [0]
    no_answer = [0]
    unexpected = []

    def worker(t):
        n = 0
        while not stop.is_set():
            email = f"k9.r{round_no}.t{t}.n{n}@example.com"
            n += 1
            with lock:
                sent[0] += 1
            r = c.call(server, "POST", "/api/leads/",
                       {"name": f"Kill {t} {n}", "email": email, "message": "survive SIGKILL"},
                       token=token, timeout=10)
            if r.status is None:
                if killing.is_set():
                    with lock:
                        no_answer[0] += 1
                    return
                with lock:
                    unexpected.append((email, r))
                continue
            body = r.json() or {}
            if r.status == 201 and body.get("email") == email and body.get("owner") == uid:
                with lock:
                    acked.append((body["id"], email))
            else:
                with lock:
                    unexpected.append((email, r))

    threads = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(THREADS)]
    for t in threads:
        t.start()
    start = time.monotonic()
    kill_at = random.uniform(*LOAD_SECONDS)
    while time.monotonic() - start < MAX_LOAD_SECONDS:
        with lock:
            if len(acked) >= MIN_ACKED and time.monotonic() - start >= kill_at:
                break
        time.sleep(0.005)
    killing.set()
    server.kill9()
    killed_after = time.monotonic() - start
    stop.set()
    for t in threads:
        t.join(30)
    c.check(not any(t.is_alive() for t in threads), "client threads hung after the kill")
    c.check(not unexpected, f"{len(unexpected)} creates got an unexpected answer (or none) "
            f"before the kill, first: {unexpected[:3]}")
    c.check(len(acked) > 0, "no create was acknowledged before the kill")
    return acked, sent[0], no_answer[0], killed_after


def db_state(path):
    conn = sqlite3.connect(path, timeout=30)
    try:
        integrity = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        rows = {row[0]: (row[1], row[2]) for row in
                conn.execute("SELECT id, email, owner_id FROM leads")}
    finally:
        conn.close()
    return integrity, fk, rows


def body(res):
    binary = sys.argv[1]
    tmp = res.tempdir("leads-fault-kill9-")
    db_file = os.path.join(tmp, "leads.db")
    server = c.Server(res, binary, f"sqlite://{db_file}", os.path.join(tmp, "server"))
    server.start()
    token, uid = c.register(server, c.unique("kill9_"))

    all_acked = {}
    total_sent = 0
    for round_no in range(1, ROUNDS + 1):
        acked, sent, no_answer, killed_after = load_until_killed(server, token, uid, round_no)
        total_sent += sent
        all_acked.update(dict(acked))
        server.start()                      # same file, same folder, same secret

        integrity, fk, rows = db_state(db_file)
        c.check(integrity == ["ok"], f"integrity_check after kill -9: {integrity[:5]}")
        c.check(fk == [], f"foreign_key_check after kill -9: {fk[:5]}")
        missing = [(i, e) for i, e in all_acked.items() if rows.get(i) != (e, uid)]
        c.check(not missing, f"{len(missing)} acknowledged creates missing or changed in the "
                f"database after restart, e.g. {missing[:5]}")
        c.check(len(rows) <= total_sent, f"{len(rows)} rows but only {total_sent} creates sent")

        r = c.call(server, "GET", "/api/leads/", token=token, timeout=30)
        c.check(r.status == 200, f"GET /api/leads/ after restart with the old token: {r!r}")
        listed = {lead["id"]: lead["email"] for lead in r.json()}
        not_listed = [i for i, e in all_acked.items() if listed.get(i) != e]
        c.check(not not_listed, f"{len(not_listed)} acknowledged leads not listed by the API "
                f"after restart, e.g. {not_listed[:5]}")
        c.check(len(listed) == len(rows), f"API lists {len(listed)} leads, database has {len(rows)}")

        c.log(f"kill-9 round {round_no}: killed after {killed_after:.1f} s of load, "
              f"{sent} creates sent, {len(acked)} acknowledged, {no_answer} cut off by the kill; "
              f"after restart {len(all_acked)} of {len(all_acked)} acknowledged present "
              f"(sqlite3 and API), {len(rows)} rows, integrity_check ok, foreign_key_check ok")

    fresh = f"k9.after.{os.getpid()}@example.com"
    r = c.call(server, "POST", "/api/leads/", {"name": "After", "email": fresh, "message": "m"},
               token=token)
    c.check(r.status == 201, f"create after restart: {r!r}")
    some_email = next(iter(all_acked.values())).upper()
    r = c.call(server, "POST", "/api/leads/", {"name": "Dup", "email": some_email, "message": "m"},
               token=token)
    c.check(r.status == 400 and r.json() == DUPLICATE,
            f"duplicate of an acknowledged email after restart: {r!r}")
    server.stop()
    integrity, fk, rows = db_state(db_file)
    c.check(integrity == ["ok"] and fk == [], f"integrity after clean stop: {integrity[:5]} {fk[:5]}")
    c.log(f"kill-9: {len(all_acked)} acknowledged creates over {ROUNDS} kills, "
          f"{len(all_acked)} present after restart, {len(rows)} rows at the end, "
          "integrity_check ok, new create 201, duplicate 400")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: kill9_sqlite.py BIN")
    c.main("kill9_sqlite", body, deadline=120)
