"""The analytics actor while PostgreSQL goes away and comes back (a private cluster of this test's
own, so the shared one is not disturbed).

Why: events arrive whether or not the database is there. While it is down they must wait (in
order) and be applied once it is back -- none lost, none counted twice -- and a restart in the
middle of the stream must not leave half an event behind.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

from test_analytics import Plane, settle, status, _now

PG_BIN = "/usr/lib/postgresql/15/bin"


def _pg(*args):
    """Run a PostgreSQL program as the postgres user; fail the test when it fails."""
    res = subprocess.run(["runuser", "-u", "postgres", "--"] + list(args),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, (args, res.stdout, res.stderr)


class _Cluster:
    def __init__(self, root):
        self.root = root
        self.data = os.path.join(root, "data")
        self.sock = os.path.join(root, "run")
        self.conninfo = "host=%s user=postgres dbname=postgres" % self.sock

    def start(self):
        _pg(PG_BIN + "/pg_ctl", "-D", self.data, "-o", "-k %s -c listen_addresses=''" % self.sock,
            "-l", os.path.join(self.root, "log"), "-w", "start")

    def stop(self, mode="fast"):
        _pg(PG_BIN + "/pg_ctl", "-D", self.data, "-m", mode, "stop")

    def psql(self, sql):
        res = subprocess.run(["psql", self.conninfo, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        return res.stdout.strip()


@pytest.fixture
def private_pg(harness):
    """A PostgreSQL cluster of this test's own (migrated), so stopping it disturbs no other test."""
    root = tempfile.mkdtemp(prefix="tutord-anapg-")
    os.chmod(root, 0o755)
    pg = _Cluster(root)
    os.mkdir(pg.sock)
    shutil.chown(root, "postgres")
    shutil.chown(pg.sock, "postgres")
    _pg(PG_BIN + "/initdb", "-D", pg.data, "-A", "trust", "-U", "postgres")
    pg.start()
    res = subprocess.run([os.path.join(harness.build_dir(), "tutorctl"), "migrate",
                          os.path.join(harness.source_dir, "schema")],
                         env=dict(os.environ, TUTORD_DB=pg.conninfo), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    yield pg
    subprocess.run(["runuser", "-u", "postgres", "--", PG_BIN + "/pg_ctl", "-D", pg.data, "-m",
                    "immediate", "stop"], capture_output=True, timeout=60)
    shutil.rmtree(root, ignore_errors=True)


def xp_of(pg, user):
    return int(pg.psql("SELECT coalesce ((SELECT xp FROM analytics_learners WHERE user_id = '%s'), 0)"
                       % user))


def test_events_wait_for_the_database(tutord_factory, private_pg):
    t = tutord_factory(TUTORD_DB=private_pg.conninfo)
    plane = Plane(t)
    try:
        user = "pg-" + uuid.uuid4().hex
        sent = [plane.send("srs.reviewed", user, _now(-i), {"card_id": "c%d" % i})
                for i in range(5)]
        settle(t, plane)
        assert xp_of(private_pg, user) == 10
        # the database goes away; 20 more reviews arrive meanwhile, and 5 repeats
        private_pg.stop()
        try:
            for i in range(20):
                plane.send("srs.reviewed", user, _now(-100 - i), {"card_id": "d%d" % i})
            plane.replay(sent)
            deadline = time.monotonic() + 20
            while True:
                res = t.tutorctl("call", "--auth", '{"kind":"system"}', "analytics", "status")
                if res.returncode == 0 and json.loads(res.stdout)["body"]["retry_queue"] >= 25:
                    break
                assert time.monotonic() < deadline, res.stdout
                time.sleep(0.2)
        finally:
            private_pg.start()
        settle(t, plane, timeout=40)
        assert xp_of(private_pg, user) == 50              # 25 reviews, each once
        assert status(t)["retry_queue"] == 0
        counts = dict(line.split("|") for line in private_pg.psql(
            "SELECT type, count(*) FROM analytics_events WHERE user_id = '%s' GROUP BY 1" % user
        ).splitlines())
        assert counts["srs.reviewed"] == "25" and counts["analytics.xp"] == "25", counts
    finally:
        plane.close()


def test_retention_prunes_the_log_and_rebuild_refuses(tutord_factory, private_pg):
    """Events older than TUTORD_ANALYTICS_RETENTION_DAYS leave the log; the figures they made
    stay; from then on a rebuild would lose them, so it answers 409."""
    t = tutord_factory(TUTORD_DB=private_pg.conninfo, TUTORD_ANALYTICS_RETENTION_DAYS="1")
    plane = Plane(t)
    try:
        user = "old-" + uuid.uuid4().hex
        for i in range(4):
            plane.send("srs.reviewed", user, _now(-86400 * 3 - i), {"card_id": "c%d" % i})
        settle(t, plane)
        res = t.tutorctl("call", "--auth", '{"kind":"system"}', "analytics", "rebuild")
        assert res.returncode == 0, res.stdout      # nothing pruned yet: a rebuild works
        private_pg.psql("UPDATE analytics_events SET received_at = now () - interval '2 days' "
                        "WHERE user_id = '%s'" % user)
        deadline = time.monotonic() + 30
        while private_pg.psql("SELECT count(*) FROM analytics_events WHERE user_id = '%s'"
                              % user) != "0":
            assert time.monotonic() < deadline, "retention did not prune"
            time.sleep(0.5)
        assert xp_of(private_pg, user) == 8                  # the figures stay
        assert private_pg.psql("SELECT count(*) FROM analytics_meta WHERE key = 'pruned_before'") == "1"
        res = t.tutorctl("call", "--auth", '{"kind":"system"}', "analytics", "rebuild")
        assert res.returncode == 1 and json.loads(res.stdout)["status"] == 409, res.stdout
        assert xp_of(private_pg, user) == 8
        assert status(t)["retention_days"] == 1
    finally:
        plane.close()


def test_bad_retention_stops_the_actor(tutord_factory):
    """A bad TUTORD_ANALYTICS_RETENTION_DAYS is named in the log and analytics does not serve."""
    t = tutord_factory(wait_s=10, TUTORD_ANALYTICS_RETENTION_DAYS="forever")
    res = t.tutorctl("call", "--auth", '{"kind":"system"}', "analytics", "status")
    assert res.returncode == 1
    assert "TUTORD_ANALYTICS_RETENTION_DAYS" in t.log_text()
