#!/usr/bin/env python3
"""No secret reaches the server's log, and every request is logged.

Starts a release server on a fresh SQLite file with stdout and stderr going
to one log file, and makes a full run over the API and the pages:
register, several logins, wrong passwords, an unknown user, the token on
every API endpoint (also as Bearer), bad tokens and malformed headers, a
token revoked by key, logout and logoutall; then in the pages signup and
login with the pre-session CSRF token and seed cookie, the leads pages, the
account pages, a password change, revoking other sessions, a bad CSRF token,
a forged session cookie, logout. It collects every secret it saw or sent:
each token issued, each password (right and wrong), each Set-Cookie value,
each CSRF token, the persisted secret key. After stopping the server:

PART 1 (secrets): the log must contain none of them, and for tokens not even
their first 15 characters (the token_key), also for the two tokens revoked
by key through DELETE /api/auth/tokens/<token_key> and
/account/sessions/<token_key>/revoke: such paths must be logged as their
route pattern.

PART 2 (request log): the log must hold one JSON line per request (lines with
"method" and "status"), at least as many as the requests made; each request
made must match a line with the same method, path and status, carrying a
duration, and the user id of the caller for authenticated requests (null for
anonymous and rejected ones).

Usage: check_secrets.py BIN
"""
import json
import os
import re
import secrets as rnd
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "faults"))
import common as c  # noqa: E402

ANON = "anonymous"          # expected user of a request: must log no user
FORM_ERROR = (200, 400, 422)  # a form shown again with its errors
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PATH_KEYS = ("path", "uri", "url", "route")
USER_KEYS = ("user_id", "user", "uid", "userId", "user.id")


class Run:
    def __init__(self, server):
        self.server = server
        self.made = []            # (method, path, status, expected user)
        self.secrets = {}         # value -> what it is
        self.tokens = {}          # token -> what it is (also checked by first 15 chars)
        self.keys_in_urls = set()  # token_keys the client itself put in a URL
        self.jar = {}

    def secret(self, value, kind, what=""):
        """kind: token, password, cookie, csrf or key."""
        if value and len(value) >= 8:   # shorter values would match by chance
            self.secrets.setdefault(value, (kind, what))

    def token(self, value, what):
        if value and len(value) >= 15:
            self.tokens.setdefault(value, what)
            self.secret(value, "token", what)

    def password(self, what):
        value = f"Pw-{what}-{rnd.token_hex(12)}"
        self.secret(value, "password", what)
        return value

    def req(self, method, path, expect, user=None, cookies=False, **kw):
        headers = dict(kw.pop("headers", {}))
        if cookies and self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
            for k, v in self.jar.items():
                self.secret(v, "cookie", f"{k} sent")
        if "token" in kw and kw["token"]:
            self.token(kw["token"], "token sent")
        for pair in headers.get("Cookie", "").split(";"):
            if "=" in pair:
                self.secret(pair.split("=", 1)[1].strip(), "cookie", "sent")
        if "Authorization" in headers:
            for part in headers["Authorization"].split()[1:]:
                self.token(part, "Authorization value sent")
        r = c.call(self.server, method, path, headers=headers, **kw)
        want = expect if isinstance(expect, tuple) else (expect,)
        c.check(r.status in want, f"{method} {path}: want {expect}, got {r!r}")
        self.made.append((method, path, r.status, user))
        for raw in r.header_all("Set-Cookie"):
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            gone = value == "" or "max-age=0" in rest.lower()
            if gone:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
                if name.endswith("leads_session"):
                    self.token(value, f"token in Set-Cookie {name}")
                self.secret(value, "cookie", f"Set-Cookie {name}")
        for token in CSRF_FIELD.findall(r.text):
            self.secret(token, "csrf", "in a form")
        body = r.json() if "json" in (r.header("Content-Type") or "") else None
        if isinstance(body, dict) and isinstance(body.get("token"), str):
            self.token(body["token"], f"token issued by {method} {path}")
        return r

    def csrf(self, r):
        tokens = CSRF_FIELD.findall(r.text)
        c.check(tokens, "no CSRF token in the page")
        return tokens[-1]


