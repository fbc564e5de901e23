#!/usr/bin/env python3
"""Seeds the benchmark database with SQL (schema from `leads migrate`).

  seed.py base  sqlite:PATH|postgres:URL BENCH_USER WRITER_USER
      Both named users already exist (made by `leads createsuperuser`, which
      hashed their password); they lose staff rights. Adds sellers up to
      1,000 users in all (sharing the bench user's password hash), 20 leads
      owned by BENCH_USER and the rest of 100,000 leads spread over the
      sellers. WRITER_USER owns none (scenario 4 posts as it).
  seed.py extra sqlite:PATH|postgres:URL COUNT
      Adds COUNT more leads spread over the sellers (scenario 7).

Rows come from one INSERT ... SELECT per table inside the database: a
recursive CTE on SQLite (synchronous off, large cache, one transaction),
generate_series on PostgreSQL. Derived columns are filled as the app does:
email_key = the email case-folded, search_key = name, email and message
case-folded and joined by spaces (all ASCII here, so lower() is exact).
"""
import subprocess
import sys
import time

USERS, LEADS, BENCH_LEADS = 1000, 100_000, 20
T0 = 1767225600000000  # 2026-01-01 in unix microseconds


def run_sql(db, statements, query=None):
    """Runs the statements in one transaction; returns query's first value."""
    if db.startswith("sqlite:"):
        import sqlite3
        conn = sqlite3.connect(db[len("sqlite:"):], isolation_level=None)
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -524288")  # 512 MiB
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("BEGIN IMMEDIATE")
        for statement in statements:
            conn.execute(statement)
        conn.execute("COMMIT")
        value = conn.execute(query).fetchone()[0] if query else None
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return value
    url = db[len("postgres:"):]
    script = "SET synchronous_commit = off;\nSET maintenance_work_mem = '256MB';\nBEGIN;\n" \
        + ";\n".join(statements) + ";\nCOMMIT;\n"
    done = subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1"], input=script,
                          text=True, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"seeding failed: {done.stderr.strip()}")
    if query:
        out = subprocess.run(["psql", url, "-X", "-A", "-t", "-q", "-c", query],
                             check=True, capture_output=True, text=True).stdout
        return out.strip()
    return None


def numbers(db, count):
    """A row source of i = 1..count for INSERT ... SELECT."""
    if db.startswith("postgres:"):
        return f"(SELECT i FROM generate_series(1, {count}) AS g(i)) AS n"
    return f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {count}) SELECT i FROM s) AS n"


def leads_insert(db, count, first, owner_expr, tag):
    """count leads numbered first.. with unique emails '<tag><n>@seed.example.com'."""
    num = f"(CAST(i AS BIGINT) + {first - 1})"
    name = f"'Lead ' || (({num} * 7919) % {LEADS * 10})"
    email = f"'{tag}' || {num} || '@seed.example.com'"
    message = f"'Message number ' || {num} || ' about product ' || ({num} % 97)"
    return f"""INSERT INTO leads (name, email, email_key, message, search_key, owner_id, created_at)
        SELECT {name}, {email}, {email}, {message},
               lower({name} || ' ' || {email} || ' ' || {message}),
               {owner_expr}, {T0} + {num} * 30000000
        FROM {numbers(db, count)}"""


def main():
    mode, db = sys.argv[1], sys.argv[2]
    started = time.time()
    if mode == "base":
        bench, writer = sys.argv[3], sys.argv[4]
        sellers = f"(SELECT id FROM users WHERE username LIKE 'seller%')"
        stmts = [
            f"UPDATE users SET is_staff = FALSE WHERE username IN ('{bench}', '{writer}')",
            f"""INSERT INTO users (username, username_key, email, password, is_staff, is_active, date_joined)
                SELECT 'seller' || i, 'seller' || i, 'seller' || i || '@example.com',
                       (SELECT password FROM users WHERE username = '{bench}'), FALSE, TRUE,
                       {T0} + CAST(i AS BIGINT) * 1000000
                FROM {numbers(db, USERS - 2)}""",
            leads_insert(db, BENCH_LEADS, 1, f"(SELECT id FROM users WHERE username = '{bench}')", "bench"),
            leads_insert(db, LEADS - BENCH_LEADS, 1,
                         f"(SELECT MIN(id) FROM {sellers} AS s) + (i % {USERS - 2})", "lead"),
        ]
        total = run_sql(db, stmts, "SELECT COUNT(*) FROM leads")
        users = run_sql(db, [], "SELECT COUNT(*) FROM users")
    elif mode == "extra":
        count = int(sys.argv[3])
        first = int(run_sql(db, [], "SELECT COUNT(*) FROM leads WHERE email_key LIKE 'lead%'")) + 1
        stmts = [leads_insert(db, count, first,
                              f"(SELECT MIN(id) FROM users WHERE username LIKE 'seller%') + (i % {USERS - 2})",
                              "lead")]
        total = run_sql(db, stmts, "SELECT COUNT(*) FROM leads")
        users = run_sql(db, [], "SELECT COUNT(*) FROM users")
    else:
        sys.exit(f"unknown mode {mode}")
    # Statistics as autovacuum / a routine ANALYZE would keep them.
    if db.startswith("postgres:"):
        subprocess.run(["psql", db[len("postgres:"):], "-X", "-q", "-c", "VACUUM ANALYZE"], check=True)
    else:
        run_sql(db, ["ANALYZE"])
    print(f"seeded ({mode}): {users} users, {total} leads in the table, {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
