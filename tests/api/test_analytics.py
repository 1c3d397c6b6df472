"""The analytics actor as clients see it: scripted event histories with known answers.

Why: figures are only trusted when a history whose answer is worked out by hand gives exactly that
answer. Events are injected through the event plane (a PUB on TUTORD_EVENTS_IN, as a remote actor
publishes), and the figures are read over REST: XP and levels, daily activity in the learner's
timezone across midnight, streaks with a freeze, the heatmap, achievement thresholds hit exactly,
duplicated and reordered events, leaderboard ties and periods, the catch-up log and who may read
it, a rebuild from the log giving the same figures, and the actor killed mid-stream.
"""

import json
import os
import random
import re
import subprocess
import time
import uuid

import msgpack
import pytest
import zmq

from test_access import build_world, call, ok

SYSTEM = json.dumps({"kind": "system"})
ACC = {"verdict": "accepted", "score": 1.0, "passed": True, "kind": "exercise"}


def _now(offset_s=0):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + offset_s))


class Plane:
    """A publisher on the server's TUTORD_EVENTS_IN and a subscriber on its TUTORD_EVENTS."""

    def __init__(self, t, topics=("analytics.",)):
        self.t = t
        self.ctx = zmq.Context.instance()
        self.pub = self.ctx.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 2000)
        self.pub.connect(t.events_in)
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        for topic in topics:
            self.sub.setsockopt(zmq.SUBSCRIBE, topic.encode())
        self.sub.connect(t.events)
        self.sent = 0
        self._wait_subscribed()

    PROBES = ["grade.result", "srs.reviewed", "catalog.lesson_completed",
              "catalog.course_completed", "llm.done", "session.started"]

    def _wait_subscribed(self, timeout=20):
        """Subscriptions travel upstream (actor SUB -> XPUB -> XSUB -> this PUB) after connecting;
        until they arrive, PUB drops what it is given. Send a probe of every type the tests use
        (to a user of its own, no data: it earns nothing) until each is in the log."""
        pending = set(self.PROBES)
        end = time.monotonic() + timeout
        time.sleep(0.2)
        while pending:
            assert time.monotonic() < end, "the event plane never took %s" % sorted(pending)
            sent = {t: self.send(t, "probe-" + uuid.uuid4().hex, _now(), None) for t in pending}
            time.sleep(0.3)
            for t, env in sent.items():
                if status(self.t, {"source": env["source"], "id": env["id"]})["logged"]:
                    pending.discard(t)

    def close(self):
        self.pub.close()
        self.sub.close()

    def send(self, etype, user, when, data=None, org=None, eid=None, source="tutord/test"):
        env = {"id": eid or uuid.uuid4().hex, "type": etype, "source": source, "time": when,
               "org": org, "user": user, "subject": None, "data": data}
        self.pub.send_multipart([etype.encode(), msgpack.packb(env, use_bin_type=True)])
        self.sent += 1
        return env

    def replay(self, envs):
        for env in envs:
            self.pub.send_multipart([env["type"].encode(), msgpack.packb(env, use_bin_type=True)])
            self.sent += 1

    def received(self, timeout=3.0):
        """Every event that arrived on the subscriber within timeout (as decoded envelopes)."""
        out, end = [], time.monotonic() + timeout
        while time.monotonic() < end:
            if self.sub.poll(100):
                _, body = self.sub.recv_multipart()
                out.append(msgpack.unpackb(body, raw=False))
        return out


def status(t, body=None):
    args = ["call", "--auth", SYSTEM, "analytics", "status"]
    res = t.tutorctl(*(args + ([json.dumps(body)] if body else [])))
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout)["body"]


def settle(t, plane, timeout=20):
    """Wait until the actor has taken everything plane sent: a sentinel event goes last, and the
    actor takes one publisher's events in order, so once the sentinel is in the log so is the
    rest. (Counting events would not do: other actors of the server publish too.)"""
    env = plane.send("session.sentinel", "sentinel-" + uuid.uuid4().hex, _now(), {})
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = status(t, {"source": env["source"], "id": env["id"]})
        if s["logged"]:
            return s
        time.sleep(0.1)
    pytest.fail("analytics did not take the events: %s" % s)


