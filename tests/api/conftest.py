"""Black-box test harness: start a real tutord on free ports and talk to it from outside.

Why: the API tests must exercise what users run -- the tutord binary with its broker, bridge and
actors, against real PostgreSQL -- not functions inside it. Each server gets its own free ports
(tests run in parallel under ctest -j2), its own TUTORD_VAR in a temporary folder, the test
database (TUTORD_TEST_DB, made by tools/check) and TUTORD_FAULTS=1 so fault tests can break
actors on purpose. Teardown sends SIGTERM and requires a clean exit: status 0 within the drain
time, and no sanitizer report in its output.

Fixtures:
  tutord          a running server for one test (function scope): a Tutord object
  tutord_factory  start(**env) -> Tutord, for tests that need several servers or special env
  harness         helpers shared with test_up.py: free_ports, build_dir, source_dir,
                  http_status, processes_of_var, wait_for
Environment: TUTORD_BUILD_DIR (default build/debug, else build/release) picks the binaries.
"""

import atexit
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import types

import pytest

SOURCE_DIR = os.environ.get("TUTORD_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


def build_dir():
    """The build folder whose binaries the tests run."""
    env = os.environ.get("TUTORD_BUILD_DIR")
    if env:
        return os.path.abspath(env)
    for kind in ("debug", "release"):
        cand = os.path.join(SOURCE_DIR, "build", kind)
        if os.access(os.path.join(cand, "tutord"), os.X_OK):
            return cand
    return os.path.join(SOURCE_DIR, "build", "debug")


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def http_request(hostport, method, path, body=None, headers=None, timeout=10):
    """(status, headers dict, body bytes) of one HTTP request; raises OSError when nothing answers."""
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        data = None
        hdrs = dict(headers or {})
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def http_status(hostport, path="/health"):
    """Status of GET path, or None when nothing answers."""
    try:
        return http_request(hostport, "GET", path, timeout=2)[0]
    except (OSError, http.client.HTTPException):
        return None


def wait_for(predicate, timeout, interval=0.1):
    """Poll predicate until it returns a truthy value (returned) or timeout seconds pass (None)."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


def _read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return None


def processes_of_var(var_dir):
    """Live (non-zombie) processes that belong to a TUTORD_VAR: {pid: description}.

    A process belongs when its working directory or command line mentions the folder (postgres
    and its backends run in <var>/pg/data; a symlinked cluster is resolved too), or its
    environment holds TUTORD_VAR=<var> (tutord, tutorctl, tools/up itself).
    """
    var_dir = os.path.abspath(var_dir)
    roots = {var_dir, os.path.realpath(var_dir)}
    pg = os.path.join(var_dir, "pg")
    if os.path.islink(pg):
        roots.add(os.path.realpath(pg))
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        base = "/proc/" + entry
        stat = _read(base + "/stat")
        if not stat or stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
            continue
        cmd = (_read(base + "/cmdline", "rb") or b"").replace(b"\0", b" ").decode(errors="replace")
        try:
            cwd = os.readlink(base + "/cwd")
        except OSError:
            cwd = ""
        environ = (_read(base + "/environ", "rb") or b"").split(b"\0")
        mine = any(cwd == r or cwd.startswith(r + "/") or (r + "/") in cmd for r in roots)
        mine = mine or any(e == ("TUTORD_VAR=" + r).encode() for r in roots for e in environ)
        if mine:
            found[int(entry)] = cmd.strip() or "[%s]" % entry
    return found


class Tutord:
    """One tutord process on its own ports and TUTORD_VAR."""

    def __init__(self, tmp_root, extra_env=None):
        self.var_dir = tempfile.mkdtemp(prefix="tutord-", dir=tmp_root)
        self._pick_ports()
        self.build_dir = build_dir()
        self.log_path = os.path.join(self.var_dir, "tutord.out")
        self.check_exit = True          # a test that kills the server on purpose sets False
        self.env = dict(os.environ)
        self.env.update({
            "TUTORD_VAR": self.var_dir,
            "TUTORD_DB": os.environ["TUTORD_TEST_DB"],
            "TUTORD_HTTP": self.http,
            "TUTORD_BROKER": self.broker,
            "TUTORD_EVENTS": self.events,
            "TUTORD_EVENTS_IN": self.events_in,
            "TUTORD_FAULTS": "1",
            "TUTORD_PYTHON": os.environ.get("TUTORD_PYTHON", "/usr/bin/python3"),
            "TUTORD_LLM_PROVIDER": "offline",
        })
        self.env.pop("TUTORD_ACTORS", None)
        self.env.update(extra_env or {})
        self.own_ports = not any(k in (extra_env or {}) for k in
                                 ("TUTORD_HTTP", "TUTORD_BROKER", "TUTORD_EVENTS", "TUTORD_EVENTS_IN"))
        self.proc = None

    def _pick_ports(self):
        http_port, broker, events, events_in = free_ports(4)
        self.http = "127.0.0.1:%d" % http_port
        self.base_url = "http://" + self.http
        self.broker = "tcp://127.0.0.1:%d" % broker
        self.events = "tcp://127.0.0.1:%d" % events
        self.events_in = "tcp://127.0.0.1:%d" % events_in
        if hasattr(self, "env"):
            self.env.update({"TUTORD_HTTP": self.http, "TUTORD_BROKER": self.broker,
                             "TUTORD_EVENTS": self.events, "TUTORD_EVENTS_IN": self.events_in})

    def start(self, wait_s=60):
        # A free port can be taken by a parallel test between free_ports() and tutord's bind:
        # tutord then stops at once saying so, and we try again on other ports.
        for attempt in range(3):
            clash = self._start_once(wait_s, last=attempt == 2 or not self.own_ports)
            if not clash:
                return self
            self._pick_ports()
        return self

    def _start_once(self, wait_s, last):
        exe = os.path.join(self.build_dir, "tutord")
        if not os.access(exe, os.X_OK):
            pytest.fail("%s is missing: build first (tools/check does)" % exe)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([exe], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.var_dir)

        def ready():
            if self.proc.poll() is not None:
                return "exited"
            return "ok" if http_status(self.http) == 200 else None
        state = wait_for(ready, wait_s, 0.05)
        if state != "ok":
            # a degraded server (503) still answers: let the test see it
            if state is None and http_status(self.http) is not None:
                return False
            self.stop(check=False)
            if state == "exited" and not last and "in use" in self.log_text():
                return True
            pytest.fail("tutord did not come up (%s):\n%s" % (state or "no /health answer", self.log_tail()))
        return False

    # -- talking to it ------------------------------------------------------------------------
    def url(self, path):
        return self.base_url + path

    def request(self, method, path, body=None, headers=None, timeout=10):
        return http_request(self.http, method, path, body, headers, timeout)

    def get(self, path, headers=None):
        status, hdrs, data = self.request("GET", path, headers=headers)
        return status, hdrs, (json.loads(data) if data and hdrs.get("content-type", "").startswith(
            "application/json") else data)

    def tutorctl(self, *args, timeout=30, input=None):
        """Run build/<kind>/tutorctl against this server; CompletedProcess with text output."""
        return subprocess.run([os.path.join(self.build_dir, "tutorctl")] + list(args), env=self.env,
                              capture_output=True, text=True, timeout=timeout, input=input)

    def log_text(self):
        return _read(self.log_path) or ""

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])

    # -- stopping ---------------------------------------------------------------------------
    def stop(self, check=True, sig=signal.SIGTERM, timeout=30):
        """Signal the server, wait; with check, require exit 0 and no sanitizer report."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    pytest.fail("tutord did not stop within %ss of %s:\n%s"
                                % (timeout, sig.name, self.log_tail()))
        rc = self.proc.returncode
        if check:
            assert rc == 0, "tutord exited with status %s:\n%s" % (rc, self.log_tail())
            text = self.log_text()
            marks = [m for m in SANITIZER_MARKS if m in text]
            assert not marks, "sanitizer report in tutord's output:\n%s" % self.log_tail(120)
        return rc


