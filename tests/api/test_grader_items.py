"""Submissions to catalog items through the web bridge: exercises graded against the item's own
tests (hidden ones included, never shown), questions of every objective type graded at once,
subjective answers left pending, the grade.* events carrying item_id/kind/passed, and the
result.list feed the catalog catches up from.

Why: the learner sends only {item_id, code} or {item_id, answer}; everything that decides the
grade (language, tests, answer key) comes from the catalog, and whoever may not see the item must
be told it does not exist. Every server here is a real tutord (grader + catalog + bridge).
"""

import json
import time

import msgpack
import zmq

from conftest import wait_for
from test_access import build_world, call, ok, unique

SYSTEM = json.dumps({"kind": "system"})

EXERCISE = {"language": "python", "instructions": "Double the number.", "starter_code": "",
            "tests": [{"name": "two", "stdin": "2", "expected_stdout": "4\n"},
                      {"name": "secret", "stdin": "21", "expected_stdout": "SECRET-42\n",
                       "hidden": True, "match": "trim"}],
            "hints": ["int(input())"],
            "solution": "n = int(input())\nprint(('SECRET-%d' % (2 * n)) if n == 21 else 2 * n)"}
QUESTIONS = {
    "single": {"type": "single", "prompt": "Pick b", "choices": ["a", "b", "c"], "answer": 1,
               "explanation": "b is b"},
    "multiple": {"type": "multiple", "prompt": "Vowels?", "choices": ["a", "b", "e", "d"],
                 "answer": [0, 2]},
    "short": {"type": "short", "prompt": "Capital of France?", "answer": ["Paris"]},
    "numeric": {"type": "numeric", "prompt": "pi?", "answer": 3.14159, "tolerance": 0.01},
    "subjective": {"type": "subjective", "prompt": "Explain recursion.",
                   "scorecard": [{"criterion": "clarity", "description": "clear", "max_points": 5}]},
}


def grader(t, verb, body):
    res = t.tutorctl("call", "--timeout", "30000", "--auth", SYSTEM, "grade", verb,
                     json.dumps(body), timeout=60)
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def build_course(w, visibility="public", publish=True):
    """A course of org A with one lesson holding the exercise, the questions and a material."""
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("gi"), "title": "Graded", "visibility": visibility}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "mod", "title": "M"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "les", "title": "L"})
    items = {}
    contents = dict(QUESTIONS, exercise=EXERCISE)
    for name, content in contents.items():
        kind = "exercise" if name == "exercise" else "question"
        items[name] = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
                         {"slug": name, "kind": kind, "title": name, "content": content},
                         expect=(201,))["id"]
    items["material"] = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
                           {"slug": "mat", "kind": "material", "title": "Read",
                            "content": {"blocks": [{"type": "markdown", "text": "Hi"}]}},
                           expect=(201,))["id"]
    if publish:
        ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return c, items


def submit(w, who, body, wait=True, expect=None):
    path = "/api/v1/submissions" + ("?wait=true" if wait else "")
    s, _, b = call(w.t, "POST", path, w.tokens[who], body)
    if expect is not None:
        assert s == expect, (body, s, b)
    return s, b


