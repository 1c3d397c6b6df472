"""llm.usage: one event per logical upstream call, the same numbers as the usage table (issue 8).

Why: analytics counts an org's model use from these events, while budgets and the usage route
count the llm_usage table; the two must never disagree. Each test reads llm.usage from the event
plane for one org while it makes calls of every kind (a tutor turn, each one-shot helper, a
conversation turn's analysis, an upstream error, a call retried and one answered by the fallback
model, the offline provider), then checks the invariant: per model and UTC day, the number of
events, their errors and their token sums equal the route's requests, errors and tokens; and each
event's purpose, provider, model, caller, ok/error and session are what the call was. The server
is stopped with the sanitizer check at the end (test_llm.py's env fixture).
"""

import json
import time

import zmq

from fake_llm import STREAMS
from test_llm import Org, _essay, _exercise, call, env, ok, turn  # noqa: F401 (env: the fixture)
from test_llm_conv import ANALYSIS_MARK, _analysis_stream, analysed_turn, conversation_course

import msgpack


class Usage:
    """llm.usage events of one org, from the event plane."""

    def __init__(self, env, org_id):
        self.org = org_id
        self.sock = env.zmq.socket(zmq.SUB)
        self.sock.setsockopt(zmq.SUBSCRIBE, b"llm.usage")
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(env.t.events)
        self.seen = []
        time.sleep(0.3)             # the slow joiner

    def drain(self, want=None, timeout=10, quiet=0.5):
        """Read until `want` events of the org arrived (then a quiet moment for any extra one)."""
        end = time.monotonic() + timeout
        last = time.monotonic()
        while time.monotonic() < end:
            if self.sock.poll(100):
                frames = self.sock.recv_multipart()
                assert frames[0] == b"llm.usage", frames[0]
                ev = msgpack.unpackb(frames[-1], raw=False)
                if ev["org"] == self.org:
                    self.seen.append(ev)
                    last = time.monotonic()
            elif (want is None or len(self.seen) >= want) and time.monotonic() - last > quiet:
                break
        if want is not None:
            assert len(self.seen) == want, (want, [e["data"] for e in self.seen])
        return self.seen

    def close(self):
        self.sock.close()


def check_invariant(env, org, events):
    """Per (day, model): events == requests, errors, prompt and completion tokens of the route."""
    u = ok(env.t, "GET", "/api/v1/orgs/%s/usage" % org.id, org.admin)
    table = {}
    for r in u["rows"]:
        k = (r["day"], r["model"])
        t = table.setdefault(k, [0, 0, 0, 0])
        for i, f in enumerate(("requests", "errors", "prompt_tokens", "completion_tokens")):
            t[i] += r[f]
    counted = {}
    for e in events:
        k = (e["time"][:10], e["data"]["model"])
        c = counted.setdefault(k, [0, 0, 0, 0])
        d = e["data"]
        c[0] += 1
        c[1] += (not d["ok"]) and d["error"] != "cancelled"
        c[2] += d["prompt_tokens"]
        c[3] += d["completion_tokens"]
    assert counted == table, (counted, table)
    return u


def shape(e, org, purpose, provider, model, ok_, error=None, session=None):
    d = e["data"]
    assert e["type"] == "llm.usage" and e["org"] == org.id and e["user"] == org.learner_id, e
    assert (d["purpose"], d["provider"], d["model"], d["ok"]) == (purpose, provider, model, ok_), d
    assert d.get("error") == error, d
    assert d.get("session_id") == session, d
    if session:
        assert e["subject"] == session, e
    assert "job_id" not in d
    assert isinstance(d["prompt_tokens"], int) and isinstance(d["completion_tokens"], int)


