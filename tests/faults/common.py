"""Shared helpers for the fault tests (Python 3.11 standard library only).

Every test builds its resources (servers, temp dirs, databases, a private
PostgreSQL) through a `Resources` stack, so they are released in reverse
order on success, on an assertion failure, on Ctrl-C, on SIGTERM from the
runner's `timeout`, and when the test's own deadline (SIGALRM) fires.
"""
import contextlib
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROCKET_CONFIG = os.path.join(ROOT, "Rocket.toml")
PASSWORD = "Fault-Tolerant-Passphrase-42"
SKIP = 77  # exit status of a skipped test (run.sh reports it, does not fail)


class Failure(AssertionError):
    pass


class Skip(Exception):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


def log(message):
    print(message, flush=True)


# ---------------------------------------------------------------- time limits

class DeadlineExceeded(Exception):
    pass


def _quiet():
    """After the first deadline or termination signal, let cleanup finish
    undisturbed (the runner's `timeout --kill-after` is the last resort)."""
    signal.alarm(0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def _raise_deadline(signum, frame):
    _quiet()
    raise DeadlineExceeded("test deadline exceeded (SIGALRM)")


def _raise_terminated(signum, frame):
    _quiet()
    raise SystemExit(f"terminated by signal {signum}")


def install_limits(seconds):
    """A hard deadline for the whole test, and SIGTERM/SIGHUP turned into an
    exception so that cleanup runs when the runner's `timeout` fires."""
    signal.signal(signal.SIGALRM, _raise_deadline)
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGHUP, _raise_terminated)
    signal.alarm(int(seconds))


def main(name, body, deadline):
    """Runs `body(resources)` with cleanup; exits 0 (pass), 1 (fail) or 77 (skip)."""
    install_limits(deadline)
    started = time.monotonic()
    status = 1
    try:
        with Resources() as res:
            body(res)
        status = 0
    except Skip as skip:
        log(f"SKIP {name}: {skip}")
        status = SKIP
    except (Failure, DeadlineExceeded, SystemExit, KeyboardInterrupt) as err:
        log(f"FAIL {name}: {type(err).__name__ if isinstance(err, KeyboardInterrupt) else err}")
    except BaseException:  # noqa: BLE001 - report anything, then fail
        log(f"FAIL {name}: unexpected error")
        traceback.print_exc()
    finally:
        signal.alarm(0)
    if status == 0:
        log(f"PASS {name} ({time.monotonic() - started:.1f} s)")
    sys.stdout.flush()
    sys.exit(status)


class SubChecks:
    """Independent sub-checks of one test: each runs even when an earlier one
    failed, and the test fails at the end if any did."""

    def __init__(self):
        self.failed = []
        self.passed = []

    def run(self, name, fn, *args):
        try:
            summary = fn(*args)
            log(f"  ok   {name}: {summary}")
            self.passed.append(name)
        except (Failure, AssertionError) as err:
            log(f"  FAIL {name}: {err}")
            self.failed.append(name)
        except DeadlineExceeded:
            raise
        except Exception as err:  # noqa: BLE001
            log(f"  FAIL {name}: unexpected {type(err).__name__}: {err}")
            traceback.print_exc(file=sys.stdout)
            self.failed.append(name)

    def finish(self):
        check(not self.failed,
              f"{len(self.failed)} of {len(self.failed) + len(self.passed)} sub-checks failed: "
              + ", ".join(self.failed))


# ------------------------------------------------------------------ resources