def test_exercise_by_item_hides_hidden_tests(tutord_factory):
    w = build_world(tutord_factory)
    c, items = build_course(w)
    # the reference solution passes every test, hidden one included
    s, r = submit(w, "learner", {"item_id": items["exercise"], "code": EXERCISE["solution"]},
                  expect=200)
    assert r["verdict"] == "accepted" and r["score"] == 100 and r["passed"] is True, r
    assert r["kind"] == "exercise" and r["item_id"] == items["exercise"], r
    assert r["language"] == "python" and len(r["tests"]) == 2
    text = json.dumps(r)
    assert "SECRET-42" not in text, "a hidden test's expected output leaked"
    hidden = [x for x in r["tests"] if x["hidden"]]
    assert len(hidden) == 1 and "stdout" not in hidden[0] and "expected_stdout" not in hidden[0]
    # a wrong solution fails on the hidden test only; its output and expectation stay hidden
    s, r = submit(w, "learner", {"item_id": items["exercise"], "code": "print(2 * int(input()))"},
                  expect=200)
    assert r["verdict"] == "wrong_answer" and r["passed"] is False and r["score"] == 50, r
    assert "SECRET-42" not in json.dumps(r) and '"42' not in json.dumps(r)
    # the stored submission (GET) tells the same, with no test data of the item
    s, _, got = call(w.t, "GET", "/api/v1/submissions/%s" % r["id"], w.tokens["learner"])
    assert s == 200 and got["verdict"] == "wrong_answer" and got["item_id"] == items["exercise"]
    assert "SECRET" not in json.dumps(got) and '"stdin"' not in json.dumps(got)
    # without wait: 202 queued, then done
    s, q = submit(w, "key_a", {"item_id": items["exercise"], "code": EXERCISE["solution"]},
                  wait=False, expect=202)
    assert q["status"] == "queued" and q["kind"] == "exercise"
    done = wait_for(lambda: (lambda g: g if g[2].get("status") == "done" else None)(
        call(w.t, "GET", "/api/v1/submissions/%s" % q["id"], w.tokens["key_a"])), 60, 0.2)
    assert done and done[2]["verdict"] == "accepted", done


def test_item_access_and_bad_items(tutord_factory):
    w = build_world(tutord_factory)
    _, pub = build_course(w)
    _, orgc = build_course(w, visibility="org")
    _, draft = build_course(w, publish=False)
    body = lambda items: {"item_id": items["exercise"], "code": "print(1)"}
    # a published public course: every signed-in caller; an org course: org A only; a draft:
    # its authors only. Who may not see the item is told it does not exist.
    for items, allowed in [(pub, ["learner", "mentor", "admin_a", "admin_b", "key_a", "key_b"]),
                           (orgc, ["learner", "mentor", "admin_a", "key_a"]),
                           (draft, ["mentor", "admin_a"])]:
        for who in ["learner", "mentor", "admin_a", "admin_b", "key_a", "key_b"]:
            s, b = submit(w, who, body(items), wait=False)
            want = 202 if who in allowed else 404
            assert s == want, (who, s, b)
            if s == 404:
                assert b["error"]["code"] == "not_found" and b["error"]["field"] == "item_id"
    s, _, b = call(w.t, "POST", "/api/v1/submissions", None, body(pub))
    assert s == 401, (s, b)
    # unknown and malformed items, a material, mixed forms
    for sub, status, field in [
        ({"item_id": "00000000-0000-4000-8000-000000000000", "code": "x"}, 404, "item_id"),
        ({"item_id": "not-a-uuid", "code": "x"}, 404, "item_id"),
        ({"item_id": 5, "code": "x"}, 400, "item_id"),
        ({"item_id": "x" * 100, "code": "x"}, 400, "item_id"),
        ({"code": "print(1)"}, 400, "item_id"),
        ({"item_id": pub["material"], "code": "x"}, 400, "item_id"),
        ({"item_id": pub["exercise"]}, 400, "code"),
        ({"item_id": pub["exercise"], "code": 7}, 400, "code"),
        ({"item_id": pub["exercise"], "code": "x", "tests": []}, 400, "tests"),
        ({"item_id": pub["exercise"], "answer": 1}, 400, "answer"),
        ({"item_id": pub["single"], "code": "x"}, 400, "code"),
        ({"item_id": pub["single"]}, 400, "answer"),
    ]:
        s, b = submit(w, "learner", sub, wait=False)
        assert s == status and b["error"]["field"] == field, (sub, s, b)
    s, b = submit(w, "learner", {"item_id": pub["exercise"], "code": "#" * 70000}, wait=False)
    assert s == 413, (s, b)
    # a batch mixes items, inline submissions and errors, each answered in its place
    s, _, b = call(w.t, "POST", "/api/v1/submissions/batch", w.tokens["learner"], {"submissions": [
        {"item_id": pub["exercise"], "code": EXERCISE["solution"]},
        {"item_id": orgc["single"], "answer": 1},
        {"item_id": "00000000-0000-4000-8000-000000000000", "code": "x"},
        {"language": "python", "code": "print(1)", "tests": [{"expected_stdout": "1\n"}]}]})
    assert s == 202, (s, b)
    got = b["items"]
    assert got[0]["status"] == "queued" and got[1]["status"] == "done"
    assert got[2]["error"]["code"] == "not_found" and got[3]["status"] == "queued", got
    s, _, b = call(w.t, "POST", "/api/v1/submissions/batch", w.tokens["admin_b"], {"submissions": [
        {"item_id": orgc["single"], "answer": 1}]})
    assert s == 202 and b["items"][0]["error"]["code"] == "not_found", b