def test_every_call_one_event_matching_the_usage_table(env):
    org = Org(env, "openai")
    fb = org.model + "-fb"
    ok(env.t, "PUT", "/api/v1/orgs/%s/llm" % org.id, org.admin,
       {"provider": "openai", "fallback_models": [fb]})
    item, essay = _exercise(env, org), _essay(env, org)
    usage = Usage(env, org.id)
    try:
        # a tutor turn
        env.fake.script(org.model, {"events": STREAMS["openai"](["Think."], prompt=11, completion=4)})
        sid = org.session()
        assert turn(env, org, sid)[2]["ok"]
        e = usage.drain(1)[-1]
        shape(e, org, "tutor", "openai", org.model, True, session=sid)
        assert (e["data"]["prompt_tokens"], e["data"]["completion_tokens"]) == (11, 4)
        # retried twice (503, 429) then answered: ONE event
        env.fake.script(org.model, {"status": 503}, {"status": 429, "headers": {"retry-after-ms": "10"}},
                        {"events": STREAMS["openai"](["Ok."], prompt=7, completion=2)})
        assert turn(env, org, sid)[2]["ok"]
        assert len(env.fake.requests_for(org.model)) == 4
        e = usage.drain(2)[-1]
        shape(e, org, "tutor", "openai", org.model, True, session=sid)
        assert (e["data"]["prompt_tokens"], e["data"]["completion_tokens"]) == (7, 2)
        # the primary busy through its retries, the fallback answers: one event, the fallback's
        busy = {"status": 503}
        env.fake.script(org.model, busy, busy, busy)
        env.fake.script(fb, {"events": STREAMS["openai"](["Fb."], prompt=3, completion=1)})
        assert turn(env, org, sid)[2]["ok"]
        shape(usage.drain(3)[-1], org, "tutor", "openai", fb, True, session=sid)
        # an upstream error on both models: ok false with the code, one event (the last model)
        env.fake.script(org.model, {"status": 401, "body": {"error": {"message": "bad key"}}})
        env.fake.script(fb, {"status": 401, "body": {"error": {"message": "bad key"}}})
        done = turn(env, org, sid)[2]
        assert done["ok"] is False and done["error"]["code"] == "upstream_error"
        e = usage.drain(4)[-1]
        shape(e, org, "tutor", "openai", done["model"], False, error="upstream_error", session=sid)
        # each one-shot helper
        env.fake.script(org.model, {"events": STREAMS["openai"](["Use %."], prompt=40, completion=6)})
        ok(env.t, "POST", "/api/v1/llm/hint", org.learner, {"item_id": item, "code": "pass"})
        shape(usage.drain(5)[-1], org, "hint", "openai", org.model, True)
        env.fake.script(org.model, {"events": STREAMS["openai"](["Close."], prompt=50, completion=3)})
        ok(env.t, "POST", "/api/v1/llm/feedback", org.learner, {"item_id": item, "code": "print(1)"})
        shape(usage.drain(6)[-1], org, "feedback", "openai", org.model, True)
        env.fake.script(org.model, {"events": STREAMS["openai"](["It sums."], prompt=9, completion=4)})
        ok(env.t, "POST", "/api/v1/llm/explain", org.learner, {"code": "sum(xs)"})
        shape(usage.drain(7)[-1], org, "explain", "openai", org.model, True)
        answer = '{"time": "O(n)", "space": "O(1)", "narrative": "One pass."}'
        env.fake.script(org.model, {"events": STREAMS["openai"]([answer], prompt=8, completion=9)})
        ok(env.t, "POST", "/api/v1/llm/complexity", org.learner, {"code": "max(xs)"})
        shape(usage.drain(8)[-1], org, "complexity", "openai", org.model, True)
        good = json.dumps({"criteria": [{"criterion": "clarity", "points": 1, "reason": "ok"},
                                        {"criterion": "depth", "points": 2, "reason": "ok"}]})
        env.fake.script(org.model, {"events": STREAMS["openai"]([good], prompt=30, completion=20)})
        ok(env.t, "POST", "/api/v1/llm/evaluate", org.learner, {"item_id": essay, "answer": "Tests."})
        e = usage.drain(9)[-1]
        shape(e, org, "evaluate", "openai", org.model, True)
        assert (e["data"]["prompt_tokens"], e["data"]["completion_tokens"]) == (30, 20)
        # a helper whose model fails: 503 to the caller, one event with the code
        env.fake.script(org.model, {"status": 400, "body": {"error": {"message": "no"}}})
        s, _, b = call(env.t, "POST", "/api/v1/llm/explain", org.learner, {"code": "x"})
        assert s == 503, b
        shape(usage.drain(10)[-1], org, "explain", "openai", org.model, False, error="upstream_error")
        # a turn the learner cancels: ok false, "cancelled", not an error in the table
        env.fake.script(org.model, {"events": STREAMS["openai"](["a"] * 40), "delay": 0.1})
        s, _, ack = call(env.t, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, org.learner,
                         {"text": "long"})
        assert s == 202, ack
        time.sleep(0.5)
        ok(env.t, "POST", "/api/v1/tutor/sessions/%s/cancel" % sid, org.learner)
        shape(usage.drain(11)[-1], org, "tutor", "openai", org.model, False, error="cancelled",
              session=sid)
        events = usage.drain(11)
    finally:
        usage.close()
    u = check_invariant(env, org, events)
    assert u["totals"]["requests"] == 11 and u["totals"]["errors"] == 2