class Resources(contextlib.ExitStack):
    def tempdir(self, prefix):
        path = tempfile.mkdtemp(prefix=prefix)
        self.callback(shutil.rmtree, path, True)
        return path


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listens_on(pid, port):
    """Whether process `pid` holds the socket listening on TCP `port` (from
    /proc: the listening socket's inode among the process's descriptors)."""
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as f:
            for line in list(f)[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    sockets.add(f"socket:[{inode}]")
    fd_dir = f"/proc/{pid}/fd"
    with contextlib.suppress(OSError):
        for fd in os.listdir(fd_dir):
            with contextlib.suppress(OSError):
                if os.readlink(os.path.join(fd_dir, fd)) in sockets:
                    return True
    return False


def port_is_free(port):
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


# --------------------------------------------------------------------- server

class PortTaken(Exception):
    pass


class Server:
    """A release server in its own folder, as tests/run.sh's start_server."""

    def __init__(self, res, binary, db_url, workdir, port=None, env=None, log_path=None,
                 db_options=""):
        self.binary = os.path.abspath(binary)
        self.db_url = db_url
        self.db_options = db_options  # extra keys of databases.leads, e.g. "connect_timeout=2"
        self.workdir = workdir
        self.auto_port = port is None
        self.port = port or free_port()
        self.extra_env = env or {}
        self.log_path = log_path or os.path.join(workdir, "server.log")
        self.proc = None
        self.log_offset = 0
        os.makedirs(workdir, exist_ok=True)
        res.callback(self.stop)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait=20.0, attempts=3):
        check(self.proc is None or self.proc.poll() is not None, "server already running")
        for attempt in range(attempts):
            try:
                return self._start(wait)
            except PortTaken:
                self.stop()
                if not self.auto_port or attempt == attempts - 1:
                    raise Failure(f"port {self.port} in use:\n{self.log_tail()}") from None
                log(f"port {self.port} was taken by someone else; retrying on another")
                self.port = free_port()

    def _start(self, wait):
        env = dict(os.environ)
        env.update({
            "ROCKET_PORT": str(self.port),
            "ROCKET_DATABASES": "{leads={url=\"%s\"%s}}" % (
                self.db_url, "," + self.db_options if self.db_options else ""),
            "ROCKET_CONFIG": ROCKET_CONFIG,
        })
        env.update(self.extra_env)
        logf = open(self.log_path, "ab")
        self.log_offset = logf.tell()      # this start's part of the log
        try:
            self.proc = subprocess.Popen([self.binary, "serve"], cwd=self.workdir, env=env,
                                         stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        finally:
            logf.close()
        end = time.monotonic() + wait
        r = None
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                if "in use" in tail.lower() or "failed to bind" in tail.lower():
                    raise PortTaken()
                raise Failure(f"server exited with {self.proc.returncode} at start:\n{tail}")
            r = call(self, "GET", "/healthz", timeout=2)
            if r.status == 200:
                # Ours, not a leftover server on the same port.
                if not listens_on(self.proc.pid, self.port):
                    raise PortTaken()
                return self
            time.sleep(0.1)
        raise Failure(f"server did not answer /healthz 200 within {wait} s (last attempt: "
                      f"{r!r}); its log:\n{self.log_tail() or '(empty)'}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                f.seek(self.log_offset)
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no log)"


# ----------------------------------------------------------------------- HTTP

class Resp:
    def __init__(self, status, headers, raw, elapsed, error=None):
        self.status = status          # None when no response was received
        self.headers = headers        # list of (name, value)
        self.raw = raw
        self.elapsed = elapsed
        self.error = error

    @property
    def text(self):
        return self.raw.decode("utf-8", "replace")

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        try:
            return json.loads(self.raw) if self.raw else None
        except ValueError:
            return None

    def __repr__(self):
        if self.status is None:
            return f"<no response: {self.error} after {self.elapsed:.2f} s>"
        return f"<{self.status} {self.text[:300]!r}>"


def call(server, method, path, body=None, token=None, form=None, headers=None,
         timeout=15.0, source=None):
    """One request on a fresh connection; never raises for network errors
    (the Resp has status None and the error instead)."""
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif form is not None:
        from urllib.parse import urlencode
        data = urlencode(form).encode()
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    if token:
        hdrs["Authorization"] = f"Token {token}"
    port = server.port if isinstance(server, Server) else int(server)
    start = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        return Resp(resp.status, resp.getheaders(), raw, time.monotonic() - start)
    except (OSError, http.client.HTTPException) as err:
        return Resp(None, [], b"", time.monotonic() - start, f"{type(err).__name__}: {err}")
    finally:
        conn.close()


def register(server, username, password=PASSWORD, email=None):
    r = call(server, "POST", "/api/auth/register",
             {"username": username, "email": email or f"{username}@example.com",
              "password": password})
    check(r.status == 200, f"register {username}: {r!r}")
    body = r.json()
    return body["token"], body["user"]["id"]


def login(server, username, password=PASSWORD, source=None):
    return call(server, "POST", "/api/auth/login",
                {"username": username, "password": password}, source=source)


def unique(prefix):
    return f"{prefix}{os.getpid()}_{int(time.time() * 1000) % 100000000}"


# ----------------------------------------------------------------- PostgreSQL

def ci():
    """CI is set: to anything but empty, 0, false or no (any case). The same
    rule as tests/support/suite_env.rs; under CI nothing may be skipped."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def pg_unavailable(reason):
    """CI must not silently skip PostgreSQL tests."""
    if ci():
        raise Failure(f"PostgreSQL required under CI but unavailable: {reason}")
    raise Skip(f"PostgreSQL unavailable ({reason}); set CI=1 to make this a failure")


def pg_server_url():
    """The PostgreSQL server of the suite: LEADS_TEST_PG_URL (tests/run.sh
    starts a private one and sets it), by default the local service."""
    return os.environ.get("LEADS_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def pg_database_url(name):
    """The URL of database `name` on the suite's server."""
    return pg_server_url().rsplit("/", 1)[0] + "/" + name


def psql(sql, db="postgres", timeout=30, check_rc=True):
    """Runs SQL on the suite's server; returns stdout (unaligned, tuples only)."""
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                          "-d", pg_database_url(db), "-c", sql],
                         capture_output=True, text=True, timeout=timeout)
    if check_rc and out.returncode != 0:
        raise Failure(f"psql failed ({sql[:80]}): {out.stderr.strip()}")
    return out.stdout.strip()


