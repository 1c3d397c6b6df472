"""Cohort metrics, org usage, error patterns and the report for org admins (issue 8 points 1 and 4).

Why: mentors and admins act on these figures (who is stuck, which exercise nobody passes, what the
org spends on models), so each is checked against a scripted history whose answer is worked out by
hand: completion per task, time spent from the gaps between events, stuck and inactive learners,
failing test cases and grammar topics, active learners and LLM tokens by model and purpose (from
llm.usage only, so a turn's llm.done and llm.usage count once); the same history
delivered twice gives the same figures; and who may see what (403 / 404 as IDENTITY.md says).
"""

import uuid

from test_access import build_world, call
from test_analytics import Plane, _now, get, settle

FAIL = {"verdict": "wrong_answer", "score": 0.0, "passed": False, "kind": "exercise"}
ACC = {"verdict": "accepted", "score": 1.0, "passed": True, "kind": "exercise"}


def history(w):
    """(type, user, time, data, org) of a known history in org A."""
    A, me, other = w.ids["A"], w.ids["learner"], w.ids["learner2"]
    x, y = "item-x-" + uuid.uuid4().hex[:6], "item-y-" + uuid.uuid4().hex[:6]
    m = lambda minutes: _now(-60 * minutes)  # noqa: E731
    evs = [
        # the learner: x failed three times (never accepted: stuck on it), y accepted at once;
        # one event a minute from 10 to 3 minutes ago, turns at 2, 2 and 1: 9 minutes spent
        ("grade.result", me, m(10), dict(FAIL, item_id=x, failed_tests=["t_empty", "t_unicode"]), A),
        ("grade.result", me, m(9), dict(FAIL, item_id=x, failed_tests=["t_empty", "t_unicode"]), A),
        ("grade.result", me, m(8), dict(FAIL, item_id=x, failed_tests=["t_empty", "t_unicode"]), A),
        ("grade.result", me, m(7), dict(ACC, item_id=y, failed_tests=[]), A),
        ("session.answered", me, m(6), {"session_id": "s1", "kind": "grammar", "item_id": "dative",
                                        "correct": False, "card_id": None}, None),
        ("session.answered", me, m(5), {"session_id": "s1", "kind": "grammar", "item_id": "dative",
                                        "correct": False, "card_id": None}, None),
        ("session.answered", me, m(4), {"session_id": "s1", "kind": "grammar", "item_id": "dative",
                                        "correct": True, "card_id": None}, None),
        ("srs.reviewed", me, m(3), {"card_id": "c1"}, None),
        # the other learner, 40 days ago: y failed once on t_empty, then accepted 20 minutes later
        ("grade.result", other, m(40 * 1440), dict(FAIL, item_id=y, failed_tests=["t_empty"]), A),
        ("grade.result", other, m(40 * 1440 - 20), dict(ACC, item_id=y), A),
        # conversation turns of the org: two on m1, one on m2
        ("llm.done", me, m(2), {"model": "m1", "ok": True,
                                "usage": {"prompt_tokens": 10, "completion_tokens": 20}}, A),
        ("llm.done", me, m(2), {"model": "m1", "ok": True,
                                "usage": {"prompt_tokens": 10, "completion_tokens": 20}}, A),
        ("llm.done", me, m(1), {"model": "m2", "ok": True,
                                "usage": {"prompt_tokens": 5, "completion_tokens": 5}}, A),
        # ... and their llm.usage (tokens are counted from these only: once), plus a hint;
        # usage is accounting, so it changes neither the time spent nor who is active
        ("llm.usage", me, m(2), {"purpose": "tutor", "provider": "openai", "model": "m1",
                                 "ok": True, "prompt_tokens": 10, "completion_tokens": 20}, A),
        ("llm.usage", me, m(2), {"purpose": "tutor", "provider": "openai", "model": "m1",
                                 "ok": True, "prompt_tokens": 10, "completion_tokens": 20}, A),
        ("llm.usage", me, m(1), {"purpose": "tutor", "provider": "openai", "model": "m2",
                                 "ok": True, "prompt_tokens": 5, "completion_tokens": 5}, A),
        ("llm.usage", other, m(0.5), {"purpose": "hint", "provider": "openai", "model": "m2",
                                      "ok": False, "prompt_tokens": 3, "completion_tokens": 0,
                                      "error": "timeout"}, A),
    ]
    return evs, x, y