def api_run(run):
    s = run
    user = c.unique("sec_")
    pw = s.password("register")
    r = s.req("POST", "/api/auth/register", 200,
              body={"username": user, "email": f"{user}@example.com", "password": pw})
    t1, uid = r.json()["token"], r.json()["user"]["id"]
    logins = []
    for i in range(3):
        r = s.req("POST", "/api/auth/login", 200,
                  body={"username": user, "password": pw, "client": f"script {i}"})
        logins.append(r.json()["token"])
    t2, t3, t4 = logins
    for i in range(2):
        s.req("POST", "/api/auth/login", 400,
              body={"username": user, "password": s.password(f"wrong{i}")})
    s.req("POST", "/api/auth/login", 400,
          body={"username": "nobody_" + user, "password": s.password("unknown-user")})
    s.req("POST", "/api/auth/register", 400,
          body={"username": user, "email": "x@example.com", "password": s.password("dup-user")})

    s.req("GET", "/api/auth/user", 200, uid, token=t2)
    s.req("GET", "/api/user", 200, uid, token=t2)
    s.req("GET", "/api/auth/user/", 200, uid, token=t2)
    s.req("GET", "/api/auth/user", 200, uid, headers={"Authorization": f"Bearer {t4}"})
    s.req("GET", "/api/auth/tokens", 200, uid, token=t2)
    r = s.req("POST", "/api/leads/", 201, uid, token=t2,
              body={"name": "Secret Lead", "email": f"{user}.lead@example.com", "message": "m"})
    lead = r.json()["id"]
    s.req("POST", "/api/leads", 201, uid, token=t2,
          form={"name": "Form Lead", "email": f"{user}.form@example.com", "message": "m"})
    s.req("GET", "/api/leads/", 200, uid, token=t2)
    s.req("GET", "/api/leads/?search=secret&ordering=-created_at&page=1", 200, uid, token=t2)
    s.req("GET", f"/api/leads/{lead}/", 200, uid, token=t2)
    s.req("PUT", f"/api/leads/{lead}/", 200, uid, token=t2,
          body={"name": "Put", "email": f"{user}.lead@example.com", "message": "m2"})
    s.req("PATCH", f"/api/leads/{lead}/", 200, uid, token=t2, body={"message": "m3"})
    s.req("POST", "/api/leads/", 400, uid, token=t2, body={"name": "", "email": "bad"})
    s.req("DELETE", f"/api/leads/{lead}/", 204, uid, token=t2)
    s.req("GET", f"/api/leads/{lead}/", 404, uid, token=t2)
    s.req("PUT", "/api/auth/user", 405, uid, token=t2)

    key3 = t3[:15]
    s.keys_in_urls.add(key3)
    s.req("DELETE", f"/api/auth/tokens/{key3}", 204, uid, token=t2)
    s.req("GET", "/api/auth/user", 401, ANON, token=t3)

    s.req("GET", "/api/leads/", 401, ANON)
    s.req("GET", "/api/leads/", 401, ANON, token=rnd.token_hex(32))
    s.req("GET", "/api/leads/", 401, ANON, token=t4[:15] + rnd.token_hex(25))
    s.req("GET", "/api/leads/", 401, ANON,
          headers={"Authorization": f"Token {rnd.token_hex(8)} {rnd.token_hex(8)}"})
    s.req("GET", "/api/leads/", 401, ANON, headers={"Authorization": "Token"})
    s.req("POST", "/api/auth/login", 401, ANON, token=rnd.token_hex(32),
          body={"username": user, "password": pw})

    s.req("POST", "/api/auth/logout", 204, uid, token=t2)
    s.req("GET", "/api/auth/user", 401, ANON, token=t2)
    s.req("POST", "/api/auth/logoutall", 204, uid, token=t4)
    s.req("GET", "/api/auth/user", 401, ANON, token=t1)
    return uid