def shared_pg_database(res, name):
    """A fresh database on the suite's server, dropped at the end."""
    if shutil.which("psql") is None:
        pg_unavailable("psql not installed")
    try:
        psql("SELECT 1", timeout=15)
    except Failure as err:
        pg_unavailable(f"{pg_server_url()}: {err}")
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")
    res.callback(psql, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", timeout=60,
                 check_rc=False)
    return pg_database_url(name)


def pg_bindir():
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                  key=lambda d: [int(x) for x in d.split("/")[-2].split(".") if x.isdigit()])
    for d in reversed(dirs):
        if os.path.exists(os.path.join(d, "initdb")) and os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    return None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on its own port, listening on 127.0.0.1
    only, trust auth, its socket in its own temp dir. Run as the `postgres` OS
    user when we are root (initdb refuses root)."""

    def __init__(self, res, port=None):
        self.bindir = pg_bindir()
        if self.bindir is None:
            pg_unavailable("no /usr/lib/postgresql/*/bin/initdb")
        # A random free port unless told (and free).
        self.port = port if port and port_is_free(port) else free_port()
        self.root = tempfile.mkdtemp(prefix="leads-fault-pg-")
        res.callback(shutil.rmtree, self.root, True)
        self.data = os.path.join(self.root, "data")
        self.logfile = os.path.join(self.root, "postgres.log")
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            os.chmod(self.root, 0o700)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self.prefix = []
        self.started = False
        res.callback(self.cleanup)
        self._run(["initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync",
                   "--no-instructions", "-E", "UTF8"], timeout=120)

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, args, timeout=60, check_rc=True):
        cmd = self.prefix + [os.path.join(self.bindir, args[0])] + args[1:]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if check_rc and out.returncode != 0:
            raise Failure(f"{args[0]} failed ({out.returncode}): {out.stderr.strip()} "
                          f"{out.stdout.strip()[-500:]}")
        return out

    def start(self):
        opts = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c full_page_writes=off "
                "-c max_connections=100")
        try:
            self._run(["pg_ctl", "start", "-w", "-t", "60", "-D", self.data, "-l", self.logfile,
                       "-o", opts], timeout=90)
        except Failure as err:
            tail = self.log_tail()
            if not self.started and "could not" in tail and not port_is_free(self.port):
                # Another test grabbed the port between our probe and the start.
                log(f"private PostgreSQL: port {self.port} taken, retrying on another")
                self.port = free_port()
                return self.start()
            raise Failure(f"{err}\npostgres log:\n{tail}") from None
        self.started = True

    def log_tail(self, n=15):
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError as err:
            return f"({err})"

    def stop(self, mode="immediate"):
        self._run(["pg_ctl", "stop", "-w", "-t", "60", "-D", self.data, "-m", mode], timeout=90)

    def cleanup(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run(["pg_ctl", "stop", "-w", "-t", "30", "-D", self.data, "-m", "immediate"],
                      timeout=60, check_rc=False)


def sqlite_path(url):
    return url.split("sqlite://", 1)[1].split("?", 1)[0]


# -------------------------------------------------------------------- threads

def run_threads(fns, timeout):
    """Runs each callable in its own daemon thread (a stuck one cannot keep
    the test alive past its deadline); returns their results in order and
    fails on the first exception or when any is still running at `timeout`."""
    import threading
    results = [None] * len(fns)
    errors = [None] * len(fns)

    def wrap(i, fn):
        try:
            results[i] = fn()
        except BaseException as err:  # noqa: BLE001
            errors[i] = "".join(traceback.format_exception(err))

    threads = [threading.Thread(target=wrap, args=(i, fn), daemon=True) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    end = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    stuck = sum(t.is_alive() for t in threads)
    check(stuck == 0, f"{stuck} of {len(threads)} client threads still running after {timeout} s")
    for err in errors:
        if err:
            raise Failure(f"client thread failed:\n{err}")
    return results
