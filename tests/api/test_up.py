"""tools/up as a user runs it (CONTRACT.md §1): private PostgreSQL, foreground, Ctrl-C, again.

What is checked, each time on free ports and a TUTORD_VAR of its own, with TUTORD_DB unset:
  - up starts the cluster, migrates, runs tutord until /health answers 200, and a SIGINT ends
    it with status 0 leaving no process behind (no postgres of that folder, no tutord);
  - a second up on the same folder starts and stops just as cleanly;
  - after tutord is SIGKILLed, up notices, stops its cluster and exits non-zero; the next up starts;
  - after up, tutord and the postmaster are all SIGKILLed (stale postmaster.pid and socket
    left behind), the next up starts and stops cleanly;
  - after only up is SIGKILLed (tutord and postgres orphaned), the next up takes over;
  - a TUTORD_VAR the postgres user cannot enter (0700) still works (cluster linked elsewhere).
tools/up runs with TUTORD_UP_SKIP_BUILD=1 and TUTORD_BUILD_DIR, so it uses the binaries under
test instead of building, and TUTORD_SKIP_DEPS=1 (tools/check already ran the package step).
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

UP_START_S = 120        # first start: initdb + migrations + a sanitizer build's start-up
UP_STOP_S = 60


def _default_signals():
    """A shell cannot trap a signal it inherited as ignored (e.g. SIGINT when the test runner
    itself was started in the background), so give tools/up the default dispositions."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_DFL)


class Up:
    """One tools/up process."""

    def __init__(self, harness, var_dir, extra_env=None):
        http, broker, events, events_in = harness.free_ports(4)
        self.harness = harness
        self.var_dir = var_dir
        self.http = "127.0.0.1:%d" % http
        self.log_path = os.path.join(os.path.dirname(var_dir), os.path.basename(var_dir) + ".up.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TUTORD_")}
        env.update({
            "TUTORD_VAR": var_dir,
            "TUTORD_HTTP": self.http,
            "TUTORD_BROKER": "tcp://127.0.0.1:%d" % broker,
            "TUTORD_EVENTS": "tcp://127.0.0.1:%d" % events,
            "TUTORD_EVENTS_IN": "tcp://127.0.0.1:%d" % events_in,
            "TUTORD_BUILD_DIR": harness.build_dir(),
            "TUTORD_UP_SKIP_BUILD": "1",
            "TUTORD_SKIP_DEPS": "1",
            "TUTORD_PYTHON": "/usr/bin/python3",
        })
        env.update(extra_env or {})
        self.env = env
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(["bash", os.path.join(harness.source_dir, "tools", "up")],
                                         env=env, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=_default_signals)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def digest(self, lines=80):
        """The log's last lines without tutord's info/debug chatter: what explains a failure."""
        keep = [l for l in self.log().splitlines() if "level=info" not in l and "level=debug" not in l]
        return "\n".join(keep[-lines:])

    def wait_running(self):
        """Until /health answers 200 and up has finished seeding (its 'running' line)."""
        def ready():
            if self.proc.poll() is not None:
                return "exited"
            if self.harness.http_status(self.http) == 200 and (
                    "tutord is running" in self.log() or "seed data did not load" in self.log()):
                return "ok"
            return None
        state = self.harness.wait_for(ready, UP_START_S, 0.1)
        assert state == "ok", "tools/up did not get tutord running (%s):\n%s" % (state, self.digest())

    def stop(self, sig=signal.SIGINT):
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=UP_STOP_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            pytest.fail("tools/up did not stop within %ss of %s:\n%s" % (UP_STOP_S, sig.name, self.digest()))

    def tutord_pid(self):
        for pid, cmd in self.harness.processes_of_var(self.var_dir).items():
            if cmd.split(" ")[0].endswith("/tutord"):
                return pid
        return None

    def postmaster_pid(self):
        with open(os.path.join(self.var_dir, "pg", "data", "postmaster.pid")) as f:
            return int(f.readline())


def assert_nothing_left(harness, var_dir, up=None):
    """No process of this TUTORD_VAR survives (allowing a moment for orphans to finish exiting)."""
    left = harness.wait_for(lambda: not harness.processes_of_var(var_dir), 10, 0.1)
    assert left, "processes left behind for %s: %s%s" % (
        var_dir, harness.processes_of_var(var_dir), ("\n" + up.digest()) if up else "")


@pytest.fixture
def var_dir():
    root = tempfile.mkdtemp(prefix="tutord-up-")
    os.chmod(root, 0o755)               # the postgres user must reach $TUTORD_VAR/pg
    var = os.path.join(root, "var")
    yield var
    shutil.rmtree(root, ignore_errors=True)


def run_until_sigint(harness, var_dir):
    up = Up(harness, var_dir)
    up.wait_running()
    rc = up.stop(signal.SIGINT)
    assert rc == 0, "tools/up exited %s after SIGINT:\n%s" % (rc, up.digest())
    assert_nothing_left(harness, var_dir, up)
    return up


def test_up_runs_and_stops_cleanly_twice(harness, var_dir):
    first = run_until_sigint(harness, var_dir)
    assert os.path.isfile(os.path.join(var_dir, "pg", "data", "PG_VERSION"))
    assert "migrate: applied 0001_core" in first.log()
    second = run_until_sigint(harness, var_dir)
    assert "migrate: 0 applied" in second.log()
    assert not os.path.exists(os.path.join(var_dir, "pg", "data", "postmaster.pid"))


def test_up_stops_on_sigterm(harness, var_dir):
    up = Up(harness, var_dir)
    up.wait_running()
    assert up.stop(signal.SIGTERM) == 0, up.digest()
    assert_nothing_left(harness, var_dir, up)


def test_up_after_tutord_killed(harness, var_dir):
    up = Up(harness, var_dir)
    up.wait_running()
    pid = up.tutord_pid()
    assert pid, "no tutord process found for %s" % var_dir
    os.kill(pid, signal.SIGKILL)
    rc = up.proc.wait(timeout=UP_STOP_S)
    assert rc != 0, "tools/up should report that tutord died"
    assert_nothing_left(harness, var_dir, up)
    run_until_sigint(harness, var_dir)


def test_up_after_everything_killed(harness, var_dir):
    up = Up(harness, var_dir)
    up.wait_running()
    victims = [up.tutord_pid(), up.postmaster_pid(), up.proc.pid]
    assert all(victims), victims
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    up.proc.wait(timeout=10)
    time.sleep(0.5)
    # the crash leaves a stale pid file (and usually the socket and its lock)
    assert os.path.exists(os.path.join(var_dir, "pg", "data", "postmaster.pid"))
    run_until_sigint(harness, var_dir)


def test_up_after_only_up_killed(harness, var_dir):
    up = Up(harness, var_dir)
    up.wait_running()
    os.kill(up.proc.pid, signal.SIGKILL)
    up.proc.wait(timeout=10)
    assert harness.processes_of_var(var_dir), "tutord and postgres should be orphaned now"
    second = run_until_sigint(harness, var_dir)
    assert "leftover" in second.log() or "already running" in second.log()


def test_up_with_private_var_folder(harness):
    root = tempfile.mkdtemp(prefix="tutord-up-700-")   # 0700: postgres cannot enter it
    var = os.path.join(root, "var")
    real = None
    try:
        run_until_sigint(harness, var)
        link = os.path.join(var, "pg")
        assert os.path.islink(link)
        real = os.path.realpath(link)
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if real and real.startswith("/var/lib/tutord/"):
            shutil.rmtree(real, ignore_errors=True)
