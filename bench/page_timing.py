#!/usr/bin/env python3
"""Scenario pages: the server time of every page of a signed-in user with
100 leads (in a database of 100,000), read from `Server-Timing`. Target
(T8): every page's median under 20 ms.

  page_timing.py BASE_URL [RUNS]

Signs up a new user through the form, adds 100 leads over the API with the
session's token, then requests each page RUNS (default 30) times. Prints
one JSON line.
"""
import json
import re
import secrets
import sys
import urllib.parse

from timing import request, time_pages

BASE = sys.argv[1].rstrip("/")
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 30
PASSWORD = "Page-Timing-Measure-42"
LEADS = 100

# Cookies by hand: the release profile marks them Secure, which Python's
# cookie jar will not send over plain http to 127.0.0.1 (browsers do).
cookies = {}


def fetch(path, data=None, headers=None):
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    resp = request(BASE + path, data, headers)
    for header in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    return resp


def csrf(html):
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


user = "pages_" + secrets.token_hex(4)
form = urllib.parse.urlencode({"csrf_token": csrf(fetch("/signup").body.decode()), "username": user,
                               "email": f"{user}@example.com", "password": PASSWORD}).encode()
status = fetch("/signup", form).status
assert status == 303, f"signup: HTTP {status}"
token = next(v for k, v in cookies.items() if k.endswith("leads_session"))
for i in range(LEADS):
    lead = {"name": f"Lead {i:03}", "email": f"{user}.{i}@example.com", "message": "Interested in a demo " * 5}
    status = fetch("/api/leads/", lead, {"Authorization": f"Token {token}"}).status
    assert status == 201, f"create lead: HTTP {status}"
lead_id = re.search(r'href="/leads/(\d+)/edit"', fetch("/leads").body.decode()).group(1)
# /login and /signup as a visitor sees them (signed in, they redirect).
signed_out = ["/login", "/signup"]
paths = signed_out + ["/leads", "/leads?page=5", "/leads?search=Lead+05&ordering=-name", "/leads/new",
                      f"/leads/{lead_id}/edit", f"/leads/{lead_id}/delete", "/account/sessions", "/account/password"]
pages = time_pages(lambda path: request(BASE + path) if path in signed_out else fetch(path), paths, RUNS)
print(json.dumps({"runs": RUNS, "leads": LEADS, "pages": pages}))