def test_objective_answers(tutord_factory):
    w = build_world(tutord_factory)
    _, items = build_course(w)
    cases = [
        ("single", 1, True, 100), ("single", 2, False, 0),
        ("multiple", [2, 0], True, 100), ("multiple", [0], False, 50),
        ("multiple", [0, 1, 2], False, 50),
        ("short", "  paris ", True, 100), ("short", "Lyon", False, 0),
        ("numeric", 3.145, True, 100), ("numeric", "3.14", True, 100), ("numeric", 3.2, False, 0),
    ]
    for name, answer, passed, score in cases:
        s, r = submit(w, "learner", {"item_id": items[name], "answer": answer}, expect=200)
        assert r["status"] == "done" and r["kind"] == "question", r
        assert r["passed"] is passed and r["score"] == score, (name, answer, r)
        assert r["verdict"] == ("accepted" if passed else "wrong_answer"), r
        assert '"answer": [' not in json.dumps({k: v for k, v in r.items() if k != "answer"})
    # without wait, an answer is already graded in the 202
    s, r = submit(w, "learner", {"item_id": items["single"], "answer": 1}, wait=False, expect=202)
    assert r["status"] == "done" and r["passed"] is True
    assert r.get("explanation") == "b is b"
    # malformed answers are 400 on field answer, never a wrong answer
    for name, answer in [("single", 7), ("single", "1"), ("single", True), ("multiple", [0, 0]),
                         ("multiple", 1), ("short", 5), ("numeric", "three"), ("numeric", [1]),
                         ("subjective", ""), ("subjective", 3)]:
        s, b = submit(w, "learner", {"item_id": items[name], "answer": answer}, wait=False)
        assert s == 400 and b["error"]["field"] == "answer", (name, answer, s, b)
    # subjective: stored pending, not graded yet
    s, r = submit(w, "learner", {"item_id": items["subjective"], "answer": "It calls itself."},
                  expect=202)
    assert r["status"] == "pending" and "verdict" not in r and "passed" not in r, r
    s, _, got = call(w.t, "GET", "/api/v1/submissions/%s" % r["id"], w.tokens["learner"])
    assert s == 200 and got["status"] == "pending" and got["answer"] == "It calls itself."
    # the owner's answers are theirs: another org's admin does not see them
    assert call(w.t, "GET", "/api/v1/submissions/%s" % r["id"], w.tokens["admin_b"])[0] == 404
    # whoever grades subjective answers (system: the llm actor) finds it with its question ...
    pending = grader(w.t, "answer.pending", {"limit": 100})
    assert pending["status"] == 200, pending
    mine = [x for x in pending["body"]["items"] if x["submission_id"] == r["id"]]
    assert len(mine) == 1, pending
    assert mine[0]["question"]["prompt"] == "Explain recursion." and mine[0]["question"]["scorecard"]
    assert mine[0]["answer"] == "It calls itself." and mine[0]["user_id"] == w.ids["learner"]
    assert mine[0]["item_id"] == items["subjective"]
    # ... grades it once; a second grade is a conflict and changes nothing
    g = grader(w.t, "answer.grade", {"submission_id": r["id"], "score": 80, "passed": True,
                                     "feedback": "Clear.", "scores": [{"criterion": "clarity",
                                                                       "points": 4}]})
    assert g["status"] == 200 and g["body"]["verdict"] == "accepted", g
    again = grader(w.t, "answer.grade", {"submission_id": r["id"], "score": 10, "passed": False})
    assert again["status"] == 409, again
    s, _, got = call(w.t, "GET", "/api/v1/submissions/%s" % r["id"], w.tokens["learner"])
    assert got["status"] == "done" and got["passed"] is True and got["score"] == 80, got
    assert got["feedback"] == "Clear." and got["answer"] == "It calls itself."
    assert r["id"] not in [x["submission_id"] for x in
                           grader(w.t, "answer.pending", {"limit": 100})["body"]["items"]]
    _, objective = submit(w, "learner", {"item_id": items["single"], "answer": 1}, expect=200)
    assert grader(w.t, "answer.grade", {"submission_id": objective["id"], "score": 0,
                                        "passed": False})["status"] == 409
    for body, status, field in [
            ({"submission_id": r["id"], "score": 101, "passed": True}, 400, "score"),
            ({"submission_id": r["id"], "score": 50, "passed": "yes"}, 400, "passed"),
            ({"submission_id": r["id"], "score": 50, "passed": True, "feedback": 5}, 400, "feedback"),
            ({"submission_id": "nope", "score": 50, "passed": True}, 404, "submission_id"),
            ({"submission_id": "00000000-0000-4000-8000-000000000000", "score": 50, "passed": True},
             404, "submission_id"),
            ({"limit": 0}, 400, "limit")]:
        verb = "answer.pending" if "limit" in body else "answer.grade"
        bad = grader(w.t, verb, body)
        assert bad["status"] == status and bad["error"]["field"] == field, (body, bad)
    for verb in ["answer.pending", "answer.grade"]:
        res = w.t.tutorctl("call", "--auth", json.dumps({"kind": "anonymous"}), "grade", verb,
                           json.dumps({"submission_id": r["id"], "score": 1, "passed": True}),
                           timeout=30)
        assert json.loads(res.stdout)["status"] == 403, (verb, res.stdout, res.stderr)


