"""The event journal (issue 8 point 5): events published while analytics is down are applied
when it comes back, each exactly once.

Why: PUB/SUB drops what nobody is subscribed to. The broker's event proxy appends every event
to events_journal (batched, on its own connection, queueing while PostgreSQL is away), and
analytics reads the journal after its cursor when it starts and every second; the journal's
figures (written, dropped, queued, write errors) are on /metrics. Here analytics
runs in a process of its own, which is killed; while it is down PostgreSQL is also restarted
and events are published (new ones and repeats of old ones); analytics started again takes
every missed event once, and a further restart takes nothing twice.
"""

import re
import time
import uuid

from test_analytics import ACC, Plane, _now, settle, status
from test_analytics_pg import private_pg, xp_of  # noqa: F401 (a fixture)


def _wait(what, cond, timeout=30):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, what
        time.sleep(0.2)


def journal_metrics(t):
    """The event journal's figures on t's /metrics: {written, dropped, write_errors, queued}."""
    text = t.request("GET", "/metrics")[2].decode()
    assert re.search(r"^tutord_events_journal_up 1$", text, re.M), text[-3000:]
    return {name: int(m) for name, m in re.findall(
        r"^tutord_events_journal_(written|dropped|write_errors|queued)(?:_total)? (\d+)$", text, re.M)}


def _status(t, timeout=40):
    """status, retried while the broker still routes to the killed worker (503)."""
    end = time.monotonic() + timeout
    while True:
        try:
            return status(t)
        except AssertionError:
            assert time.monotonic() < end, "analytics does not answer"
            time.sleep(0.3)


