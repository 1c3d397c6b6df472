"""tutorctl against a running tutord: the scripts' side of CONTRACT.md §5-6.

migrate (idempotent), call (one request through the broker), seed (bad records reported with file,
record and reason while the rest load; a clear line when no broker answers) and tap (events as
JSON lines). tools/up is their main user: it migrates and seeds with them.
"""

import json
import os
import subprocess
import time



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
