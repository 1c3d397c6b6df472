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

import json
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


# ---------------------------------------------------------------------------------------------
# tutorctl against a running tutord (the conftest `tutord` fixture): the scripts' side of §5-6.
# (They live here because tools/up is their main user: it migrates and seeds with them.)

def test_tutorctl_help(harness):
    ctl = os.path.join(harness.build_dir(), "tutorctl")
    res = subprocess.run([ctl, "--help"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 0
    for verb in ("migrate", "seed", "tap", "call"):
        assert "\n  " + verb in res.stdout
    res = subprocess.run([ctl, "frobnicate"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "frobnicate" in res.stderr


def test_tutorctl_migrate_is_idempotent(harness, tutord):
    res = tutord.tutorctl("migrate", os.path.join(harness.source_dir, "schema"))
    assert res.returncode == 0, res.stderr
    assert "0 applied" in res.stdout


def test_tutorctl_call(tutord):
    res = tutord.tutorctl("call", "broker", "ping")
    assert res.returncode == 0, res.stderr
    reply = json.loads(res.stdout)
    assert reply["status"] == 200 and reply["kind"] == "reply"
    # an unknown service is an error reply (exit 1), still printed as JSON
    res = tutord.tutorctl("call", "nosuchservice", "ping", "{}")
    assert res.returncode == 1
    assert json.loads(res.stdout)["status"] in (404, 503)
    # bad input: one line, exit 2
    res = tutord.tutorctl("call", "broker", "ping", "{not json")
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    res = tutord.tutorctl("call", "Bad Service", "ping")
    assert res.returncode == 1 and res.stderr.count("\n") == 1
    # the body may come from stdin
    res = tutord.tutorctl("call", "broker", "ping", "-", input='{"hello": "world"}')
    assert res.returncode == 0, res.stderr


def test_tutorctl_call_without_broker(harness, tutord):
    (port,) = harness.free_ports(1)
    env = dict(tutord.env, TUTORD_BROKER="tcp://127.0.0.1:%d" % port)
    res = subprocess.run([os.path.join(harness.build_dir(), "tutorctl"), "call", "--timeout", "300",
                          "broker", "ping"], env=env, capture_output=True, text=True, timeout=10)
    assert res.returncode == 1
    assert "no reply" in res.stderr and res.stderr.count("\n") == 1


def test_tutorctl_seed_reports_bad_records_and_loads_the_rest(tutord, tmp_path):
    seed = tmp_path / "seed"
    (seed / "sub").mkdir(parents=True)
    (seed / "10_mixed.json").write_text("""{"description": "test", "messages": [
        {"service": "broker", "type": "ping", "body": {"n": 1}},
        {"service": "nosuchservice", "type": "thing.upsert", "body": {}},
        {"service": "broker", "body": {}},
        "not a record",
        {"service": "broker", "type": "ping", "bogus": 1},
        {"service": "broker", "type": "ping", "comment": "fine", "auth": {"user": "seed"}}
    ]}""")
    (seed / "20_broken.json").write_text('{"messages": [ {"service": ')
    (seed / "30_shape.json").write_text('{"records": []}')
    (seed / "sub" / "40_array.json").write_text('[{"service": "broker", "type": "ping"}]')
    (seed / "notes.txt").write_text("not loaded")
    res = tutord.tutorctl("seed", str(seed))
    assert res.returncode == 1
    assert res.stdout.strip().splitlines()[-1] == "seed: 3 loaded, 6 failed", res.stdout + res.stderr
    err = res.stderr
    mixed = str(seed / "10_mixed.json")
    for n in (2, 3, 4, 5):
        assert "%s: record %d: " % (mixed, n) in err, err
    for n in (1, 6):
        assert "%s: record %d: " % (mixed, n) not in err, err
    assert "nosuchservice" in err and "unknown field" in err
    assert str(seed / "20_broken.json") + ": " in err
    assert str(seed / "30_shape.json") + ": expected" in err
    # one line per failure
    assert len(err.strip().splitlines()) == 6, err
    # a clean file loads with status 0; running it again is fine too
    res = tutord.tutorctl("seed", str(seed / "sub"))
    assert res.returncode == 0 and res.stdout.strip() == "seed: 1 loaded, 0 failed"
    res = tutord.tutorctl("seed", str(seed / "sub" / "40_array.json"))
    assert res.returncode == 0


def test_tutorctl_seed_without_broker(harness, tutord, tmp_path):
    (port,) = harness.free_ports(1)
    f = tmp_path / "one.json"
    f.write_text('[{"service": "broker", "type": "ping"}, {"service": "broker", "type": "ping"}]')
    env = dict(tutord.env, TUTORD_BROKER="tcp://127.0.0.1:%d" % port)
    ctl = os.path.join(harness.build_dir(), "tutorctl")
    res = subprocess.run([ctl, "seed", "--timeout", "500", str(f)], env=env,
                         capture_output=True, text=True, timeout=20)
    assert res.returncode == 1
    assert "no broker answers" in res.stderr
    assert res.stdout.strip() == "seed: 0 loaded, 2 failed"
    # nothing to load needs no broker
    empty = tmp_path / "empty"
    empty.mkdir()
    res = subprocess.run([ctl, "seed", str(empty)], env=env, capture_output=True, text=True, timeout=20)
    assert res.returncode == 0 and res.stdout.strip() == "seed: 0 loaded, 0 failed"


def test_tutorctl_tap(tutord):
    ctl = os.path.join(tutord.build_dir, "tutorctl")
    tap = subprocess.Popen([ctl, "tap", "--count", "1", "--timeout", "20000", "system."],
                           env=tutord.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    quiet = subprocess.Popen([ctl, "tap", "--count", "1", "--timeout", "3000", "nomatch."],
                             env=tutord.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)         # let the subscriptions reach the publisher (slow joiner)
        # a crashed actor is restarted by the supervisor, which publishes system.actor_restarted
        res = tutord.tutorctl("call", "catalog", "fault.exit", "{}", timeout=20)
        out, err = tap.communicate(timeout=30)
        quiet_out, _ = quiet.communicate(timeout=10)
    finally:
        for p in (tap, quiet):
            if p.poll() is None:
                p.kill()
                p.wait()
    assert tap.returncode == 0, "tap: %s\n%s\ncall: %s %s" % (out, err, res.stdout, res.stderr)
    lines = out.strip().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"].startswith("system.")
    for key in ("id", "type", "source", "time", "data"):
        assert key in event
    # a prefix that matches nothing: --count not reached within --timeout -> exit 1
    assert quiet.returncode == 1 and quiet_out == ""
