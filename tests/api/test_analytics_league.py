"""Weekly leagues (issue 8 point 3): groups by tier and join order, the week's XP, promotion and
demotion at the week's end applied exactly once.

Why: a league week closes once for everybody, and the close is triggered by a tick that may run
twice or after a restart; a second close must change nothing and announce nothing. The clock is
controlled with `league.close {today}` (the operator's verb the tick calls with the real day);
small groups (size 3, top 1 up, bottom 1 down) make the expected answer easy to work out.
"""

import json
import re
import time
import uuid

from test_access import build_world, call
from test_analytics import ACC, Plane, SYSTEM, settle, status

ENV = {"TUTORD_ANALYTICS_LEAGUE_SIZE": "3", "TUTORD_ANALYTICS_LEAGUE_PROMOTE": "1",
       "TUTORD_ANALYTICS_LEAGUE_DEMOTE": "1"}
DAY = 86400


def monday(offset_weeks=0):
    """The Monday (UTC) of this week plus offset weeks, as (YYYY-MM-DD, unix seconds)."""
    now = int(time.time())
    day = now // DAY
    start = (day - (day + 3) % 7 + 7 * offset_weeks) * DAY
    return time.strftime("%Y-%m-%d", time.gmtime(start)), start


def at(unix):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(unix))


def close(t, today):
    res = t.tutorctl("call", "--auth", SYSTEM, "analytics", "league.close",
                     json.dumps({"today": today}))
    assert res.returncode == 0, res.stdout + res.stderr
    return json.loads(res.stdout)["body"]


def league(w, who, expect=200):
    s, _, b = call(w.t, "GET", "/api/v1/me/league?org_id=%s" % w.ids["A"], w.tokens[who])
    assert s == expect, (who, s, b)
    return b


def earn(plane, w, user, n, when):
    """n accepted submissions of fresh exercises in org A: 11 XP each (10 + 1)."""
    for _ in range(n):
        plane.send("grade.result", user, at(when), dict(ACC, item_id="i-" + uuid.uuid4().hex),
                   org=w.ids["A"])


