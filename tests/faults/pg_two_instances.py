#!/usr/bin/env python3
"""Two app instances on one PostgreSQL database share all their state.

A fresh database on the suite's server (LEADS_TEST_PG_URL, dropped at the
end WITH (FORCE)) and two release servers A and B on it. Independent sub-checks:
  - tokens: a token from a login on A authenticates on B (same user), and a
    lead created through B is read through A;
  - logout: logout on A makes the token 401 on B at once; logoutall on B
    revokes a token issued by A;
  - throttle: 5 failed logins for one username spread over A and B (all from
    127.0.0.1) are each 400; the next login, with the right password, is 429
    with Retry-After and the DRF detail on B and on A;
  - throttle-per-address: the same user logging in from another address
    (127.0.0.2) with the right password is not locked out (200);
  - unique-race: 3 rounds of 40 concurrent creates of 10 emails in varying
    case, alternating A/B, from 4 users: exactly one 201 per email, every
    other answer 400 {"email": ["lead with this email already exists."]},
    no 5xx, no unanswered request, 10 rows per round in the database.
Usage: pg_two_instances.py BIN (CI set: PostgreSQL unreachable fails).
"""
import os
import re
import sys
import threading

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as c  # noqa: E402

DUPLICATE = {"email": ["lead with this email already exists."]}
INVALID_TOKEN = {"detail": "Invalid token."}
BAD_CREDENTIALS = {"non_field_errors": ["Incorrect Credentials Passed."]}
THROTTLED = re.compile(r"^Request was throttled\. Expected available in (\d+) seconds\.$")


def check_tokens(a, b):
    user = c.unique("two_tok_")
    c.register(a, user)
    r = c.login(a, user)
    c.check(r.status == 200, f"login on A: {r!r}")
    token, uid = r.json()["token"], r.json()["user"]["id"]
    r = c.call(b, "GET", "/api/auth/user", token=token)
    c.check(r.status == 200 and r.json().get("id") == uid and r.json().get("username") == user,
            f"A's token on B: {r!r}")
    email = f"{user}.lead@example.com"
    r = c.call(b, "POST", "/api/leads/", {"name": "Via B", "email": email, "message": "m"},
               token=token)
    c.check(r.status == 201, f"create on B: {r!r}")
    lead_id = r.json()["id"]
    r = c.call(a, "GET", f"/api/leads/{lead_id}/", token=token)
    c.check(r.status == 200 and r.json().get("email") == email, f"B's lead read on A: {r!r}")
    return "token from A: B GET /api/auth/user 200 same user; lead made on B read on A 200"


def check_logout(a, b):
    user = c.unique("two_out_")
    c.register(b, user)
    r = c.login(a, user)
    c.check(r.status == 200, f"login on A: {r!r}")
    token = r.json()["token"]
    r = c.call(b, "GET", "/api/auth/user", token=token)
    c.check(r.status == 200, f"token on B before logout: {r!r}")
    r = c.call(a, "POST", "/api/auth/logout", token=token)
    c.check(r.status == 204, f"logout on A: {r!r}")
    r = c.call(b, "GET", "/api/auth/user", token=token)
    c.check(r.status == 401 and r.json() == INVALID_TOKEN,
            f"token on B right after logout on A: {r!r}")
    r = c.call(a, "GET", "/api/auth/user", token=token)
    c.check(r.status == 401, f"token on A after logout: {r!r}")

    r1, r2 = c.login(a, user), c.login(b, user)
    c.check(r1.status == 200 and r2.status == 200, f"logins: {r1!r} {r2!r}")
    t_a, t_b = r1.json()["token"], r2.json()["token"]
    r = c.call(b, "POST", "/api/auth/logoutall", token=t_b)
    c.check(r.status == 204, f"logoutall on B: {r!r}")
    for server, name in ((a, "A"), (b, "B")):
        r = c.call(server, "GET", "/api/leads/", token=t_a)
        c.check(r.status == 401 and r.json() == INVALID_TOKEN,
                f"A-issued token on {name} after logoutall on B: {r!r}")
    return "logout on A: token 401 on B immediately; logoutall on B: A's token 401 on A and B"


