#!/usr/bin/env python3
"""Admin list pages over 100,000 leads across 1,000 users (SPEC §4, issue
"Admin"): seeds the database with SQL, then reads each page's server time
from `Server-Timing`, shows the query plan of the default sort, and streams
the CSV export while watching the server's peak RSS. A measurement with
numbers to report.

Usage: admin_timing.py BASE_URL SERVER_PID sqlite:PATH | postgres:URL
"""
import csv
import io
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

BASE, PID, DB = sys.argv[1].rstrip("/"), int(sys.argv[2]), sys.argv[3]
USERS, LEADS, RUNS = 1000, 100_000, 5
PASSWORD = "Admin-Timing-Pass-42"


def sql(statement):
    """Runs SQL on the server's database; returns the output rows as text."""
    if DB.startswith("sqlite:"):
        import sqlite3
        conn = sqlite3.connect(DB[len("sqlite:"):])
        rows = conn.execute(statement).fetchall()
        conn.commit()
        conn.close()
        return "\n".join(" | ".join(str(c) for c in row) for row in rows)
    url = DB[len("postgres:"):]
    return subprocess.run(["psql", url, "-X", "-A", "-t", "-q", "-c", statement],
                          check=True, capture_output=True, text=True).stdout


def call(path, token, body=None):
    req = urllib.request.Request(BASE + path, data=body and json.dumps(body).encode(),
                                 headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    try:
        resp = urllib.request.urlopen(req, timeout=120)
    except urllib.error.HTTPError as err:
        resp = err
    data = resp.read()
    match = re.search(r"dur=([0-9.]+)", resp.headers.get("Server-Timing", ""))
    return resp.status, data, float(match.group(1)) if match else None


def peak_rss_mb():
    with open(f"/proc/{PID}/status") as status:
        return int(next(l for l in status if l.startswith("VmHWM")).split()[1]) / 1024


def seed():
    req = urllib.request.Request(BASE + "/api/auth/register", data=json.dumps(
        {"username": "timing_admin", "email": "admin@example.com", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"})
    token = json.load(urllib.request.urlopen(req))["token"]
    sql("UPDATE users SET is_staff = TRUE WHERE username = 'timing_admin'")
    started = time.time()
    # One recursive CTE serves both backends; every seeded user shares the admin's hash.
    sql(f"""INSERT INTO users (username, username_key, email, password, is_staff, is_active, date_joined)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {USERS})
            SELECT 'seller' || i, 'seller' || i, 'seller' || i || '@example.com',
                   (SELECT password FROM users WHERE username = 'timing_admin'), FALSE, TRUE,
                   1767225600000000 + CAST(i AS BIGINT) * 1000000 FROM n""")
    sql(f"""INSERT INTO leads (name, email, email_key, message, search_key, owner_id, created_at)
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {LEADS})
            SELECT 'Lead ' || ((i * 7919) % {LEADS}), 'lead' || i || '@example.com', 'lead' || i || '@example.com',
                   'Message number ' || i || ' about product ' || (i % 97),
                   lower('Lead ' || ((i * 7919) % {LEADS}) || ' lead' || i || '@example.com'
                         || ' Message number ' || i || ' about product ' || (i % 97)),
                   (SELECT MIN(id) FROM users WHERE username LIKE 'seller%') + (i % {USERS}),
                   1767225600000000 + CAST(i AS BIGINT) * 300000000 FROM n""")
    # The steady state autovacuum keeps: statistics, and PostgreSQL's
    # visibility map (index-only scans for deep pages).
    sql("VACUUM ANALYZE" if DB.startswith("postgres:") else "ANALYZE")
    print(f"seeded {USERS} users and {LEADS} leads in {time.time() - started:.1f} s")
    return token


def main():
    token = seed()
    owner = sql("SELECT id FROM users WHERE username = 'seller500'").strip()
    pages = ["/admin/leads", "/admin/leads?page=2000", "/admin/leads?per_page=200&page=500"]
    for column in ["id", "name", "email", "message", "owner", "created"]:
        for prefix in ["", "-"]:
            pages.append(f"/admin/leads?ordering={prefix}{column}")
            pages.append(f"/admin/leads?ordering={prefix}{column}&page=2000")
    pages += [
        "/admin/leads?q=product+42", "/admin/leads?q=seller77", "/admin/leads?q=lead99999&ordering=-name",
        f"/admin/leads?owner={owner}", f"/admin/leads?owner={owner}&ordering=-created&page=2",
        "/admin/leads?created_from=2026-03-01&created_to=2026-03-31",
        "/admin/leads?created_from=2026-03-01&created_to=2026-03-31&ordering=name&page=last",
        "/admin/users", "/admin/users?ordering=-leads", "/admin/users?ordering=tokens&page=21", "/admin/users?q=seller9",
    ]
    worst = (0.0, "")
    print(f"{'page':72} {'median ms':>10} {'max ms':>8}")
    for path in pages:
        times = []
        for _ in range(RUNS):
            status, _, dur = call(path, token)
            assert status == 200, (path, status)
            times.append(dur)
        median = statistics.median(times)
        worst = max(worst, (median, path))
        print(f"{path:72} {median:10.2f} {max(times):8.2f}")
    print(f"slowest admin page: {worst[0]:.2f} ms median server time ({worst[1]}), target < 100 ms")

    # The page query's inner part: which ids the default sort shows.
    plan_sql = "SELECT leads.id FROM leads WHERE 1 = 1 ORDER BY leads.id DESC LIMIT 50 OFFSET 0"
    plan = sql(("EXPLAIN QUERY PLAN " if DB.startswith("sqlite:") else "EXPLAIN ") + plan_sql)
    print("query plan of the default sort:\n  " + plan.strip().replace("\n", "\n  "))

    before = peak_rss_mb()
    started = time.time()
    status, data, _ = call("/admin/leads/export.csv?ordering=name", token)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert status == 200 and rows[0] == ["id", "name", "email", "message", "owner", "created_at"], rows[:1]
    assert len(rows) - 1 == LEADS, len(rows)
    assert all(len(r) == 6 for r in rows)
    print(f"CSV export: {len(rows) - 1} rows, {len(data) / 1e6:.1f} MB in {time.time() - started:.2f} s; "
          f"server peak RSS {before:.1f} MB before, {peak_rss_mb():.1f} MB after")


if __name__ == "__main__":
    main()