def pages_run(run):
    s = run
    user = c.unique("secpage_")
    pw = s.password("signup")
    r = s.req("GET", "/signup", 200, ANON, cookies=True)
    s.req("POST", "/signup", 303, None, cookies=True,
          form={"csrf_token": s.csrf(r), "username": user, "email": f"{user}@example.com",
                "password": pw})
    cookie_name = next((k for k in s.jar if k.endswith("leads_session")), None)
    c.check(cookie_name, f"no session cookie after signup: {list(s.jar)}")
    session = s.jar[cookie_name]
    r = s.req("GET", "/api/auth/user", 200, None, token=session)
    uid = r.json()["id"]

    r = s.req("GET", "/leads", 200, uid, cookies=True)
    csrf = s.csrf(r)
    r = s.req("GET", "/leads/new", 200, uid, cookies=True)
    s.req("POST", "/leads/new", 303, uid, cookies=True,
          form={"csrf_token": s.csrf(r), "name": "Page Lead",
                "email": f"{user}.lead@example.com", "message": "hello"})
    s.req("POST", "/leads/new", 403, None, cookies=True,
          form={"csrf_token": rnd.token_hex(32), "name": "Forged",
                "email": f"{user}.forged@example.com", "message": "x"})
    s.req("GET", "/leads?search=page&ordering=name", 200, uid, cookies=True)
    r = s.req("GET", "/account/sessions", 200, uid, cookies=True)
    r = s.req("GET", "/account/password", 200, uid, cookies=True)
    new_pw = s.password("changed")
    s.req("POST", "/account/password", FORM_ERROR, uid, cookies=True,
          form={"csrf_token": s.csrf(r), "old_password": s.password("wrong-old"),
                "new_password": s.password("rejected-new")})
    r = s.req("GET", "/account/password", 200, uid, cookies=True)
    s.req("POST", "/account/password", 303, uid, cookies=True,
          form={"csrf_token": s.csrf(r), "old_password": pw, "new_password": new_pw})
    s.req("POST", "/logout", 303, uid, cookies=True, form={"csrf_token": csrf})

    r = s.req("GET", "/login", 200, ANON, cookies=True)
    s.req("POST", "/login", FORM_ERROR, None, cookies=True,
          form={"csrf_token": s.csrf(r), "username": user, "password": s.password("page-wrong")})
    r = s.req("GET", "/login", 200, ANON, cookies=True)
    s.req("POST", "/login", 303, None, cookies=True,
          form={"csrf_token": s.csrf(r), "username": user, "password": new_pw})
    r = s.req("POST", "/api/auth/login", 200, None, body={"username": user, "password": new_pw})
    other = r.json()["token"]
    r = s.req("GET", "/account/sessions", 200, uid, cookies=True)
    key = other[:15]
    s.keys_in_urls.add(key)
    s.req("POST", f"/account/sessions/{key}/revoke", 303, uid, cookies=True,
          form={"csrf_token": s.csrf(r)})
    r = s.req("GET", "/account/sessions", 200, uid, cookies=True)
    s.req("POST", "/account/sessions/revoke-others", 303, uid, cookies=True,
          form={"csrf_token": s.csrf(r)})
    r = s.req("GET", "/leads", 200, uid, cookies=True)
    s.req("POST", "/logout", 303, uid, cookies=True, form={"csrf_token": s.csrf(r)})
    s.req("GET", "/leads", 303, ANON,
          headers={"Cookie": f"{cookie_name}={rnd.token_hex(32)}"})
    return uid


def json_lines(text):
    lines = []
    for line in text.splitlines():
        line = line.strip()
        start = line.find("{")
        if start < 0 or '"method"' not in line or '"status"' not in line:
            continue
        try:
            obj = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(obj, dict) and "method" in obj and "status" in obj:
            lines.append(obj)
    return lines


def field(obj, keys):
    for k in keys:
        if k in obj:
            return k, obj[k]
        if "." in k:
            head, tail = k.split(".", 1)
            if isinstance(obj.get(head), dict) and tail in obj[head]:
                return k, obj[head][tail]
    return None, None


def norm_path(p):
    p = str(p).split("?", 1)[0]
    return p.rstrip("/") or "/"


def path_matches(logged, made):
    """The logged path is the request's, or its route's pattern where a
    segment is secret-looking (`/api/auth/tokens/<token_key>`)."""
    a, b = norm_path(logged).split("/"), norm_path(made).split("/")
    return len(a) == len(b) and all(
        x == y or (x.startswith("<") and x.endswith(">")) for x, y in zip(a, b))


def is_duration_key(key):
    k = key.lower()
    return (any(w in k for w in ("duration", "elapsed", "latency"))
            or k in ("ms", "us", "millis", "micros") or k.endswith(("_ms", "_us")))