def check_throttle(a, b, user):
    for i, server in enumerate((a, b, a, b, a)):
        r = c.login(server, user, password=f"wrong-password-{i}")
        c.check(r.status == 400 and r.json() == BAD_CREDENTIALS,
                f"failed login {i + 1} of 5 ({'AB'[i % 2]}): {r!r}")
    results = []
    for server, name in ((b, "B"), (a, "A")):
        r = c.login(server, user)  # the right password
        detail = (r.json() or {}).get("detail", "") if r.status else ""
        m = THROTTLED.match(detail) if isinstance(detail, str) else None
        retry = r.header("Retry-After")
        c.check(r.status == 429, f"6th login (right password) on {name}: expected 429, got {r!r}")
        c.check(retry is not None and retry.isdigit() and 0 < int(retry) <= 15 * 60,
                f"429 on {name} without a sane Retry-After: {retry!r}")
        c.check(m is not None, f"429 on {name} with an unexpected body: {r!r}")
        results.append(f"{name} 429 Retry-After {retry}")
    return "5 failures over A,B,A,B,A each 400; right password then " + ", ".join(results)


def check_throttle_other_address(a, user):
    r = c.login(a, user, source="127.0.0.2")
    c.check(r.status == 200, f"the right password from 127.0.0.2 after 127.0.0.1 was throttled: "
            f"{r!r}")
    return "login from 127.0.0.2 with the right password 200"


def check_unique_race(a, b, dbname):
    tokens = []
    for i in range(4):
        token, _ = c.register((a, b)[i % 2], c.unique(f"two_race{i}_"))
        tokens.append(token)
    totals = {"201": 0, "400": 0}
    for rnd in range(3):
        tag = f"race{os.getpid()}r{rnd}"
        emails = [f"{tag}.e{i}@example.com" for i in range(10)]
        barrier = threading.Barrier(40)

        def variant(email, k):
            # k: 0 lower, 1 upper, 2 capitalised, 3 upper domain
            local, domain = email.split("@")
            return [email, email.upper(), local.capitalize() + "@" + domain,
                    local + "@" + domain.upper()][k % 4]

        def make(j):
            def run():
                email = variant(emails[j % 10], j // 10)
                server = (a, b)[j % 2]
                token = tokens[j % 4]
                barrier.wait(30)
                return email, c.call(server, "POST", "/api/leads/",
                                     {"name": f"Race {j}", "email": email, "message": "m"},
                                     token=token, timeout=30)
            return run

        results = c.run_threads([make(j) for j in range(40)], timeout=60)
        per_email = {e: [] for e in emails}
        for email, r in results:
            per_email[email.lower()].append(r)
        for email, resps in per_email.items():
            statuses = sorted(r.status or 0 for r in resps)
            c.check(all(r.status is not None for r in resps),
                    f"round {rnd}: unanswered creates of {email}: {resps}")
            c.check(not any(r.status >= 500 for r in resps), f"round {rnd}: 5xx for {email}: "
                    f"{[r for r in resps if r.status >= 500][:2]}")
            c.check(statuses.count(201) == 1, f"round {rnd}: {statuses.count(201)} creates of "
                    f"{email} answered 201 (statuses {statuses})")
            others = [r for r in resps if r.status != 201]
            c.check(all(r.status == 400 and r.json() == DUPLICATE for r in others),
                    f"round {rnd}: losing creates of {email} not the duplicate 400: "
                    f"{[r for r in others if r.json() != DUPLICATE][:2]}")
            totals["201"] += 1
            totals["400"] += len(others)
        rows = c.psql(f"SELECT count(*), count(DISTINCT lower(email)) FROM leads "
                      f"WHERE lower(email) LIKE '{tag}.%'", db=dbname)
        c.check(rows == "10|10", f"round {rnd}: database rows (count|distinct) = {rows}, want 10|10")
    return (f"3 rounds x 40 concurrent creates of 10 emails over A/B: {totals['201']} x 201 "
            f"(one per email), {totals['400']} x 400 duplicate, 0 x 5xx, 10 rows per round")


def body(res):
    binary = sys.argv[1]
    dbname = f"leads_fault_{os.getpid()}"
    url = c.shared_pg_database(res, dbname)
    tmp = res.tempdir("leads-fault-two-")
    a = c.Server(res, binary, url, os.path.join(tmp, "a")).start()
    b = c.Server(res, binary, url, os.path.join(tmp, "b")).start()
    c.log(f"two instances on {dbname}: A on :{a.port}, B on :{b.port}")

    throttled_user = c.unique("two_thr_")
    c.register(a, throttled_user)

    checks = c.SubChecks()
    checks.run("tokens", check_tokens, a, b)
    checks.run("logout", check_logout, a, b)
    checks.run("throttle", check_throttle, a, b, throttled_user)
    checks.run("throttle-per-address", check_throttle_other_address, a, throttled_user)
    checks.run("unique-race", check_unique_race, a, b, dbname)
    c.check(a.alive() and b.alive(), "a server died")
    checks.finish()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: pg_two_instances.py BIN")
    c.main("pg_two_instances", body, deadline=120)