def check_figures(w, x, y):
    A1 = w.ids["A1"]
    me, other = w.ids["learner"], w.ids["learner2"]
    b = get(w, "mentor", "/api/v1/cohorts/%s/metrics" % A1)
    assert b["inactive_days"] == 7
    people = {i["user_id"]: i for i in b["items"]}
    assert set(people) == {me, other}, b
    L, O = people[me], people[other]
    assert L["stuck"] and L["stuck_items"] == [x] and L["failing"] == 0, L  # y accepted after
    assert not L["inactive"] and L["active_minutes"] == 9 and L["active_minutes_7"] == 9, L
    assert L["submissions"] == 4 and L["accepted"] == 1, L
    assert O["inactive"] and not O["stuck"] and O["stuck_items"] == [], O
    # 20 minutes between the other learner's events: a break, not time spent
    assert O["active_minutes"] == 0 and O["active_minutes_7"] == 0, O
    assert b["summary"] == {"learners": 2, "active_7": 1, "inactive": 1, "stuck": 1}, b["summary"]
    tasks = {t["item_id"]: t for t in b["tasks"]}
    assert tasks[x] == {"item_id": x, "attempted": 1, "completed": 0, "attempts": 3, "failed": 3}
    assert tasks[y] == {"item_id": y, "attempted": 2, "completed": 2, "attempts": 3, "failed": 1}
    assert b["error_patterns"]["tests"] == [
        {"test": "t_empty", "failed": 4, "learners": 2},
        {"test": "t_unicode", "failed": 3, "learners": 1}], b["error_patterns"]
    assert b["error_patterns"]["items"] == [
        {"kind": "grammar", "item_id": "dative", "answered": 3, "wrong": 2, "learners": 1}]
    # a longer window: the other learner is no longer inactive
    b = get(w, "admin_a", "/api/v1/cohorts/%s/metrics?inactive_days=60" % A1)
    assert b["summary"]["inactive"] == 0 and b["inactive_days"] == 60

    # the learner's own error patterns
    p = get(w, "learner", "/api/v1/me/progress")
    assert p["failing_tests"] == [
        {"test": "t_empty", "failed": 3, "items": 1, "last_failed": p["failing_tests"][0]["last_failed"]},
        {"test": "t_unicode", "failed": 3, "items": 1, "last_failed": p["failing_tests"][1]["last_failed"]}]
    assert p["failing_topics"] == [{"kind": "grammar", "item_id": "dative", "answered": 3, "wrong": 2,
                                    "last_correct": True}], p["failing_topics"]

    # the org's usage
    A = w.ids["A"]
    u = get(w, "admin_a", "/api/v1/orgs/%s/activity" % A)
    assert u["org_id"] == A and u["days"] == 30
    assert u["active_learners"] == {"day": 1, "week": 1, "month": 1}, u
    assert (u["learners"], u["submissions"], u["accepted"], u["reviews"]) == (1, 4, 1, 1), u
    assert u["llm"] == {
        "turns": 3, "requests": 4, "errors": 1, "prompt_tokens": 28, "completion_tokens": 45,
        "total_tokens": 73,
        "by_model": [
            {"model": "m1", "turns": 2, "requests": 2, "errors": 0, "prompt_tokens": 20,
             "completion_tokens": 40, "total_tokens": 60},
            {"model": "m2", "turns": 1, "requests": 2, "errors": 1, "prompt_tokens": 8,
             "completion_tokens": 5, "total_tokens": 13}],
        "by_purpose": [
            {"purpose": "hint", "requests": 1, "errors": 1, "prompt_tokens": 3,
             "completion_tokens": 0, "total_tokens": 3},
            {"purpose": "tutor", "requests": 3, "errors": 0, "prompt_tokens": 25,
             "completion_tokens": 45, "total_tokens": 70}]}, u
    u = get(w, "key_a", "/api/v1/orgs/%s/activity?days=60" % A)
    assert (u["learners"], u["submissions"], u["accepted"]) == (2, 6, 2), u
    assert u["active_learners"]["month"] == 1, u


def test_cohort_metrics_org_usage_and_error_patterns(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    plane = Plane(t)
    try:
        evs, x, y = history(w)
        sent = [plane.send(e[0], e[1], e[2], e[3], org=e[4]) for e in evs]
        settle(t, plane)
        check_figures(w, x, y)
        # the same history again, reordered: exactly once, nothing changes
        plane.replay(list(reversed(sent)))
        settle(t, plane)
        check_figures(w, x, y)
    finally:
        plane.close()
    A, A1 = w.ids["A"], w.ids["A1"]
    for who, expect in [("learner", 403), ("mentor", 403), ("admin_b", 404), ("key_b", 404)]:
        s, _, b = call(t, "GET", "/api/v1/orgs/%s/activity" % A, w.tokens[who])
        assert s == expect, (who, s, b)
    for path, field in [("/api/v1/orgs/%s/activity?days=0" % A, "days"),
                        ("/api/v1/orgs/%s/activity?days=367" % A, "days"),
                        ("/api/v1/orgs/%s/activity?days=ten" % A, "days"),
                        ("/api/v1/cohorts/%s/metrics?inactive_days=-1" % A1, "inactive_days"),
                        ("/api/v1/cohorts/%s/metrics?inactive_days=1x" % A1, "inactive_days"),
                        ("/api/v1/cohorts/%s/metrics?inactive_days=%s" % (A1, "9" * 30),
                         "inactive_days")]:
        s, _, b = call(t, "GET", path, w.tokens["admin_a"])
        assert s == 400 and b["error"]["code"] == "invalid_input", (path, s, b)
        assert b["error"]["field"] == field, (path, b)


def test_report_for_org_admins(tutord_factory):
    """An org admin reads the report of a member of their org; not of anyone else (404, as if
    the learner did not exist), and an admin of another org learns nothing either."""
    w = build_world(tutord_factory)
    t = w.t
    me = w.ids["learner"]
    b = get(w, "admin_a", "/api/v1/me/report?user_id=%s" % me)
    assert b["user_id"] == me and "<html" in b["html"] and me in b["html"], b.get("user_id")
    # a member of org A who is in no cohort: still the admin's
    uid, _ = w.member("A")
    assert get(w, "admin_a", "/api/v1/me/report?user_id=%s" % uid)["user_id"] == uid
    for who, target in [("admin_b", me), ("admin_a", w.ids["admin_b"]), ("learner2", me),
                        ("admin_a", str(uuid.uuid4())), ("admin_a", "not-a-uuid")]:
        s, _, b = call(t, "GET", "/api/v1/me/report?user_id=%s" % target, w.tokens[who])
        assert s == 404 and b["error"]["code"] == "not_found", (who, target, s, b)