def check_request_log(run, text):
    lines = json_lines(text)
    made = run.made
    c.check(lines, f"no JSON request lines (with \"method\" and \"status\") in the log; "
            f"{len(made)} requests were made")
    c.check(len(lines) >= len(made), f"{len(lines)} JSON request lines for {len(made)} requests")
    sample = lines[0]
    path_key, _ = field(sample, PATH_KEYS)
    c.check(path_key, f"request lines have no path field ({', '.join(PATH_KEYS)}): {sample}")
    no_duration = [line for line in lines if not any(
        is_duration_key(k) and isinstance(v, (int, float)) for k, v in line.items())]
    c.check(not no_duration, f"{len(no_duration)} request lines without a numeric duration "
            f"field, e.g. {no_duration[:1]}")
    user_key = None
    for line in lines:
        user_key, _ = field(line, USER_KEYS)
        if user_key:
            break
    c.check(user_key, f"no request line has a user id field ({', '.join(USER_KEYS)}): {sample}")

    used = [False] * len(lines)
    unmatched, wrong_user = [], []
    authed = anonymous = 0
    for method, path, status, user in made:
        hit = None
        for i, line in enumerate(lines):
            if used[i] or str(line.get("method")).upper() != method:
                continue
            if str(line.get("status")) != str(status):
                continue
            if not path_matches(field(line, PATH_KEYS)[1], path):
                continue
            hit = i
            break
        if hit is None:
            unmatched.append((method, path, status))
            continue
        used[hit] = True
        logged = field(lines[hit], USER_KEYS)[1]
        if user == ANON:
            anonymous += 1
            if logged not in (None, "", 0):
                wrong_user.append((method, path, status, "want none", logged))
        elif user is not None:
            authed += 1
            if str(logged) != str(user):
                wrong_user.append((method, path, status, f"want {user}", logged))
    c.check(not unmatched, f"{len(unmatched)} of {len(made)} requests have no log line with that "
            f"method, path and status, e.g. {unmatched[:5]}")
    c.check(not wrong_user, f"{len(wrong_user)} log lines carry the wrong user id, "
            f"e.g. {wrong_user[:5]}")
    return (f"{len(lines)} JSON request lines for {len(made)} requests, all matched by "
            f"method/path/status; user id right on {authed} authenticated and {anonymous} "
            f"anonymous/rejected requests (fields {path_key!r}, {user_key!r})")


def body(res):
    binary = sys.argv[1]
    tmp = res.tempdir("leads-logs-secrets-")
    log_path = os.path.join(tmp, "server.log")
    server = c.Server(res, binary, f"sqlite://{tmp}/leads.db", os.path.join(tmp, "server"),
                      log_path=log_path)
    server.start()
    run = Run(server)
    api_run(run)
    pages_run(run)
    with open(os.path.join(server.workdir, "leads.secret")) as f:
        run.secret(f.read().strip(), "key", "persisted secret key (leads.secret)")
    server.stop()
    with open(log_path, errors="replace") as f:
        text = f.read()

    checks = c.SubChecks()

    def secrets_part():
        issued = [t for t, what in run.tokens.items() if "issued" in what or "Set-Cookie" in what]
        c.check(len(issued) >= 7, f"only {len(issued)} issued tokens collected")
        leaks = [(kind, what, v[:20] + "...") for v, (kind, what) in run.secrets.items()
                 if v in text]
        prefixes = [(what, t[:15], "in a URL we sent" if t[:15] in run.keys_in_urls else "")
                    for t, what in run.tokens.items() if t[:15] in text]
        c.check(not leaks, f"{len(leaks)} secrets found in the log: {leaks[:5]}")
        c.check(not prefixes, f"{len(prefixes)} token_keys (first 15 characters) found in the "
                f"log: {prefixes[:5]}")
        kinds = {}
        for kind, _ in run.secrets.values():
            kinds[kind] = kinds.get(kind, 0) + 1
        checked_keys = {t[:15] for t in run.tokens}
        return (f"{len(run.secrets)} distinct secrets ("
                + ", ".join(f"{v} {k}" for k, v in sorted(kinds.items()))
                + f"; of the tokens {len(issued)} issued, {len(run.tokens) - len(issued)} forged "
                f"or invalid) and {len(checked_keys)} token_keys: none in the "
                f"{len(text.splitlines())}-line log ({len(run.made)} requests made)")

    checks.run("PART 1 secrets", secrets_part)
    checks.run("PART 2 request log", check_request_log, run, text)
    checks.finish()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: check_secrets.py BIN")
    c.main("check_secrets", body, deadline=120)