def get(w, who, path, expect=200):
    s, _, b = call(w.t, "GET", path, w.tokens[who])
    assert s == expect, (path, who, s, b)
    return b


def tz(w, who, name):
    ok(w.t, "PUT", "/api/v1/me/analytics-settings", w.tokens[who], {"timezone": name},
       expect=(200,))


def stats(w, who, as_of=None):
    return get(w, who, "/api/v1/me/stats" + ("?as_of=" + as_of if as_of else ""))


def achievements(w, who):
    return {a["id"]: a for a in get(w, who, "/api/v1/me/achievements")["items"]}


# The history of one learner, in America/New_York (UTC-5 in January): a review at local noon on
# January 1..7 (a 7-day streak earns a freeze), nothing on the 8th (the freeze covers it), a
# review at 23:30 on the 9th and one at 00:30 on the 10th -- an hour apart, both on UTC's 10th.
def review_history(user):
    evs = [("srs.reviewed", user, "2026-01-%02dT17:00:00.000Z" % d, {"card_id": "c%d" % d})
           for d in range(1, 8)]
    evs.append(("srs.reviewed", user, "2026-01-10T04:30:00.000Z", {"card_id": "c9"}))
    evs.append(("srs.reviewed", user, "2026-01-10T05:30:00.000Z", {"card_id": "c10"}))
    return evs


