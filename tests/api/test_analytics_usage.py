"""LLM usage in the org's activity (issue 8 point 4: "LLM tokens by model").

Why: an org admin reads what the org spends on models from GET /api/v1/orgs/{id}/activity. Every
logical upstream call publishes one llm.usage (tutor turns, conversations, hints, feedback,
explanations, evaluations, complexity, analysis, generation jobs); tutor turns also publish
llm.done, which keeps counting turns. The figures are checked to the token against a scripted
history injected through the event plane (two models, every kind of purpose, an error, a
duplicate, another org's event, a hostile one, a look-alike type), and so is what usage must
NOT do: earn XP, make a learner active or busy, appear in the xAPI export, change with a rebuild.
The end-to-end test sends a hint through the real llm actor against the fake upstream and finds
its tokens in the org's activity.
"""

import json
import time
import types

import pytest
import zmq

import conftest
from fake_llm import FakeLLM, STREAMS
from test_access import build_world, call
from test_analytics import SYSTEM, Plane, _now, get, settle, stats, status


class UsagePlane(Plane):
    """The analytics test plane, also waiting until llm.usage is subscribed."""
    PROBES = Plane.PROBES + ["llm.usage"]


def usage(purpose, model, p, c, ok=True, **extra):
    d = {"purpose": purpose, "provider": "openai", "model": model, "prompt_tokens": p,
         "completion_tokens": c, "ok": ok}
    if not ok:
        d["error"] = "unavailable"
    d.update(extra)
    return d


def fig(requests, errors, p, c):
    return {"requests": requests, "errors": errors, "prompt_tokens": p, "completion_tokens": c,
            "total_tokens": p + c}


def check_org_a(w):
    A = w.ids["A"]
    u = get(w, "admin_a", "/api/v1/orgs/%s/activity" % A)
    llm = u["llm"]
    # one turn (llm.done), its tokens counted once (from its llm.usage only)
    assert {k: llm[k] for k in fig(0, 0, 0, 0)} == fig(7, 1, 1400, 652), llm
    assert llm["turns"] == 1, llm
    assert llm["by_model"] == [
        dict(fig(4, 0, 340, 140), model="m1", turns=1),
        dict(fig(3, 1, 1060, 512), model="m2", turns=0)], llm["by_model"]
    assert llm["by_purpose"] == [
        dict(fig(1, 0, 200, 80), purpose="analysis"),
        dict(fig(1, 1, 20, 0), purpose="explain"),
        dict(fig(1, 0, 40, 12), purpose="feedback"),
        dict(fig(1, 0, 1000, 500), purpose="generation"),
        dict(fig(1, 0, 30, 7), purpose="hint"),
        dict(fig(2, 0, 110, 53), purpose="tutor")], llm["by_purpose"]
    # usage is accounting: learner2, who only asked for a hint, is not an active learner
    assert u["active_learners"] == {"day": 1, "week": 1, "month": 1}, u
    assert u["learners"] == 1, u
    return u


