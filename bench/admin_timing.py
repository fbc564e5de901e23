#!/usr/bin/env python3
"""Scenario admin (SPEC §4, the staff pages): the server time of the admin
list pages over the bench's base seed (1,000 users, 100,000 leads), read
from `Server-Timing`: default and every sort, deep pages, search, owner and
date filters, the users list. Target (T9): every page's median under 100 ms.
Beside it, the query plan of the default sort and the CSV export of every
lead, streamed while the server's peak RSS is watched.

  admin_timing.py BASE_URL SERVER_PID sqlite:PATH|postgres:URL STAFF_TOKEN [RUNS]

Each page RUNS (default 9) times. The database is bench/run's, seeded by
bench/seed.py (leads dated from 2026-01-01, 30 s apart). Prints one JSON line.
"""
import csv
import io
import json
import sys
import time

from sql import rows
from timing import log, request, time_pages

BASE, PID, DB, TOKEN = sys.argv[1].rstrip("/"), int(sys.argv[2]), sys.argv[3], sys.argv[4]
RUNS = int(sys.argv[5]) if len(sys.argv) > 5 else 9


def get(path):
    return request(BASE + path, headers={"Authorization": f"Token {TOKEN}"})


def peak_rss_mb():
    with open(f"/proc/{PID}/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM")).split()[1]) / 1024


leads = int(rows(DB, "SELECT COUNT(*) FROM leads")[0][0])
users = int(rows(DB, "SELECT COUNT(*) FROM users")[0][0])
owner = rows(DB, "SELECT id FROM users WHERE username = 'seller500'")[0][0]
log(f"  {users:,} users, {leads:,} leads in the database")
paths = ["/admin/leads", "/admin/leads?page=2000", "/admin/leads?per_page=200&page=500"]
for column in ["id", "name", "email", "message", "owner", "created"]:
    for prefix in ["", "-"]:
        paths.append(f"/admin/leads?ordering={prefix}{column}")
        paths.append(f"/admin/leads?ordering={prefix}{column}&page=2000")
paths += [
    "/admin/leads?q=product+42", "/admin/leads?q=seller77", "/admin/leads?q=lead77777&ordering=-name",
    f"/admin/leads?owner={owner}", f"/admin/leads?owner={owner}&ordering=-created&page=2",
    "/admin/leads?created_from=2026-01-10&created_to=2026-01-12",
    "/admin/leads?created_from=2026-01-10&created_to=2026-01-12&ordering=name&page=last",
    "/admin/users", "/admin/users?ordering=-leads", "/admin/users?ordering=tokens&page=21", "/admin/users?q=seller9",
]
pages = time_pages(get, paths, RUNS)

# The page query's inner part: which ids the default sort shows.
plan_sql = "SELECT leads.id FROM leads WHERE 1 = 1 ORDER BY leads.id DESC LIMIT 50 OFFSET 0"
explain = "EXPLAIN QUERY PLAN " if DB.startswith("sqlite:") else "EXPLAIN "
plan = [row[-1].strip() for row in rows(DB, explain + plan_sql)]
log("  query plan of the default sort: " + "; ".join(plan))

rss_before = peak_rss_mb()
started = time.perf_counter()
resp = get("/admin/leads/export.csv?ordering=name")
seconds = time.perf_counter() - started
exported = list(csv.reader(io.StringIO(resp.body.decode("utf-8"))))
assert resp.status == 200 and exported[0] == ["id", "name", "email", "message", "owner", "created_at"], exported[:1]
assert len(exported) - 1 == leads, f"the export has {len(exported) - 1} rows, the table {leads}"
assert all(len(r) == 6 for r in exported)
export = {"rows": len(exported) - 1, "mb": round(len(resp.body) / 1e6, 1), "seconds": round(seconds, 2),
          "rss_before": round(rss_before, 1), "rss_after": round(peak_rss_mb(), 1)}
log(f"  CSV export: {export['rows']} rows, {export['mb']} MB in {export['seconds']} s; "
    f"server peak RSS {export['rss_before']} MB before, {export['rss_after']} MB after")
print(json.dumps({"runs": RUNS, "leads": leads, "users": users, "pages": pages, "plan": plan, "export": export}))