def test_weekly_league_promotion_demotion_exactly_once(tutord_factory):
    w = build_world(tutord_factory, **ENV)
    t = w.t
    extra = [w.member("A")[0] for _ in range(2)]
    u1, u2, u3 = w.ids["learner"], w.ids["learner2"], w.ids["mentor"]
    u4, u5 = extra
    this_week, start = monday()
    next_week, next_start = monday(1)
    week_after, _ = monday(2)
    now = int(time.time())
    plane = Plane(t, topics=("analytics.league",))
    try:
        # join order u1, u2, u3 (group 0), u4, u5 (group 1): each one's first event settles
        # before the next joins
        for user, n in [(u1, 1), (u2, 3), (u3, 2), (u4, 1), (u5, 2)]:
            earn(plane, w, user, n, now)
            settle(t, plane)
        me = league(w, "learner2")
        assert me["week"] == this_week and me["ends_at"] == next_week and me["tier"] == 0, me
        assert me["size"] == 3 and me["promote"] == 1 and me["demote"] == 1
        g = me["group"]
        assert g["number"] == 0 and g["tier"] == 0, g
        assert [(m["user_id"], m["xp"], m["rank"], m["zone"]) for m in g["members"]] == [
            (u2, 33, 1, "promotion"), (u3, 22, 2, "safe"), (u1, 11, 3, "safe")], g
        assert me["me"] == {"rank": 1, "xp": 33, "zone": "promotion"} and me["last"] is None
        assert [m["user_id"] for m in league(w, "learner")["group"]["members"]] == [u2, u3, u1]
        # a rebuild from the log gives the same groups, join order and weekly XP
        res = t.tutorctl("call", "--auth", SYSTEM, "analytics", "rebuild")
        assert res.returncode == 0, res.stdout + res.stderr
        assert league(w, "learner2") == me
        assert league(w, "admin_a")["group"] is None    # earned nothing: in no group

        # the week has not ended: nothing closes
        assert close(t, this_week) == {"weeks": 0, "members": 0}
        # it ended: org A's week closes (other actors of the server may have placed learners of
        # other orgs too), its five learners placed, each told once
        r = close(t, next_week)
        assert r["weeks"] >= 1 and r["members"] >= 5, r
        got = [e for e in plane.received(3.0)
               if e["type"] == "analytics.league" and e["org"] == w.ids["A"]]
        assert sorted((e["user"], e["data"]["outcome"], e["data"]["tier"]) for e in got) == sorted([
            (u2, "promoted", 1), (u3, "stayed", 0), (u1, "stayed", 0),
            (u5, "promoted", 1), (u4, "stayed", 0)]), got
        # the tick is at-least-once: closing again, or after a restart, changes nothing
        assert close(t, next_week) == {"weeks": 0, "members": 0}
        s, _, d = t.request("POST", "/api/v1/_call/analytics/fault.exit", body={})
        assert s == 202, d
        deadline = time.monotonic() + 20
        while not re.search(r'^tutord_actor_restarts_total\{actor="analytics"\} [1-9]',
                            t.request("GET", "/metrics")[2].decode(), re.M):
            assert time.monotonic() < deadline, "analytics did not come back"
            time.sleep(0.2)
        deadline = time.monotonic() + 20
        while True:
            try:
                status(t)
                break
            except (AssertionError, ValueError):
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert close(t, next_week) == {"weeks": 0, "members": 0}
        assert [e for e in plane.received(1.5) if e["type"] == "analytics.league"] == []
        evs = call(t, "GET", "/api/v1/events?limit=500", w.tokens["learner2"])[2]["items"]
        assert [e["data"]["outcome"] for e in evs if e["type"] == "analytics.league"] == ["promoted"]
        me = league(w, "learner2")
        assert me["tier"] == 1 and me["tier_name"] == "silver", me
        assert me["last"] == {"week": this_week, "outcome": "promoted", "rank": 1, "tier": 0,
                              "xp": 33}, me["last"]
        # a late event of the closed week joins nothing and changes no standing
        earn(plane, w, u1, 1, now)
        settle(t, plane)
        assert league(w, "learner")["last"]["xp"] == 11

        # next week, in silver: u2 joins first, u5 second; u5 earns more. u5 goes up to gold,
        # u2 (last of two, in silver) goes back down to bronze.
        plane.close()
        plane = Plane(t, topics=("analytics.league",))
        earn(plane, w, u2, 1, next_start + 3600)
        settle(t, plane)
        earn(plane, w, u5, 2, next_start + 7200)
        settle(t, plane)
        r = close(t, week_after)
        assert r["weeks"] >= 1 and r["members"] >= 2, r
        got = {e["user"]: e["data"] for e in plane.received(3.0)
               if e["type"] == "analytics.league" and e["org"] == w.ids["A"]}
        assert set(got) == {u2, u5}, got
        assert got[u2]["outcome"] == "demoted" and got[u2]["tier"] == 0 and got[u2]["rank"] == 2
        assert got[u5]["outcome"] == "promoted" and got[u5]["tier"] == 2 and got[u5]["size"] == 2
        assert league(w, "learner2")["tier"] == 0
    finally:
        plane.close()
    # bad input and who may ask
    res = t.tutorctl("call", "--auth", SYSTEM, "analytics", "league.close",
                     json.dumps({"today": "2026-02-30"}))
    assert json.loads(res.stdout)["error"]["field"] == "today", res.stdout
    res = t.tutorctl("call", "--auth", json.dumps({"kind": "user", "user": u1}), "analytics",
                     "league.close", "{}")
    assert json.loads(res.stdout)["status"] == 403, res.stdout
    s, _, b = call(t, "GET", "/api/v1/me/league", w.tokens["admin_b"])
    assert s == 200 and b["org_id"] == w.ids["B"] and b["group"] is None and b["tier"] == 0, b
    s, _, b = call(t, "GET", "/api/v1/me/league?org_id=%s" % w.ids["B"], w.tokens["learner"])
    assert s == 404, b