def _own_database():
    """Give this pytest session (one test file under ctest) a database of its own.

    Why: queues live in tables (grader submissions, training runs), and every tutord on a
    database shares them -- as it should across real processes. Test files run in parallel, so
    on one shared database a tutord started by one file would claim and run another file's work,
    and that file would never see its events. Each session therefore creates an empty database
    next to TUTORD_TEST_DB, points TUTORD_TEST_DB at it (tutord, psql and tutorctl in the tests
    all read it from there), migrates it in _migrated, and drops it at exit."""
    base = os.environ.get("TUTORD_TEST_DB")
    if not base or os.environ.get("TUTORD_TEST_DB_BASE"):
        return                          # unset (fixtures fail later), or already done
    name = "tutord_t_%d_%s" % (os.getpid(), secrets.token_hex(4))
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", base, "-c",
                          "CREATE DATABASE %s" % name], capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError("cannot create the session's database: %s" % res.stderr)
    if re.search(r"(^|\s)dbname=\S+", base):
        own = re.sub(r"(^|\s)dbname=\S+", lambda m: "%sdbname=%s" % (m.group(1), name), base)
    else:
        own = "%s dbname=%s" % (base, name)
    os.environ["TUTORD_TEST_DB_BASE"] = base
    os.environ["TUTORD_TEST_DB"] = own

    def drop():
        subprocess.run(["psql", "-X", "-q", base, "-c",
                        "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                       capture_output=True, text=True, timeout=60)
    atexit.register(drop)


_own_database()


@pytest.fixture(scope="session")
def _tmp_root():
    root = tempfile.mkdtemp(prefix="tutord-api-")
    os.chmod(root, 0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def _migrated():
    """Apply schema/ to TUTORD_TEST_DB once per session (idempotent, safe in parallel)."""
    if not os.environ.get("TUTORD_TEST_DB"):
        # A fail, not a skip: a skipped suite must never count as a passing one.
        pytest.fail("TUTORD_TEST_DB is not set (tools/check sets it to a fresh test database)")
    ctl = os.path.join(build_dir(), "tutorctl")
    if not os.access(ctl, os.X_OK):
        pytest.fail("%s is missing: build first" % ctl)
    env = dict(os.environ, TUTORD_DB=os.environ["TUTORD_TEST_DB"])
    res = subprocess.run([ctl, "migrate", os.path.join(SOURCE_DIR, "schema")], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, "tutorctl migrate failed:\n%s%s" % (res.stdout, res.stderr)
    return True


@pytest.fixture
def tutord_factory(_tmp_root, _migrated):
    """start(**env) -> a running Tutord; every one is stopped (and checked) at teardown."""
    started = []

    def start(wait_s=60, **env):
        t = Tutord(_tmp_root, {k: str(v) for k, v in env.items()})
        started.append(t)
        return t.start(wait_s)
    yield start
    errors = []
    for t in started:
        try:
            t.stop(check=t.check_exit)
        except AssertionError as e:     # stop them all before reporting
            errors.append(str(e))
        except pytest.fail.Exception as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors))


@pytest.fixture
def tutord(tutord_factory):
    """A running tutord with every actor, for one test."""
    return tutord_factory()


@pytest.fixture(scope="session")
def harness():
    return types.SimpleNamespace(
        source_dir=SOURCE_DIR, build_dir=build_dir, free_ports=free_ports,
        http_status=http_status, http_request=http_request, wait_for=wait_for,
        processes_of_var=processes_of_var)