def test_conversation_turn_and_its_analysis(env):
    org = Org(env, "openai")
    mat, _ = conversation_course(env, org)
    sid = org.session("conversation", item_id=mat)
    usage = Usage(env, org.id)
    try:
        env.fake.script_matching(org.model, ANALYSIS_MARK, _analysis_stream(
            {"grammar_errors": [], "vocabulary": [], "level": "A2"}, prompt=40, completion=25))
        env.fake.script(org.model, {"events": STREAMS["openai"](["Gut!"], prompt=11, completion=2)})
        an, done = analysed_turn(env, org, sid, "Ich habe einen Hund.")
        assert done["ok"] and an["analysis"]["status"] == "done"
        events = usage.drain(2)
    finally:
        usage.close()
    by = {e["data"]["purpose"]: e for e in events}
    assert set(by) == {"conversation", "analysis"}, events
    shape(by["conversation"], org, "conversation", "openai", org.model, True, session=sid)
    shape(by["analysis"], org, "analysis", "openai", org.model, True, session=sid)
    assert (by["analysis"]["data"]["prompt_tokens"], by["analysis"]["data"]["completion_tokens"]) == (40, 25)
    check_invariant(env, org, events)


def test_offline_provider_counts_what_the_table_counts(env):
    org = Org(env, "offline")
    item = _exercise(env, org)
    usage = Usage(env, org.id)
    try:
        sid = org.session("tutor", item_id=item)
        assert turn(env, org, sid)[2]["ok"]
        shape(usage.drain(1)[-1], org, "tutor", "offline", "offline", True, session=sid)
        b = ok(env.t, "POST", "/api/v1/llm/hint", org.learner, {"item_id": item})
        assert b["offline"] is True
        shape(usage.drain(2)[-1], org, "hint", "offline", "offline", True)
        # explain needs a model: 503 before any call, so no event and no row
        s, _, b = call(env.t, "POST", "/api/v1/llm/explain", org.learner, {"code": "x"})
        assert s == 503, b
        events = usage.drain(2)
    finally:
        usage.close()
    assert all(e["data"]["prompt_tokens"] == 0 and e["data"]["completion_tokens"] == 0 for e in events)
    u = check_invariant(env, org, events)
    assert u["totals"]["requests"] == 2


def test_events_of_one_org_never_count_for_another(env):
    a, b = Org(env, "openai"), Org(env, "openai")
    ua, ub = Usage(env, a.id), Usage(env, b.id)
    try:
        env.fake.script(a.model, {"events": STREAMS["openai"](["A."], prompt=5, completion=1)})
        assert turn(env, a, a.session())[2]["ok"]
        ua.drain(1)
        ub.drain(0, timeout=1.5)
    finally:
        ua.close()
        ub.close()
    check_invariant(env, a, ua.seen)
    check_invariant(env, b, ub.seen)
    assert ok(env.t, "GET", "/api/v1/orgs/%s/usage" % b.id, b.admin)["rows"] == []