def test_usage_by_model_and_purpose(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    A, B = w.ids["A"], w.ids["B"]
    me, other = w.ids["learner"], w.ids["learner2"]
    plane = UsagePlane(t)
    try:
        done = {"session_id": "s-1", "message_id": "m-1", "provider": "openai", "model": "m1",
                "ok": True, "usage": {"prompt_tokens": 100, "completion_tokens": 50}}
        hint = plane.send("llm.usage", other, _now(-30), usage("hint", "m1", 30, 7), org=A)
        sent = [
            # a tutor turn: llm.done AND llm.usage, counted once
            plane.send("llm.done", me, _now(-60), done, org=A),
            plane.send("llm.usage", me, _now(-60), usage("tutor", "m1", 100, 50,
                                                         session_id="s-1"), org=A),
            hint,
            plane.send("llm.usage", me, _now(-20), usage("feedback", "m2", 40, 12), org=A),
            plane.send("llm.usage", me, _now(-10), usage("explain", "m2", 20, 0, ok=False), org=A),
            # a cancelled turn: a request, not an error (as in GET /orgs/{id}/usage)
            plane.send("llm.usage", me, _now(-10), usage("tutor", "m1", 10, 3, ok=False,
                                                         error="cancelled"), org=A),
            # a generation job of the admin's and an analysis without a user: tokens still count
            plane.send("llm.usage", w.ids["admin_a"], _now(-9),
                       usage("generation", "m2", 1000, 500, job_id="j-1"), org=A),
            plane.send("llm.usage", None, _now(-8), usage("analysis", "m1", 200, 80), org=A),
            # another org's call; a hostile one there (tokens not numbers, or absurdly large)
            plane.send("llm.usage", me, _now(-7), usage("hint", "m1", 999, 999), org=B),
            plane.send("llm.usage", me, _now(-6), usage("hint", "m1", "lots", 1e30), org=B),
            plane.send("llm.usage", me, _now(-5), {"purpose": ["x"], "model": {"a": 1}}, org=B),
        ]
        # a look-alike type the SUB prefix lets through: not stored, not counted
        daily = plane.send("llm.usage_daily", None, _now(-4),
                           {"org_id": A, "day": "2026-01-01", "prompt_tokens": 5,
                            "completion_tokens": 5}, org=A)
        plane.replay([hint])                        # a duplicate (same source and id)
        settle(t, plane)
        assert status(t, {"source": hint["source"], "id": hint["id"]})["logged"]
        assert not status(t, {"source": daily["source"], "id": daily["id"]})["logged"]

        u = check_org_a(w)
        b = get(w, "admin_b", "/api/v1/orgs/%s/activity" % B)["llm"]
        assert b["turns"] == 0 and b["requests"] == 3 and b["errors"] == 0, b
        assert b["prompt_tokens"] == 999 and b["completion_tokens"] == 999 + 10 ** 9, b
        assert [m["model"] for m in b["by_model"]] == ["m1", "unknown"], b
        assert [p["purpose"] for p in b["by_purpose"]] == ["hint", "unknown"], b
        # the API key of org A reads the same; a shorter window still holds everything
        assert get(w, "key_a", "/api/v1/orgs/%s/activity?days=1" % A)["llm"] == u["llm"]

        # no learner figure moves: the turn earned its 1 XP; usage earned nothing
        s1, s2 = stats(w, "learner"), stats(w, "learner2")
        assert s1["xp"] == 1 and s1["counters"] == {"turns": 1}, s1
        assert s2["xp"] == 0 and s2["counters"] == {} and s2["active_days"] == 0, s2
        m = {i["user_id"]: i for i in get(w, "mentor", "/api/v1/cohorts/%s/metrics"
                                          % w.ids["A1"])["items"]}
        assert m[other]["last_event"] is None and m[other]["inactive"], m[other]
        assert m[other]["active_minutes"] == 0, m[other]
        # the xAPI export leaves it out (not a learner statement); the turn is there
        kinds = [st["context"]["extensions"][k] for st in get(w, "admin_a", "/api/v1/orgs/%s/xapi"
                                                              % A)["statements"]
                 for k in st["context"]["extensions"] if k.endswith("/xapi/event-type")]
        assert "llm.done" in kinds and "llm.usage" not in kinds, kinds

        # a rebuild from the log: the same learner figures, the same activity
        res = t.tutorctl("call", "--auth", SYSTEM, "analytics", "rebuild")
        assert res.returncode == 0, res.stdout + res.stderr
        assert stats(w, "learner")["xp"] == 1 and stats(w, "learner2")["xp"] == 0
        check_org_a(w)
        # the whole history again, reordered: exactly once, nothing changes
        plane.replay(list(reversed(sent)))
        settle(t, plane)
        check_org_a(w)
    finally:
        plane.close()
    # usage earns no XP, even if an operator writes a rule for it: definitions.set refuses it
    rule = {"xp_rules": [{"id": "tokens", "type": "llm.usage", "xp": 1}], "levels": [0, 10],
            "streak": {"freeze_every": 7, "freeze_max": 2}, "heatmap": [1, 2, 3, 4],
            "achievements": [{"id": "a", "tier": 1, "title": "A", "metric": "xp", "threshold": 1}]}
    res = t.tutorctl("call", "--auth", SYSTEM, "analytics", "definitions.set", json.dumps(rule))
    reply = json.loads(res.stdout)
    assert res.returncode == 1 and reply["status"] == 400, reply
    assert reply["error"]["field"] == "type" and "llm.usage" in reply["error"]["message"], reply


# -- end to end: a hint through the real llm actor ------------------------------------------------

@pytest.fixture(scope="module")
def llm_env(_tmp_root, _migrated):
    fake = FakeLLM().start()
    t = conftest.Tutord(_tmp_root, {"TUTORD_LLM_BACKOFF_MS": "50",
                                    "TUTORD_LLM_MAX_RETRIES": "1"}).start()
    ctx = zmq.Context()
    yield types.SimpleNamespace(t=t, fake=fake, zmq=ctx)
    ctx.term()
    t.stop(check=True)
    fake.stop()


def test_hint_through_the_llm_actor_shows_in_the_org_activity(llm_env):
    from test_llm import Org, _exercise, ok
    env = llm_env
    org = Org(env, "anthropic")
    item = _exercise(env, org)
    env.fake.script(org.model, {"events": STREAMS["anthropic"](["Check", " i % 15 first."],
                                                               prompt=40, completion=6)})
    b = ok(env.t, "POST", "/api/v1/llm/hint", org.learner, {"item_id": item})
    assert b["usage"] == {"prompt_tokens": 40, "completion_tokens": 6}, b
    want = dict(fig(1, 0, 40, 6), purpose="hint")
    end = time.monotonic() + 20
    while True:
        u = ok(env.t, "GET", "/api/v1/orgs/%s/activity" % org.id, org.admin)["llm"]
        if u["by_purpose"] == [want] or time.monotonic() > end:
            break
        time.sleep(0.2)
    assert u["by_purpose"] == [want], u
    assert u["by_model"] == [dict(fig(1, 0, 40, 6), model=org.model, turns=0)], u
    assert u["turns"] == 0 and u["total_tokens"] == 46, u
    # an upstream failure is one request and one error, no tokens
    env.fake.script(org.model, {"status": 401, "body": {"type": "error",
                                                        "error": {"type": "authentication_error"}}})
    s, _, _ = call(env.t, "POST", "/api/v1/llm/hint", org.learner, {"item_id": item})
    assert s == 503
    end = time.monotonic() + 20
    while True:
        u = ok(env.t, "GET", "/api/v1/orgs/%s/activity" % org.id, org.admin)["llm"]
        if u["requests"] == 2 or time.monotonic() > end:
            break
        time.sleep(0.2)
    assert (u["requests"], u["errors"], u["total_tokens"]) == (2, 1, 46), u