def test_learner_figures_streaks_and_achievements(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    plane = Plane(t)
    try:
        uid = w.ids["learner"]
        tz(w, "learner", "America/New_York")
        for e in review_history(uid):
            plane.send(*e)
        settle(t, plane)

        s = stats(w, "learner", as_of="2026-01-10")
        assert s["xp"] == 18 and s["counters"]["reviews"] == 9, s
        assert s["timezone"] == "America/New_York"
        assert s["active_days"] == 9
        # 7 days, the 8th frozen, the 9th and 10th: the streak goes on without counting the 8th
        assert s["streak"] == {"current": 9, "longest": 9, "freezes": 0, "frozen_days": 1,
                               "active_today": True}, s
        # the next day is not over: the streak carries; the day after, it is broken
        assert stats(w, "learner", as_of="2026-01-11")["streak"]["current"] == 9
        assert stats(w, "learner", as_of="2026-01-12")["streak"]["current"] == 0
        assert stats(w, "learner", as_of="2026-01-12")["streak"]["longest"] == 9
        h = get(w, "learner", "/api/v1/me/heatmap?from=2026-01-01&to=2026-01-10")
        assert [d["count"] for d in h["days"]] == [1, 1, 1, 1, 1, 1, 1, 0, 1, 1], h
        assert [d["level"] for d in h["days"]][7:9] == [0, 1]
        assert h["days"][0]["date"] == "2026-01-01" and h["days"][-1]["date"] == "2026-01-10"
        assert h["total"] == 9 and h["active_days"] == 9

        a = achievements(w, "learner")
        assert len(a) >= 31
        assert a["first-review"]["unlocked"] and a["streak-3"]["unlocked"] and a["streak-7"]["unlocked"]
        assert not a["xp-50"]["unlocked"] and a["xp-50"]["progress"] == 18
        assert a["xp-50"]["percent"] == 36
        assert not a["first-accepted"]["unlocked"]

        # The same history counted in UTC: the last two reviews share the 10th; the 8th and 9th
        # are missed, two days for one freeze: the streak broke after the 7th.
        tz(w, "learner", "UTC")
        s = stats(w, "learner", as_of="2026-01-10")
        assert s["active_days"] == 8
        assert s["streak"]["current"] == 1 and s["streak"]["longest"] == 7, s
        h = get(w, "learner", "/api/v1/me/heatmap?from=2026-01-09&to=2026-01-10")
        assert [d["count"] for d in h["days"]] == [0, 2]
        tz(w, "learner", "America/New_York")
        assert stats(w, "learner", as_of="2026-01-10")["streak"]["current"] == 9

        # Thresholds hit exactly: 18 XP; accepted +10 and submission +1 -> 29; a second accepted
        # of the same item pays only the submission -> 30; a lesson +20 -> 50 = xp-50.
        plane.received(0.2)
        # tutorctl tap --user: only this learner's analytics.xp, not learner2's
        tap = subprocess.Popen([os.path.join(t.build_dir, "tutorctl"), "tap", "--user", uid,
                                "--count", "3", "--timeout", "30000", "analytics.xp"],
                               env=t.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        plane.send("srs.reviewed", w.ids["learner2"], "2026-01-10T14:00:00.000Z", {"card_id": "x"})
        plane.send("grade.result", uid, "2026-01-10T15:00:00.000Z",
                   dict(ACC, submission_id="s1", item_id="item-1"))
        plane.send("grade.result", uid, "2026-01-10T15:01:00.000Z",
                   dict(ACC, submission_id="s2", item_id="item-1"))
        settle(t, plane)
        s = stats(w, "learner", as_of="2026-01-10")
        assert s["xp"] == 30 and s["counters"]["accepted"] == 1 and s["counters"]["submissions"] == 2
        assert not achievements(w, "learner")["xp-50"]["unlocked"]
        plane.send("catalog.lesson_completed", uid, "2026-01-10T16:00:00.000Z",
                   {"lesson_id": "lesson-1", "course_id": "course-1"})
        settle(t, plane)
        a = achievements(w, "learner")
        assert a["xp-50"]["unlocked"] and a["xp-50"]["progress"] == 50
        assert a["first-lesson"]["unlocked"] and a["first-accepted"]["unlocked"]
        assert a["xp-50"]["unlocked_at"].startswith("2026-01-10T16:00:00")
        assert stats(w, "learner")["level"] == 2       # 50 XP is level 2
        got = plane.received(2.0)
        unlocked = sorted(e["data"]["achievement"] for e in got
                          if e["type"] == "analytics.achievement" and e["user"] == uid)
        assert unlocked == ["first-accepted", "first-lesson", "first-submission", "xp-50"], got
        xp = [e["data"] for e in got if e["type"] == "analytics.xp" and e["user"] == uid]
        assert [x["total"] for x in xp] == [29, 30, 50], xp
        assert xp[-1]["level_up"] is True
        # the printable report: the learner's own, and their mentor's view of it
        r = get(w, "learner", "/api/v1/me/report")
        assert r["user_id"] == uid and r["html"].startswith("<!doctype html>")
        assert r["stats"]["xp"] == 50 and uid in r["html"] and "First green" in r["html"]
        assert "<script" not in r["html"] and r["html"].rstrip().endswith("</html>")
        assert r["html"].count('<td class="l') == 84          # 12 weeks of days
        m = get(w, "mentor", "/api/v1/me/report?user_id=" + uid)
        assert m["user_id"] == uid and m["stats"]["xp"] == 50
        get(w, "learner2", "/api/v1/me/report?user_id=" + uid, expect=404)
        get(w, "mentor", "/api/v1/me/report?user_id=%3Cscript%3E", expect=404)
        out, err = tap.communicate(timeout=40)
        assert tap.returncode == 0, err
        tapped = [json.loads(line) for line in out.splitlines()]
        assert [e["data"]["total"] for e in tapped] == [29, 30, 50], tapped
        assert {e["user"] for e in tapped} == {uid}
    finally:
        plane.close()


def test_duplicates_and_reordering_change_nothing(tutord_factory):
    """Two learners get the same history: one in order, the other shuffled and every event sent
    twice (the same id), with a third copy after everything. Their figures are equal."""
    w = build_world(tutord_factory)
    t = w.t
    plane = Plane(t)
    try:
        a, b = w.ids["learner"], w.ids["learner2"]
        for who in ("learner", "learner2"):
            tz(w, who, "Asia/Tokyo")

        def history(user):
            evs = review_history(user)
            evs += [("grade.result", user, "2026-01-0%dT01:00:00.000Z" % d,
                     dict(ACC, submission_id="s%d" % d, item_id="item-%d" % (d % 3)))
                    for d in range(1, 7)]
            evs += [("catalog.lesson_completed", user, "2026-01-05T02:00:00.000Z",
                     {"lesson_id": "L1"}),
                    ("catalog.lesson_completed", user, "2026-01-06T02:00:00.000Z",
                     {"lesson_id": "L1"}),        # the same lesson again: no second XP
                    ("llm.done", user, "2026-01-06T03:00:00.000Z", {"tokens": 12}),
                    ("session.started", user, "2026-01-06T03:00:00.000Z", {"kind": "chat"})]
            evs += [("catalog.progress", user, "2026-01-0%dT04:00:00.000Z" % d,
                     {"course_id": "C1", "lesson_id": "L1", "item_id": "x%d" % d,
                      "status": "completed", "percent": 25 * d, "completed": d, "items": 4})
                    for d in (1, 2, 3)]
            evs += [("grade.result", user, "2026-01-07T0%d:00:00.000Z" % h,
                     {"submission_id": "w%d" % h, "verdict": v, "score": 0.0, "item_id": "item-9"})
                    for h, v in ((1, "wrong_answer"), (2, "runtime_error"), (3, "wrong_answer"))]
            return evs

        for e in history(a):
            plane.send(*e)
        envs = [plane.send(*e) for e in history(b)]
        settle(t, plane)
        copies = envs + envs
        random.Random(8).shuffle(copies)
        plane.replay(copies)
        plane.replay(envs[:3])
        settle(t, plane)
        st = status(t)
        assert st["duplicates"] == len(envs) * 2 + 3, st      # the sentinels are fresh
        sa, sb = stats(w, "learner", "2026-01-10"), stats(w, "learner2", "2026-01-10")
        for s in (sa, sb):
            s.pop("user_id")
        assert sa == sb
        assert sa["counters"]["lessons"] == 1 and sa["counters"]["accepted"] == 3, sa
        ha = get(w, "learner", "/api/v1/me/heatmap?from=2026-01-01&to=2026-12-31")
        hb = get(w, "learner2", "/api/v1/me/heatmap?from=2026-01-01&to=2026-12-31")
        assert ha == hb and len(ha["days"]) == 365
        pa, pb = get(w, "learner", "/api/v1/me/progress"), get(w, "learner2", "/api/v1/me/progress")
        for pr in (pa, pb):
            for c in pr["courses"]:
                c.pop("updated_at")
        assert pa == pb
        assert pa["courses"] == [{"course_id": "C1", "percent": 75, "items_completed": 3,
                                  "items": 4, "completed": False}], pa
        assert pa["verdicts"] == {"accepted": 6, "wrong_answer": 2, "runtime_error": 1}, pa
        assert pa["failing_items"] == [{"item_id": "item-9", "attempts": 3, "failed": 3,
                                        "accepted": 0, "last_verdict": "wrong_answer"}], pa
        strip = lambda d: {k: {x: v for x, v in a.items() if x != "unlocked_at"} for k, a in d.items()}
        assert strip(achievements(w, "learner")) == strip(achievements(w, "learner2"))
    finally:
        plane.close()


def test_leaderboards_catch_up_and_rebuild(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    plane = Plane(t)
    try:
        A, B, A1 = w.ids["A"], w.ids["B"], w.ids["A1"]
        lrn, lrn2, third = w.ids["learner"], w.ids["learner2"], w.cohort_member()
        # this week: learner and learner2 tie at 22 XP, the third has 11; a year ago the third
        # earned 100 (all time only); learner2 also earned XP in org B (not counted in A)
        for user, item in [(lrn, "i1"), (lrn, "i2"), (lrn2, "i3"), (lrn2, "i4"), (third, "i5")]:
            plane.send("grade.result", user, _now(-60), dict(ACC, submission_id=item, item_id=item),
                       org=A)
        plane.send("catalog.course_completed", third, "2025-06-01T10:00:00.000Z",
                   {"course_id": "old"}, org=A)
        plane.send("grade.result", lrn2, _now(-30), dict(ACC, submission_id="b", item_id="b"), org=B)
        settle(t, plane)

        def board(who, period="week", cohort=A1):
            return get(w, who, "/api/v1/cohorts/%s/leaderboard?period=%s" % (cohort, period))

        b = board("learner")
        rows = [(r["rank"], r["user_id"], r["xp"]) for r in b["items"]]
        tied = sorted([lrn, lrn2])
        assert rows == [(1, tied[0], 22), (1, tied[1], 22), (3, third, 11)], rows
        assert b["me"]["user_id"] == lrn and b["me"]["rank"] == 1
        assert b["period"] == "week" and b["org_id"] == A
        assert board("mentor") == dict(b, me=None)       # the mentor is not ranked
        assert [r["user_id"] for r in board("learner", "all")["items"]][0] == third
        assert [r["xp"] for r in board("admin_a", "all")["items"]] == [111, 22, 22]
        for who in ("admin_b", "key_b"):
            get(w, who, "/api/v1/cohorts/%s/leaderboard" % A1, expect=404)
        get(w, "admin_a", "/api/v1/cohorts/%s/leaderboard?period=year" % A1, expect=400)
        get(w, "learner", "/api/v1/cohorts/%s/leaderboard" % uuid.uuid4(), expect=404)
        ob = get(w, "key_a", "/api/v1/orgs/%s/leaderboard?period=all&limit=2" % A)
        assert [r["rank"] for r in ob["items"]] == [1, 2] and ob["next_cursor"] == "2", ob
        ob2 = get(w, "key_a", "/api/v1/orgs/%s/leaderboard?period=all&limit=2&cursor=2" % A)
        assert [r["rank"] for r in ob2["items"]] == [2] and ob2["next_cursor"] is None, ob2
        get(w, "admin_b", "/api/v1/orgs/%s/leaderboard" % A, expect=404)

        # cohort metrics: the mentor sees every learner; 3 failed submissions make one stuck
        for i in range(3):
            plane.send("grade.result", third, _now(-10), {"submission_id": "f%d" % i,
                       "verdict": "wrong_answer", "score": 0.0, "item_id": "hard"}, org=A)
        settle(t, plane)
        m = get(w, "mentor", "/api/v1/cohorts/%s/metrics" % A1)
        rows = {r["user_id"]: r for r in m["items"]}
        assert set(rows) == {lrn, lrn2, third}
        assert rows[lrn]["submissions_7"] == 2 and rows[lrn]["accepted_7"] == 2
        assert not rows[lrn]["stuck"] and not rows[lrn]["inactive"]
        assert rows[third]["submissions_7"] == 4 and rows[third]["failing"] == 3
        assert rows[third]["stuck"] is True
        assert rows[lrn2]["submissions"] == 2          # the org B one is not org A's
        assert m["summary"] == {"learners": 3, "active_7": 3, "inactive": 0, "stuck": 1}, m
        get(w, "learner", "/api/v1/cohorts/%s/metrics" % A1, expect=403)
        get(w, "admin_b", "/api/v1/cohorts/%s/metrics" % A1, expect=404)
        assert get(w, "key_a", "/api/v1/cohorts/%s/metrics" % A1)["summary"]["stuck"] == 1

        # catch-up: the caller's own events, an org's for its admins and keys
        since = "2026-01-01T00:00:00Z"
        mine = get(w, "learner", "/api/v1/events?since=" + since)["items"]
        assert mine and all(e["user"] == lrn for e in mine)
        assert {"grade.result", "analytics.xp", "analytics.achievement"} <= {e["type"] for e in mine}
        assert all(set(e) == {"id", "type", "source", "time", "org", "user", "subject", "data"}
                   for e in mine)
        page = get(w, "learner", "/api/v1/events?limit=1")
        assert len(page["items"]) == 1 and page["next_cursor"]
        nxt = get(w, "learner", "/api/v1/events?limit=1&cursor=" + page["next_cursor"])
        assert nxt["items"][0]["id"] != page["items"][0]["id"]
        org_events = get(w, "admin_a", "/api/v1/events?org_id=" + A)["items"]
        assert {e["user"] for e in org_events} >= {lrn, lrn2, third}
        assert all(e["org"] == A for e in org_events)
        assert all(e["org"] == A for e in get(w, "key_a", "/api/v1/events")["items"])
        get(w, "learner", "/api/v1/events?org_id=" + A, expect=403)
        get(w, "admin_b", "/api/v1/events?org_id=" + A, expect=404)
        get(w, "learner", "/api/v1/events?since=yesterday", expect=400)

        # xAPI export of org A: statements an LRS accepts, the same ids every time, paged
        x = get(w, "admin_a", "/api/v1/orgs/%s/xapi?since=%s" % (A, since))
        sts = x["statements"]
        uuid_re = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        earned = [st for st in sts if st["verb"]["id"].endswith("/earned")]
        n_ach = len([e for e in org_events if e["type"] == "analytics.achievement"])
        assert len(earned) == n_ach >= 8                        # first-accepted/-submission x3, ...
        failed = [st for st in sts if st["verb"]["id"].endswith("/failed")]
        assert len(failed) == 3 and not any(st["result"]["success"] for st in failed)
        assert len(sts) == 8 + n_ach, [st["verb"]["id"] for st in sts]   # the 2025 course is before since
        for st in sts:
            assert uuid_re.match(st["id"]), st["id"]
            assert st["version"] == "1.0.3"
            assert st["actor"]["objectType"] == "Agent" and st["actor"]["account"]["name"]
            assert st["actor"]["account"]["homePage"].startswith("http://")
            assert re.match(r"^https?://", st["verb"]["id"]) and st["verb"]["display"]["en-US"]
            assert re.match(r"^https?://", st["object"]["id"]), st["object"]
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", st["timestamp"])
            if "result" in st and "score" in st["result"]:
                assert -1 <= st["result"]["score"]["scaled"] <= 1
        graded = [st for st in sts if st["verb"]["id"].endswith("/passed")]
        assert len(graded) == 5 and all(st["result"]["success"] for st in graded)
        assert {st["actor"]["account"]["name"] for st in graded} == {lrn, lrn2, third}
        assert len(set(st["id"] for st in sts)) == len(sts)
        again = get(w, "key_a", "/api/v1/orgs/%s/xapi?since=%s" % (A, since))["statements"]
        assert [st["id"] for st in again] == [st["id"] for st in sts]
        p1 = get(w, "admin_a", "/api/v1/orgs/%s/xapi?limit=4" % A)
        assert len(p1["statements"]) == 4 and p1["more"].startswith("/api/v1/orgs/")
        p2 = get(w, "admin_a", p1["more"])
        assert p2["statements"][0]["id"] not in {st["id"] for st in p1["statements"]}
        get(w, "learner", "/api/v1/orgs/%s/xapi" % A, expect=403)
        get(w, "admin_b", "/api/v1/orgs/%s/xapi" % A, expect=404)

        # a rebuild from the log gives the same figures
        before = {who: (stats(w, who), get(w, who, "/api/v1/me/heatmap"), achievements(w, who))
                  for who in ("learner", "learner2")}
        boards = [board("admin_a", p) for p in ("week", "month", "all")]
        res = t.tutorctl("call", "--auth", SYSTEM, "analytics", "rebuild")
        assert res.returncode == 0, res.stdout + res.stderr
        assert json.loads(res.stdout)["body"]["events"] >= 8
        after = {who: (stats(w, who), get(w, who, "/api/v1/me/heatmap"), achievements(w, who))
                 for who in ("learner", "learner2")}
        assert after == before
        assert [board("admin_a", p) for p in ("week", "month", "all")] == boards
        # only the operator rebuilds
        s, _, e = call(t, "POST", "/api/v1/_call/analytics/rebuild", w.tokens["admin_a"], {})
        assert s in (401, 403), (s, e)
    finally:
        plane.close()


def test_actor_killed_mid_stream_then_replayed(tutord_factory):
    """Half a history, the actor crashes (fault.exit) and the supervisor restarts it, then the
    producer replays everything: the first half is not counted twice."""
    w = build_world(tutord_factory)
    t = w.t
    plane = Plane(t)
    try:
        uid = w.ids["learner"]
        envs = [plane.send(*e) for e in review_history(uid)[:5]]
        settle(t, plane)
        assert stats(w, "learner")["xp"] == 10
        s, _, d = t.request("POST", "/api/v1/_call/analytics/fault.exit", body={})
        assert s == 202, d

        def back():
            text = t.request("GET", "/metrics")[2].decode()
            if not re.search(r'^tutord_actor_restarts_total\{actor="analytics"\} [1-9]', text, re.M):
                return False
            try:
                return status(t)["applied"] >= 0
            except (AssertionError, ValueError):
                return False
        deadline = time.monotonic() + 20
        while not back():
            assert time.monotonic() < deadline, "analytics did not come back"
            time.sleep(0.2)
        plane.close()
        plane = Plane(t)
        rest = [("srs.reviewed",) + e[1:] for e in review_history(uid)[5:]]
        plane.replay(envs)
        for e in rest:
            plane.send(*e)
        settle(t, plane)
        st = status(t)
        # the 5 replayed, plus what the restarted actor re-read from the event journal after its
        # saved cursor (test_analytics_journal.py): all found in the log, none counted
        assert st["duplicates"] >= 5, st
        s = stats(w, "learner", as_of="2026-01-10")
        assert s["xp"] == 18 and s["counters"]["reviews"] == 9
        assert achievements(w, "learner")["first-review"]["unlocked"]
    finally:
        plane.close()


def test_bad_input(tutord_factory):
    w = build_world(tutord_factory)
    t, tok = w.t, w.tokens["learner"]
    for path, field in [("/api/v1/me/heatmap?from=2026-13-01", "from"),
                        ("/api/v1/me/heatmap?to=yesterday", "to"),
                        ("/api/v1/me/heatmap?from=2026-02-01&to=2026-01-01", "to"),
                        ("/api/v1/me/heatmap?from=2024-01-01&to=2026-01-01", "to"),
                        ("/api/v1/me/stats?as_of=2026-02-30", "as_of"),
                        ("/api/v1/events?since=2026-01-01", "since"),
                        ("/api/v1/events?limit=0", "limit"),
                        ("/api/v1/events?limit=many", "limit"),
                        ("/api/v1/events?cursor=-1", "cursor"),
                        ("/api/v1/cohorts/%s/leaderboard?period=decade" % w.ids["A1"], "period"),
                        ("/api/v1/orgs/%s/leaderboard?limit=1000" % w.ids["A"], "limit")]:
        s, _, b = call(t, "GET", path, tok)
        assert s == 400 and b["error"]["code"] == "invalid_input", (path, s, b)
        assert b["error"]["field"] == field, (path, b)
    for body, field in [({"timezone": "Mars/Olympus_Mons"}, "timezone"), ({"timezone": 5}, "timezone"),
                        ({}, "timezone"), ([], "body"), ({"timezone": "x" * 300}, "timezone")]:
        s, _, b = call(t, "PUT", "/api/v1/me/analytics-settings", tok, body)
        assert s == 400 and b["error"]["field"] == field, (body, s, b)
    # an API key has no learner figures; anonymous callers none at all
    s, _, b = call(t, "GET", "/api/v1/me/stats", w.tokens["key_a"])
    assert s == 403
    s, _, b = call(t, "GET", "/api/v1/me/stats")
    assert s == 401


def test_definitions_seed_and_refusals(tutord_factory):
    """seed/achievements.json loads through the broker (as tools/up seeds it), twice without
    harm; a bad body is refused whole with its field; only the operator may set definitions."""
    t = tutord_factory()
    seed = os.path.join(t.env.get("TUTORD_SOURCE_DIR") or os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "..", ".."), "seed", "achievements.json")
    for _ in range(2):
        res = t.tutorctl("seed", seed)
        assert res.returncode == 0 and "1 loaded" in res.stdout + res.stderr, res.stdout + res.stderr
    res = t.tutorctl("call", "--auth", SYSTEM, "analytics", "definitions.set",
                     json.dumps({"xp_rules": [{"id": "a", "type": "grade.result", "xp": 5,
                                               "counter": "c"}],
                                 "levels": [0, 10], "streak": {"freeze_every": 7, "freeze_max": 2},
                                 "heatmap": [1, 2, 3, 4],
                                 "achievements": [{"id": "x", "tier": 1, "title": "X",
                                                   "metric": "nope", "threshold": 1}]}))
    assert res.returncode == 1
    reply = json.loads(res.stdout)
    assert reply["status"] == 400 and reply["error"]["field"] == "achievements[0].metric", reply
    res = t.tutorctl("call", "--auth", json.dumps({"kind": "user", "user": "u1"}), "analytics",
                     "definitions.set", "{}")
    assert json.loads(res.stdout)["status"] in (401, 403), res.stdout
    # the definitions in force are still the seed's: a refused body replaced nothing
    s, _, b = call(t, "POST", "/api/v1/auth/register",
                   body={"email": "defs-%s@example.org" % uuid.uuid4().hex[:8],
                         "password": "correct horse battery", "name": "D"})
    assert s == 201, b
    a = call(t, "GET", "/api/v1/me/achievements", b["token"])[2]
    with open(seed) as f:
        shipped = json.load(f)["messages"][0]["body"]["achievements"]
    assert a["total"] == len(shipped) and a["unlocked"] == 0