def test_events_published_while_analytics_is_down(tutord_factory, private_pg):  # noqa: F811
    pg = private_pg
    # a server without every service answers /health 503 (degraded): the start does not wait
    # for a 200 that never comes
    main = tutord_factory(wait_s=5, TUTORD_DB=pg.conninfo, TUTORD_ACTORS="broker,web")

    def analytics():
        return tutord_factory(wait_s=5, TUTORD_DB=pg.conninfo, TUTORD_ACTORS="web,analytics",
                              TUTORD_BROKER=main.broker, TUTORD_EVENTS_IN=main.events_in,
                              TUTORD_EVENTS=main.events, TUTORD_HEARTBEAT_MS="200")

    def workers():
        m = re.search(r'^tutord_broker_workers\{service="analytics"\} (\d+)$',
                      main.request("GET", "/metrics")[2].decode(), re.M)
        return int(m.group(1)) if m else 0

    def kill(t):
        t.proc.kill()
        t.check_exit = False
        t.proc.wait()
        # the broker forgets the dead worker (missed heartbeats) before the next one starts, so
        # no request of the test is routed to it
        _wait("the broker kept the killed analytics worker", lambda: workers() == 0)

    def start():
        t = analytics()
        _wait("the new analytics worker did not register", lambda: workers() == 1)
        return t

    def counts(user):
        return dict(line.split("|") for line in pg.psql(
            "SELECT type, count(*) FROM analytics_events WHERE user_id = '%s' GROUP BY 1"
            % user).splitlines())

    ana = analytics()
    plane = Plane(main)
    try:
        user = "jr-" + uuid.uuid4().hex
        seen = [plane.send("srs.reviewed", user, _now(-100 - i), {"card_id": "a%d" % i})
                for i in range(3)]
        settle(main, plane)
        assert xp_of(pg, user) == 6
        assert int(pg.psql("SELECT count(*) FROM events_journal WHERE topic = 'srs.reviewed'")) >= 3

        # analytics goes down; PostgreSQL restarts while events are published
        kill(ana)
        _wait("the journal did not write what it had", lambda: journal_metrics(main)["queued"] == 0)
        before = journal_metrics(main)
        assert before["written"] >= 3 and before["write_errors"] == 0, before
        pg.stop()
        try:
            # an LLM call's usage (accounting: no XP) and a look-alike type analytics ignores
            missed = [plane.send("llm.usage", user, _now(-55), {
                "purpose": "hint", "provider": "openai", "model": "m1", "ok": True,
                "prompt_tokens": 7, "completion_tokens": 3})]
            daily = plane.send("llm.usage_daily", user, _now(-55), {"prompt_tokens": 1})
            missed += [plane.send("grade.result", user, _now(-50 + i),
                                  dict(ACC, item_id="it-%d" % i)) for i in range(5)]
            missed += [plane.send("srs.reviewed", user, _now(-40 + i), {"card_id": "b%d" % i})
                       for i in range(2)]
            plane.replay(seen)                      # repeats of events already applied
            time.sleep(0.5)                         # the journal holds them in memory meanwhile
            # /metrics shows them waiting and the failed writes (the back-off retries them)
            _wait("the journal's write errors did not show on /metrics",
                  lambda: journal_metrics(main)["write_errors"] > 0)
            down = journal_metrics(main)
            assert down["queued"] >= len(missed) + 1 + len(seen), down
            assert down["written"] == before["written"] and down["dropped"] == before["dropped"], down
        finally:
            pg.start()
        _wait("the journal did not write the events once PostgreSQL was back", lambda: int(pg.psql(
            "SELECT count(*) FROM events_journal WHERE encode (body, 'escape') ~ '(%s)'"
            % "|".join(e["id"] for e in missed))) == len(missed))
        _wait("the journal's queue did not empty", lambda: journal_metrics(main)["queued"] == 0)
        back = journal_metrics(main)
        assert back["written"] >= before["written"] + down["queued"], (before, down, back)
        assert back["dropped"] == before["dropped"], back

        ana = start()
        # 3 + 2 reviews (2 XP each), 5 accepted submissions (10 + 1 each): 65
        _wait("analytics did not catch up from the journal", lambda: xp_of(pg, user) == 65)
        st = _status(main)
        assert st["journal_taken"] >= 7 and st["journal_cursor"] > 0, st
        time.sleep(2.5)
        assert xp_of(pg, user) == 65
        c = counts(user)
        assert c["srs.reviewed"] == "5" and c["grade.result"] == "5" and c["analytics.xp"] == "10", c
        # the usage came through the journal too, once; the look-alike type did not
        assert c["llm.usage"] == "1" and "llm.usage_daily" not in c, c
        assert int(pg.psql("SELECT count(*) FROM events_journal WHERE encode (body, 'escape') "
                           "LIKE '%%%s%%'" % daily["id"])) == 1   # it was journaled, then ignored

        # and once more: a restart reads on from its saved cursor and counts nothing twice
        cursor = st["journal_cursor"]
        kill(ana)
        ana = start()
        _wait("analytics did not come back", lambda: _status(main)["journal_cursor"] >= cursor)
        time.sleep(2.5)
        assert xp_of(pg, user) == 65 and counts(user) == c
        assert int(pg.psql("SELECT value FROM analytics_meta WHERE key = 'journal_cursor'")) >= cursor
    finally:
        plane.close()


def test_journal_bound_drops_and_counts(tutord_factory, private_pg):  # noqa: F811
    """PostgreSQL away for longer than the journal's memory holds: past its bound (100 000
    events) new events are dropped and counted on /metrics, with the failed writes; when
    PostgreSQL is back the queue drains and nothing more is dropped."""
    import msgpack
    import zmq
    pg = private_pg
    main = tutord_factory(wait_s=5, TUTORD_DB=pg.conninfo, TUTORD_ACTORS="broker,web")
    pub = zmq.Context.instance().socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.setsockopt(zmq.SNDHWM, 0)               # this test's publisher drops nothing itself
    pub.connect(main.events_in)

    def send(n, tag):
        for i in range(n):
            env = {"id": "%s-%d" % (tag, i), "type": "test.flood", "source": "tutord/test",
                   "time": _now(), "org": None, "user": None, "subject": None, "data": None}
            pub.send_multipart([b"test.flood", msgpack.packb(env, use_bin_type=True)])
    try:
        start = journal_metrics(main)
        _wait("the proxy never subscribed upstream",
              lambda: send(1, uuid.uuid4().hex) or journal_metrics(main)["written"] > start["written"])
        _wait("the journal did not drain", lambda: journal_metrics(main)["queued"] == 0)
        before = journal_metrics(main)
        pg.stop()
        try:
            over = 500
            send(100000 + over, "flood")
            _wait("the journal did not fill up and drop", lambda: journal_metrics(main)["dropped"]
                  >= before["dropped"] + over, timeout=60)
            down = journal_metrics(main)
            assert down["queued"] == 100000 and down["write_errors"] > before["write_errors"], down
        finally:
            pg.start()
        _wait("the journal did not drain once PostgreSQL was back",
              lambda: journal_metrics(main)["queued"] == 0, timeout=120)
        back = journal_metrics(main)
        assert back["written"] == before["written"] + 100000, (before, back)
        assert back["dropped"] == down["dropped"], back
        # the rows are the flood's first 100 000 (the server's own events may take a few places)
        rows = int(pg.psql("SELECT count(*) FROM events_journal "
                           "WHERE topic = 'test.flood' AND encode (body, 'escape') LIKE '%flood-%'"))
        assert 100000 - 50 <= rows <= 100000, rows
    finally:
        pub.close()


