#!/usr/bin/env python3
"""Scenario login-timing (SPEC §5): a login with a wrong password for an
existing user and one with an unknown username take the same time, as a
client sees it (the unknown one verifies a dummy hash). Target (T7): the two
medians less than 20% apart, the difference taken over the slower.

  login_timing.py BASE_URL USERNAME [PAIRS]

PAIRS (default 50) wrong-password and unknown-user logins, interleaved so
that the machine's drifts touch both alike. The server must not throttle
(bench/run starts this one with both login limits at 0): every one of these
logins fails. Prints one JSON line.
"""
import json
import secrets
import statistics
import sys

from timing import log, request

base, user = sys.argv[1].rstrip("/"), sys.argv[2]
pairs = int(sys.argv[3]) if len(sys.argv) > 3 else 50
unknown_user = "nobody_" + secrets.token_hex(4)


def failed_login(username):
    resp = request(base + "/api/auth/login", {"username": username, "password": "wrong-password-1"})
    if resp.status != 400:
        sys.exit(f"login as {username} with a wrong password: HTTP {resp.status}, expected 400")
    return resp.wall_ms


# Warm up both paths (the dummy hash is computed on first use).
failed_login(user), failed_login(unknown_user)
wrong, unknown = [], []
for _ in range(pairs):
    wrong.append(failed_login(user))
    unknown.append(failed_login(unknown_user))
wrong_ms, unknown_ms = statistics.median(wrong), statistics.median(unknown)
apart = abs(wrong_ms - unknown_ms) / max(wrong_ms, unknown_ms)
log(f"  login, wrong password: median {wrong_ms:.1f} ms; unknown username: median {unknown_ms:.1f} ms; "
    f"{apart:.1%} apart (target < 20%), {pairs} pairs")
print(json.dumps({"pairs": pairs, "wrong_ms": round(wrong_ms, 3), "unknown_ms": round(unknown_ms, 3),
                  "apart": round(apart, 5)}))