def test_events_and_result_feed(tutord_factory):
    w = build_world(tutord_factory)
    _, items = build_course(w)
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"grade.")
    sub.connect(w.t.events)
    time.sleep(0.5)                                   # the subscription reaches the XPUB
    before = grader(w.t, "result.list", {"limit": 500})
    assert before["status"] == 200, before
    cursor = before["body"]["next"]
    while before["body"]["more"]:                      # skip what other tests left
        before = grader(w.t, "result.list", {"since": cursor, "limit": 500})
        cursor = before["body"]["next"] or cursor
    _, ex = submit(w, "learner", {"item_id": items["exercise"], "code": EXERCISE["solution"]},
                   expect=200)
    _, qu = submit(w, "learner", {"item_id": items["single"], "answer": 0}, expect=200)
    _, inl = submit(w, "learner", {"language": "python", "code": "print(1)",
                                   "tests": [{"expected_stdout": "1\n"}]}, expect=200)
    events = {}
    end = time.monotonic() + 20
    while time.monotonic() < end and len([e for e in events.values() if "result" in e]) < 3:
        if sub.poll(500):
            topic, data = sub.recv_multipart()
            ev = msgpack.unpackb(data, raw=False)
            sid = ev["data"].get("submission_id")
            events.setdefault(sid, {})[topic.decode().split(".")[1]] = ev
    sub.close(0)
    for r, kind, passed, item in [(ex, "exercise", True, items["exercise"]),
                                  (qu, "question", False, items["single"]),
                                  (inl, "exercise", True, None)]:
        got = events.get(r["id"], {})
        assert "queued" in got and "result" in got, (kind, got)
        data = got["result"]["data"]
        assert data["kind"] == kind and data["passed"] is passed, data
        assert data.get("item_id") == item, data
        assert got["result"]["user"] == w.ids["learner"]
        assert got["queued"]["data"]["kind"] == kind
    assert events[ex["id"]].get("progress", {}).get("data", {}).get("item_id") == items["exercise"]
    # the feed: the three, in finish order, exactly once across pages of one (a result enters
    # the feed a second after it finished)
    seen = []
    mine_ids = (ex["id"], qu["id"], inl["id"])
    end = time.monotonic() + 20
    while len([r for r in seen if r["submission_id"] in mine_ids]) < 3:
        assert time.monotonic() < end, ("the feed never served the three", seen)
        page = grader(w.t, "result.list", {"since": cursor, "limit": "1"})
        assert page["status"] == 200, page
        seen += page["body"]["results"]
        if page["body"]["results"]:
            cursor = page["body"]["next"]
        else:
            time.sleep(0.3)
    mine = [r for r in seen if r["submission_id"] in mine_ids]
    assert [r["submission_id"] for r in mine] == list(mine_ids), mine
    assert len({r["submission_id"] for r in seen}) == len(seen), "a result came twice"
    first = mine[0]
    assert first["kind"] == "exercise" and first["passed"] is True and first["verdict"] == "accepted"
    assert first["user_id"] == w.ids["learner"] and first["item_id"] == items["exercise"]
    assert first["org_id"] == w.ids["A"] and first["finished_at"].endswith("Z")
    # since as a time: everything from then on
    page = grader(w.t, "result.list", {"since": first["finished_at"], "limit": 500})
    assert ex["id"] in [r["submission_id"] for r in page["body"]["results"]]
    # bad input and callers
    for body, field in [({"limit": 0}, "limit"), ({"limit": 501}, "limit"), ({"limit": "x"}, "limit"),
                        ({"since": "yesterday"}, "since"), ({"since": 5}, "since"),
                        ({"since": "2026-13-45T99:00:00Z"}, "since"),
                        ({"since": "bm90IGEgY3Vyc29y"}, "since")]:
        r = grader(w.t, "result.list", body)
        assert r["status"] == 400 and r["error"]["field"] == field, (body, r)
    res = w.t.tutorctl("call", "--auth", json.dumps({"kind": "anonymous"}), "grade", "result.list",
                       "{}", timeout=30)
    r = json.loads(res.stdout) if res.stdout else {}
    assert r.get("status") in (401, 403), (res.stdout, res.stderr)


def test_drip_holds_back_submissions(tutord_factory):
    """A learner submits only to what they may open: an item of a module not yet released to
    their cohort (drip) is, for them, an item that does not exist; once released it is not."""
    from datetime import datetime, timedelta, timezone
    w = build_world(tutord_factory)
    course, items = build_course(w)
    admin = w.tokens["admin_a"]
    later = (datetime.now(timezone.utc) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ok(w.t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (course["id"], w.ids["A1"]), admin,
       {"start_date": later, "every_days": 7})
    for body in [{"item_id": items["exercise"], "code": "print(1)"},
                 {"item_id": items["single"], "answer": 0}]:
        s, b = submit(w, "learner", body, wait=False)          # learner of cohort A1
        assert s == 404 and b["error"]["field"] == "item_id", (s, b)
        s, b = submit(w, "mentor", body, wait=False)           # an author of org A: not held
        assert s in (200, 202), (s, b)
    # the same learner sees it once the cohort's first module is out
    earlier = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ok(w.t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (course["id"], w.ids["A1"]), admin,
       {"start_date": earlier, "every_days": 7})
    s, b = submit(w, "learner", {"item_id": items["exercise"], "code": "print(1)"}, wait=False)
    assert s == 202, (s, b)
