#!/usr/bin/env python3
"""Server time of every page for an account with 100 leads, read from the
`Server-Timing` header (a measurement to report, not a pass/fail test).

Usage: page_timing.py BASE_URL
"""
import json
import urllib.error
import re
import secrets
import statistics
import sys
import urllib.parse
import urllib.request

BASE = sys.argv[1].rstrip("/")
PASSWORD = "Page-Timing-Measure-42"
RUNS = 30

# Cookies by hand: the release profile marks them Secure, which Python's
# cookie jar will not send over plain http to 127.0.0.1 (browsers do).
cookies = {}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def fetch(path, data=None, headers=None):
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    req = urllib.request.Request(BASE + path, data=data, headers=headers)
    try:
        resp = opener.open(req, timeout=30)
    except urllib.error.HTTPError as err:
        resp = err
    for header in resp.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        cookies[name] = rest.split(";", 1)[0]
    body = resp.read().decode()
    timing = resp.headers.get("Server-Timing", "")
    match = re.search(r"dur=([0-9.]+)", timing)
    return resp.status, body, float(match.group(1)) if match else None


def csrf(html):
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


def main():
    user = "pages_" + secrets.token_hex(4)
    _, page, _ = fetch("/signup")
    form = urllib.parse.urlencode({"csrf_token": csrf(page), "username": user,
                                   "email": f"{user}@example.com", "password": PASSWORD}).encode()
    status, _, _ = fetch("/signup", form)
    assert status == 303, status
    token = next(v for k, v in cookies.items() if k.endswith("leads_session"))
    for i in range(100):
        body = json.dumps({"name": f"Lead {i:03}", "email": f"{user}.{i}@example.com",
                           "message": "Interested in a demo " * 5}).encode()
        status, _, _ = fetch("/api/leads/", body, {"Authorization": f"Token {token}",
                                                   "Content-Type": "application/json"})
        assert status == 201, status
    _, listing, _ = fetch("/leads")
    lead_id = re.search(r'href="/leads/(\d+)/edit"', listing).group(1)
    pages = ["/login", "/signup", "/leads", "/leads?page=5", "/leads?search=Lead+05&ordering=-name",
             "/leads/new", f"/leads/{lead_id}/edit", f"/leads/{lead_id}/delete",
             "/account/sessions", "/account/password"]
    print(f"{'page':45} {'median ms':>10} {'max ms':>8}")
    worst = 0.0
    for path in pages:
        times = []
        for _ in range(RUNS):
            status, _, dur = fetch(path)
            assert status in (200, 303), (path, status)
            times.append(dur)
        worst = max(worst, statistics.median(times))
        print(f"{path:45} {statistics.median(times):10.2f} {max(times):8.2f}")
    print(f"slowest page median: {worst:.2f} ms server time (target < 20 ms), {RUNS} runs each, 100 leads")


if __name__ == "__main__":
    main()