def _journal_publish(t, topics, tag):
    """Publish one event of each topic on t's plane; returns the PUB socket (caller closes)."""
    import msgpack
    import zmq
    pub = zmq.Context.instance().socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(t.events_in)

    def send():
        for topic in topics:
            env = {"id": "%s-%s" % (tag, uuid.uuid4().hex), "type": topic,
                   "source": "tutord/test", "time": _now(), "org": None, "user": None,
                   "subject": None, "data": {"tag": tag}}
            pub.send_multipart([topic.encode(), msgpack.packb(env, use_bin_type=True)])
    return pub, send


def _journaled(pg, tag):
    rows = pg.psql("SELECT DISTINCT topic FROM events_journal WHERE encode (body, 'escape') "
                   "LIKE '%%%s-%%' ORDER BY 1" % tag)
    return [r for r in rows.split("\n") if r]


def test_journal_leaves_out_skipped_types(tutord_factory, private_pg):  # noqa: F811
    """Token fragments (llm.delta) are not journaled by default: one row per token would be the
    journal's bulk and nobody replays them (the whole answer is stored with the session and
    announced by llm.done). TUTORD_EVENTS_JOURNAL_SKIP sets the list ("" journals everything);
    a prefix skips every type it begins; other events are journaled as before."""
    pg = private_pg
    topics = ["llm.delta", "llm.done", "llm.deltax", "test.skip.a", "test.skipped", "train.metrics"]
    cases = [({}, ["llm.done", "test.skip.a", "test.skipped", "train.metrics"]),
             ({"TUTORD_EVENTS_JOURNAL_SKIP": "test.skip.,train.metrics"},
              ["llm.delta", "llm.deltax", "llm.done", "test.skipped"]),
             ({"TUTORD_EVENTS_JOURNAL_SKIP": ""}, sorted(topics))]
    for env, want in cases:
        tag = uuid.uuid4().hex[:12]
        t = tutord_factory(wait_s=5, TUTORD_DB=pg.conninfo, TUTORD_ACTORS="broker,web", **env)
        pub, send = _journal_publish(t, topics, tag)
        try:
            # the proxy's upstream subscription reaches this publisher some time after it
            # connects: send until something is journaled; then once more, then a sentinel
            # on the same socket: the plane and the journal keep one publisher's order, so
            # once the sentinel is in, so is everything sent before it
            _wait("nothing was journaled", lambda: send() or _journaled(pg, tag))
            send()
            pub.send_multipart([b"test.sentinel", __import__("msgpack").packb(
                {"id": "%s-end" % tag, "type": "test.sentinel", "source": "tutord/test",
                 "time": _now(), "org": None, "user": None, "subject": None, "data": None},
                use_bin_type=True)])
            _wait("the sentinel was not journaled", lambda: "test.sentinel" in _journaled(pg, tag))
            got = [x for x in _journaled(pg, tag) if x != "test.sentinel"]
            assert got == want, (env, got)
        finally:
            pub.close()
            t.stop()
