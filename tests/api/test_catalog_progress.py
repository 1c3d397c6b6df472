"""Drip per cohort, progress derived from grader events, exams and conversation contexts.

Why: what a learner sees of a dripped course and how far they got are decided by the server
alone -- from cohort links, grade.result events on the event plane and the learner's own reads --
so these tests drive a real tutord: several cohorts with start dates in the past and future (a
learner in two cohorts sees the union; one in no linked cohort sees the whole course), release
announcements, grade.result events injected on TUTORD_EVENTS_IN (each one sent several times: a
result counts once), the exam rotation after five failures, and bad input with its field.
"""

import datetime
import json
import os
import subprocess
import time
import uuid

import msgpack
import zmq

from test_access import PASSWORD, build_world, call, ok, unique

EXERCISE = {"language": "python", "instructions": "Echo.", "starter_code": "",
            "tests": [{"stdin": "a", "expected_stdout": "a\n"}], "hints": [],
            "solution": "print(input())  # SOLUTION-TEXT"}
MATERIAL = {"blocks": [{"type": "markdown", "text": "Read me."}]}


def at(days=0.0, seconds=0.0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days, seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def user_in(w, *cohorts):
    """A fresh learner of org A in the given cohorts: (user id, token)."""
    uid, email = w.member("A")
    for cohort in cohorts:
        ok(w.t, "POST", "/api/v1/cohorts/%s/members" % cohort, w.tokens["admin_a"],
           {"email": email, "role": "learner"}, expect=(201,))
    tok = ok(w.t, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD},
             expect=(200,))["token"]
    return uid, tok


def cohort(w):
    return ok(w.t, "POST", "/api/v1/orgs/%s/cohorts" % w.ids["A"], w.tokens["admin_a"],
              {"name": unique("cohort")}, expect=(201,))["id"]


def add(w, path, body):
    return ok(w.t, "POST", path, w.tokens["admin_a"], body, expect=(201,))


def modules_of(w, cid, token):
    return [m["slug"] for m in ok(w.t, "GET", "/api/v1/courses/%s" % cid, token)["modules"]]


class Tap:
    """tutorctl tap on a prefix, into a file; events() parses what came so far."""

    def __init__(self, t, path, prefix="catalog."):
        self.path = path
        with open(path, "w") as f:
            self.proc = subprocess.Popen([os.path.join(t.build_dir, "tutorctl"), "tap", prefix],
                                         env=t.env, stdout=f, stderr=subprocess.DEVNULL)

    def events(self):
        return [json.loads(x) for x in open(self.path).read().splitlines() if x.strip()]

    def wait(self, pred, timeout=20):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = [e for e in self.events() if pred(e)]
            if found:
                return found
            time.sleep(0.2)
        return []

    def ready(self, w, timeout=20):
        """Publish throwaway courses until the tap sees one: from then on it misses nothing."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], w.tokens["admin_a"],
                   {"slug": unique("tap"), "title": "Tap"}, expect=(201,))
            ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], w.tokens["admin_a"])
            if self.wait(lambda e: e.get("subject") == c["id"], timeout=1):
                return self
        raise AssertionError("tutorctl tap saw nothing")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Grader:
    """Publishes grade.result events on the server's TUTORD_EVENTS_IN, as the grader does."""

    def __init__(self, t):
        self.ctx = zmq.Context()
        self.pub = self.ctx.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.connect(t.events_in)

    def send(self, user, item, passed, submission=None, extra=None):
        data = {"submission_id": submission or str(uuid.uuid4()), "status": "done",
                "verdict": "accepted" if passed else "wrong_answer", "score": 1.0 if passed else 0.0,
                "item_id": item, "kind": "exercise", "passed": passed}
        data.update(extra or {})
        env = {"id": uuid.uuid4().hex, "type": "grade.result", "source": "tutord/grader",
               "time": at(), "org": None, "user": user, "subject": data["submission_id"],
               "data": data}
        self.pub.send_multipart([b"grade.result", msgpack.packb(env)])
        return data["submission_id"]

    def close(self):
        self.pub.close()
        self.ctx.term()


def until(pred, timeout=15, interval=0.2, resend=None):
    """Wait for pred() (calling resend() between tries: PUB/SUB may drop the first sends)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        if resend:
            resend()
        time.sleep(interval)
    return pred()


def test_drip_per_cohort(tutord_factory, tmp_path):
    w = build_world(tutord_factory, TUTORD_RATE_PER_TOKEN="1000000", TUTORD_RATE_BURST="1000000")
    t, admin = w.t, w.tokens["admin_a"]
    c = add(w, "/api/v1/orgs/%s/courses" % w.ids["A"], {"slug": unique("drip"), "title": "Drip"})
    cid = c["id"]
    items = []
    for n in range(3):
        m = add(w, "/api/v1/courses/%s/modules" % cid, {"slug": "mod-%d" % n, "title": "M%d" % n})
        l = add(w, "/api/v1/modules/%s/lessons" % m["id"], {"slug": "les-%d" % n, "title": "L"})
        items.append(add(w, "/api/v1/lessons/%s/items" % l["id"],
                         {"slug": "mat-%d" % n, "kind": "material", "title": "I", "content": MATERIAL}))
    ok(t, "POST", "/api/v1/courses/%s/publish" % cid, admin)
    a1, x, y, soon = w.ids["A1"], cohort(w), cohort(w), cohort(w)
    both_uid, both = user_in(w, a1, x)      # A1 (2 released) and X (none yet): the union, 2
    _, only_x = user_in(w, x)
    _, only_y = user_in(w, y)
    _, only_soon = user_in(w, soon)
    tap = Tap(t, str(tmp_path / "tap.jsonl"))
    try:
        tap.ready(w)
        links = {a1: (at(days=-1.5), 1), x: (at(days=1), 1), y: (at(days=-30), 7)}
        for coh, (start, every) in links.items():
            b = ok(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, coh), admin,
                   {"start_date": start, "every_days": every}, expect=(201,))
            assert b["cohort_id"] == coh and b["every_days"] == every
        # a date alone is accepted (midnight UTC); putting again updates (200)
        b = ok(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, y), admin,
               {"start_date": at(days=-30)[:10], "every_days": 7}, expect=(200,))
        assert b["released_modules"] == 3 and b["next_release_at"] is None
        listed = ok(t, "GET", "/api/v1/courses/%s/cohorts" % cid, admin)["items"]
        assert {l["cohort_id"]: l["released_modules"] for l in listed} == {a1: 2, x: 0, y: 3}
        assert [l for l in listed if l["cohort_id"] == x][0]["next_release_at"]

        assert modules_of(w, cid, w.tokens["learner"]) == ["mod-0", "mod-1"]     # A1
        assert modules_of(w, cid, both) == ["mod-0", "mod-1"]                   # A1 + X: union
        assert modules_of(w, cid, only_x) == []                                 # X: not yet
        assert modules_of(w, cid, only_y) == ["mod-0", "mod-1", "mod-2"]        # Y: all out
        assert modules_of(w, cid, w.tokens["admin_b"]) == ["mod-0", "mod-1", "mod-2"]  # no link
        assert modules_of(w, cid, admin) == ["mod-0", "mod-1", "mod-2"]         # authors
        # an item of a module not released to the caller: 404; released: 200
        assert call(t, "GET", "/api/v1/items/%s" % items[2]["id"], w.tokens["learner"])[0] == 404
        assert call(t, "GET", "/api/v1/items/%s" % items[0]["id"], only_x)[0] == 404
        assert call(t, "GET", "/api/v1/items/%s" % items[1]["id"], both)[0] == 200
        assert call(t, "GET", "/api/v1/items/%s" % items[2]["id"], only_y)[0] == 200
        # progress and next lesson follow the release too
        ok(t, "POST", "/api/v1/courses/%s/enrolment" % cid, both, expect=(201,))
        prog = ok(t, "GET", "/api/v1/courses/%s/progress" % cid, both)
        assert prog["released_modules"] == 2 and len(prog["modules"]) == 2
        assert prog["next_lesson"]["slug"] == "les-0"

        # a link starting in two seconds is released then, and announced once by the tick
        ok(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, soon), admin,
           {"start_date": at(seconds=2), "every_days": 2}, expect=(201,))
        assert modules_of(w, cid, only_soon) == []
        ev = tap.wait(lambda e: e["type"] == "catalog.published"
                      and (e.get("data") or {}).get("cohort_id") == soon)
        assert ev, tap.events()
        assert ev[0]["data"]["modules"] == [ok(t, "GET", "/api/v1/courses/%s" % cid, admin)
                                            ["modules"][0]["id"]]
        assert ev[0]["data"]["released_modules"] == 1 and ev[0]["subject"] == cid
        assert modules_of(w, cid, only_soon) == ["mod-0"]
        # the past links were announced once each (A1: 2 modules, Y: 3)
        time.sleep(5.5)
        mine = [e for e in tap.events() if e["type"] == "catalog.published" and e["subject"] == cid]
        by_cohort = {}
        for e in mine:
            by_cohort.setdefault(e["data"]["cohort_id"], []).extend(e["data"]["modules"])
        assert len(by_cohort[a1]) == 2 and len(by_cohort[y]) == 3 and len(by_cohort[soon]) == 1
        assert x not in by_cohort

        # unlinking X: its only learner is in no linked cohort now, and sees the whole course
        assert call(t, "DELETE", "/api/v1/courses/%s/cohorts/%s" % (cid, x), admin)[0] == 204
        assert call(t, "DELETE", "/api/v1/courses/%s/cohorts/%s" % (cid, x), admin)[0] == 404
        assert modules_of(w, cid, only_x) == ["mod-0", "mod-1", "mod-2"]
        assert modules_of(w, cid, both) == ["mod-0", "mod-1"]

        # who may link: authors of the course's org, with a cohort of that org
        for who, want in [("learner", 403), ("admin_b", 403), ("key_a", 403), ("anon", 401),
                          ("mentor", 200)]:
            s = call(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, a1), w.tokens[who],
                     {"start_date": at(days=-1.5), "every_days": 1})[0]
            assert s == want, (who, s)
        s, _, e = call(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, w.ids["B1"]), admin,
                       {"start_date": at(), "every_days": 1})
        assert s == 404 and e["error"]["field"] == "cohort_id"
        s, _, e = call(t, "PUT", "/api/v1/courses/%s/cohorts/not-a-uuid" % cid, admin,
                       {"start_date": at(), "every_days": 1})
        assert s == 404 and e["error"]["field"] == "cohort_id"
        for bad, field in [({"start_date": at(), "every_days": 0}, "every_days"),
                           ({"start_date": at(), "every_days": 366}, "every_days"),
                           ({"start_date": at(), "every_days": "7"}, "every_days"),
                           ({"start_date": at(), "every_days": 1.5}, "every_days"),
                           ({"every_days": 1}, "start_date"),
                           ({"start_date": "yesterday", "every_days": 1}, "start_date"),
                           ({"start_date": "2026-13-45", "every_days": 1}, "start_date"),
                           ({"start_date": 5, "every_days": 1}, "start_date")]:
            s, _, e = call(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, a1), admin, bad)
            assert s == 400 and e["error"]["field"] == field, (bad, s, e)
    finally:
        tap.close()


def build_graded_course(w):
    """L1: material + exercise; L2: exercise + an exam pool of two exercises. Published."""
    t, admin = w.t, w.tokens["admin_a"]
    c = add(w, "/api/v1/orgs/%s/courses" % w.ids["A"], {"slug": unique("prog"), "title": "Prog"})
    m = add(w, "/api/v1/courses/%s/modules" % c["id"], {"slug": "mod-a", "title": "A"})
    l1 = add(w, "/api/v1/modules/%s/lessons" % m["id"], {"slug": "les-1", "title": "One"})
    l2 = add(w, "/api/v1/modules/%s/lessons" % m["id"], {"slug": "les-2", "title": "Two"})
    mat = add(w, "/api/v1/lessons/%s/items" % l1["id"],
              {"slug": "mat", "kind": "material", "title": "Read", "content": MATERIAL})
    ex1 = add(w, "/api/v1/lessons/%s/items" % l1["id"],
              {"slug": "ex-1", "kind": "exercise", "title": "E1", "content": EXERCISE})
    ex2 = add(w, "/api/v1/lessons/%s/items" % l2["id"],
              {"slug": "ex-2", "kind": "exercise", "title": "E2", "content": EXERCISE})
    pool = [add(w, "/api/v1/lessons/%s/items" % l2["id"],
                {"slug": "exam-%d" % n, "kind": "exercise", "title": "Exam %d" % n,
                 "content": dict(EXERCISE, exam=True, instructions="Exam %d" % n)})
            for n in range(2)]
    ok(t, "POST", "/api/v1/courses/%s/publish" % c["id"], admin)
    return c["id"], l1, l2, mat, ex1, ex2, pool


def test_progress_from_grader_events(tutord_factory, tmp_path):
    w = build_world(tutord_factory)
    t = w.t
    cid, l1, l2, mat, ex1, ex2, pool = build_graded_course(w)
    uid, tok = w.ids["learner"], w.tokens["learner"]
    prog = lambda: ok(t, "GET", "/api/v1/courses/%s/progress" % cid, tok)
    ok(t, "POST", "/api/v1/courses/%s/enrolment" % cid, tok, expect=(201,))
    p = prog()
    assert p["enrolled"] and p["items"] == 4 and p["completed_items"] == 0 and p["percent"] == 0
    assert not p["started"] and p["next_lesson"]["id"] == l1["id"] and p["last_accessed_at"] is None
    # the learner's tree hides the exam pool and marks the lesson
    tr = ok(t, "GET", "/api/v1/courses/%s" % cid, tok)
    lessons = tr["modules"][0]["lessons"]
    assert [i["slug"] for i in lessons[1]["items"]] == ["ex-2"] and lessons[1]["exam"] is True
    assert lessons[0]["exam"] is False

    tap = Tap(t, str(tmp_path / "tap.jsonl"))
    g = Grader(t)
    try:
        tap.ready(w)
        # opening material completes it; opening an exercise only starts it
        ok(t, "GET", "/api/v1/items/%s" % mat["id"], tok)
        ok(t, "GET", "/api/v1/items/%s" % ex1["id"], tok)
        p = prog()
        units = {u["id"]: u for u in p["modules"][0]["lessons"][0]["units"]}
        assert units[mat["id"]]["status"] == "completed" and units[ex1["id"]]["status"] == "started"
        assert p["started"] and p["completed_items"] == 1 and p["percent"] == 25 and p["last_accessed_at"]
        # someone not enrolled leaves no trace
        ok(t, "GET", "/api/v1/items/%s" % mat["id"], w.tokens["learner2"])
        p2 = ok(t, "GET", "/api/v1/courses/%s/progress" % cid, w.tokens["learner2"])
        assert not p2["enrolled"] and p2["completed_items"] == 0

        # a failing result starts, a passing one completes; each sent many times counts once
        fail = str(uuid.uuid4())
        assert until(lambda: prog()["modules"][0]["lessons"][0]["units"][1]["status"] == "started"
                     and prog()["modules"][0]["lessons"][0]["units"][1]["started_at"],
                     resend=lambda: g.send(uid, ex1["id"], False, fail))
        passed = str(uuid.uuid4())
        assert until(lambda: prog()["completed_items"] == 2,
                     resend=lambda: g.send(uid, ex1["id"], True, passed))
        for _ in range(3):
            g.send(uid, ex1["id"], True, passed)
            g.send(uid, ex1["id"], False, fail)
        # ignored: unknown item, no item, malformed item id, another learner's result
        g.send(uid, str(uuid.uuid4()), True)
        g.send(uid, None, True)
        g.send(uid, "not-a-uuid", True)
        g.send(w.ids["learner2"], ex2["id"], True)
        time.sleep(1)
        p = prog()
        assert p["completed_items"] == 2 and p["percent"] == 50
        assert p["modules"][0]["lessons"][0]["completed"] is True
        assert p["next_lesson"]["id"] == l2["id"]
        assert ok(t, "GET", "/api/v1/courses/%s/progress" % cid, w.tokens["learner2"])[
            "completed_items"] == 1      # learner2's own result counts for learner2 only
        assert tap.wait(lambda e: e["type"] == "catalog.lesson_completed"
                        and e["data"]["lesson_id"] == l1["id"] and e["user"] == uid)
        prog_events = [e for e in tap.events() if e["type"] == "catalog.progress"
                       and e["user"] == uid and e["data"]["item_id"] == ex1["id"]]
        assert [e["data"]["status"] for e in prog_events] == ["started", "completed"], prog_events

        # the exam: one exercise of the pool, kept until passed or failed five times
        exam = ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)
        first = exam["item"]["id"]
        assert exam["status"] == "active" and exam["failures"] == 0 and exam["attempts_left"] == 5
        assert first in {x["id"] for x in pool} and "solution" not in exam["item"]["content"]
        assert ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)["item"]["id"] == first
        other = [x["id"] for x in pool if x["id"] != first][0]
        assert call(t, "GET", "/api/v1/items/%s" % other, tok)[0] == 404     # not given
        assert call(t, "GET", "/api/v1/items/%s" % first, tok)[0] == 200
        for n in range(1, 6):
            sub = str(uuid.uuid4())
            assert until(lambda: ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)
                         ["exam_number"] == (2 if n == 5 else 1)
                         and (n == 5 or ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)
                              ["failures"] == n),
                         resend=lambda: g.send(uid, first, False, sub)), n
            if n < 5:
                e = ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)
                assert e["item"]["id"] == first and e["attempts_left"] == 5 - n
        for _ in range(3):
            g.send(uid, first, False, sub)          # the fifth failure again: counted once
        second = ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)
        assert second["item"]["id"] == other and second["failures"] == 0
        assert second["exam_number"] == 2
        # a failure on the old exercise does not touch the new assignment
        g.send(uid, first, False)
        time.sleep(0.5)
        assert ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)["failures"] == 0
        assert not prog()["modules"][0]["lessons"][1]["completed"]
        sub = str(uuid.uuid4())
        assert until(lambda: ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)["status"]
                     == "passed", resend=lambda: g.send(uid, other, True, sub))
        assert ok(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], tok)["item"]["id"] == other
        # the last exercise completes the course
        sub = str(uuid.uuid4())
        assert until(lambda: prog()["completed"], resend=lambda: g.send(uid, ex2["id"], True, sub))
        p = prog()
        assert p["percent"] == 100 and p["next_lesson"] is None and p["completed_at"]
        mine = [x for x in ok(t, "GET", "/api/v1/me/courses", tok)["items"] if x["id"] == cid][0]
        assert mine["course_completed"] and mine["progress"] == 100 and mine["items"] == 4
        assert mine["completed"] == 4 and mine["next_lesson"] is None and mine["last_accessed_at"]
        assert tap.wait(lambda e: e["type"] == "catalog.course_completed"
                        and e["subject"] == cid and e["user"] == uid)
        # a learner's mentor and their org's admins see the learner's progress; nobody else
        path = "/api/v1/courses/%s/progress?user_id=%s" % (cid, uid)
        assert ok(t, "GET", path, w.tokens["mentor"]) == p
        assert ok(t, "GET", path, w.tokens["admin_a"]) == p
        assert ok(t, "GET", path, tok) == p
        for who in ["admin_b", "learner2", "key_a", "key_b"]:
            s, _, e = call(t, "GET", path, w.tokens[who])
            assert s == 404 and e["error"]["field"] == "user_id", (who, s, e)
        s, _, e = call(t, "GET", "/api/v1/courses/%s/progress?user_id=x" % cid, w.tokens["mentor"])
        assert s == 404 and e["error"]["field"] == "user_id"
        assert call(t, "GET", path)[0] == 401
        # who may ask: a key is not a learner; a course you may not see does not exist
        assert call(t, "GET", "/api/v1/courses/%s/progress" % cid, w.tokens["key_a"])[0] == 403
        assert call(t, "GET", "/api/v1/lessons/%s/exam" % l2["id"], w.tokens["key_a"])[0] == 403
        assert call(t, "GET", "/api/v1/lessons/%s/exam" % l1["id"], tok)[0] == 404   # no pool
        assert call(t, "GET", "/api/v1/courses/%s/progress" % cid)[0] == 401
        assert call(t, "GET", "/api/v1/courses/%s/progress" % str(uuid.uuid4()), tok)[0] == 404
    finally:
        g.close()
        tap.close()


def test_conversation_context(tutord_factory):
    w = build_world(tutord_factory)
    t, admin = w.t, w.tokens["admin_a"]
    c = add(w, "/api/v1/orgs/%s/courses" % w.ids["A"], {"slug": unique("conv"), "title": "Conv"})
    m = add(w, "/api/v1/courses/%s/modules" % c["id"], {"slug": "mod-a", "title": "A"})
    l = add(w, "/api/v1/modules/%s/lessons" % m["id"], {"slug": "les-a", "title": "L"})
    conv = {"scenario": "At the bakery", "role": "Baker", "goals": ["Order two rolls", "Pay"],
            "level": "A1"}
    it = add(w, "/api/v1/lessons/%s/items" % l["id"],
             {"slug": "bakery", "kind": "material", "title": "Beim Bäcker",
              "content": dict(MATERIAL, conversation=conv)})
    assert it["content"]["conversation"] == conv
    for bad, field in [("x", "content.conversation"),
                       (dict(conv, level="D1"), "content.conversation.level"),
                       ({k: v for k, v in conv.items() if k != "level"}, "content.conversation.level"),
                       (dict(conv, goals=[]), "content.conversation.goals"),
                       (dict(conv, goals="Pay"), "content.conversation.goals"),
                       (dict(conv, goals=["ok", 3]), "content.conversation.goals"),
                       (dict(conv, scenario=""), "content.conversation.scenario"),
                       ({k: v for k, v in conv.items() if k != "role"}, "content.conversation.role"),
                       (dict(conv, role="x" * 201), "content.conversation.role")]:
        s, _, e = call(t, "PATCH", "/api/v1/items/%s" % it["id"], admin,
                       {"content": dict(MATERIAL, conversation=bad)})
        assert s == 400 and e["error"]["field"] == field, (bad, s, e)
    # learners read the tree from the catalog's cache: every change shows at once
    ok(t, "POST", "/api/v1/courses/%s/publish" % c["id"], admin)
    learner_items = lambda: ok(t, "GET", "/api/v1/courses/%s" % c["id"], w.tokens["learner"])[
        "modules"][0]["lessons"][0]["items"]
    assert learner_items()[0]["content"]["conversation"] == conv and learner_items()[0]["title"] == "Beim Bäcker"
    ok(t, "PATCH", "/api/v1/items/%s" % it["id"], admin, {"title": "In der Bäckerei"})
    assert learner_items()[0]["title"] == "In der Bäckerei"
    add(w, "/api/v1/lessons/%s/items" % l["id"],
        {"slug": "more", "kind": "material", "title": "More", "content": MATERIAL})
    assert [i["slug"] for i in learner_items()] == ["bakery", "more"]
    ok(t, "PATCH", "/api/v1/courses/%s" % c["id"], admin, {"title": "Renamed"})
    assert ok(t, "GET", "/api/v1/courses/%s" % c["id"], w.tokens["learner"])["title"] == "Renamed"
    assert call(t, "DELETE", "/api/v1/lessons/%s" % l["id"], admin)[0] == 204
    assert ok(t, "GET", "/api/v1/courses/%s" % c["id"], w.tokens["learner"])["modules"][0]["lessons"] == []


def _psql(sql):
    """Run SQL on the test database (to lose what a lost event would have brought)."""
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-c", sql,
                          os.environ["TUTORD_TEST_DB"]], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_progress_from_the_real_grader_and_catch_up(tutord_factory):
    """End to end: the grader grades a question answer and exercise code for catalog items; its
    grade.result events complete them; after progress is lost (as if the events had been missed
    and the catalog restarted), a new server's catalog catches up from result.list."""
    w = build_world(tutord_factory)
    t, admin = w.t, w.tokens["admin_a"]
    c = add(w, "/api/v1/orgs/%s/courses" % w.ids["A"], {"slug": unique("e2e"), "title": "E2E"})
    m = add(w, "/api/v1/courses/%s/modules" % c["id"], {"slug": "mod-a", "title": "A"})
    l = add(w, "/api/v1/modules/%s/lessons" % m["id"], {"slug": "les-a", "title": "L"})
    q = add(w, "/api/v1/lessons/%s/items" % l["id"],
            {"slug": "q-1", "kind": "question", "title": "Q",
             "content": {"type": "numeric", "prompt": "6 * 7?", "answer": 42}})
    ex = add(w, "/api/v1/lessons/%s/items" % l["id"],
             {"slug": "ex-1", "kind": "exercise", "title": "E", "content": EXERCISE})
    ok(t, "POST", "/api/v1/courses/%s/publish" % c["id"], admin)
    tok, uid = w.tokens["learner"], w.ids["learner"]
    ok(t, "POST", "/api/v1/courses/%s/enrolment" % c["id"], tok, expect=(201,))
    units = lambda srv: {u["id"]: u["status"] for u in ok(
        srv, "GET", "/api/v1/courses/%s/progress" % c["id"], tok)["modules"][0]["lessons"][0]["units"]}
    # a wrong answer starts the question, the right one completes it
    ok(t, "POST", "/api/v1/submissions", tok, {"item_id": q["id"], "answer": 41}, expect=(200, 202))
    assert until(lambda: units(t)[q["id"]] == "started")
    ok(t, "POST", "/api/v1/submissions", tok, {"item_id": q["id"], "answer": 42}, expect=(200, 202))
    assert until(lambda: units(t)[q["id"]] == "completed")
    # code that passes the exercise's tests completes it
    r = ok(t, "POST", "/api/v1/submissions?wait=true", tok,
           {"item_id": ex["id"], "code": "print(input())"}, expect=(200,))
    assert r["verdict"] == "accepted", r
    assert until(lambda: units(t)[ex["id"]] == "completed")
    assert ok(t, "GET", "/api/v1/courses/%s/progress" % c["id"], tok)["completed"] is True
    # lose it all, as if the events had never come: a new catalog reads the grader's feed
    t.stop()
    _psql("DELETE FROM catalog_item_progress WHERE user_id = '%s';"
          "DELETE FROM catalog_grade_results WHERE user_id = '%s';"
          "DELETE FROM catalog_sync;" % (uid, uid))
    t2 = tutord_factory(TUTORD_SECRET=t.env["TUTORD_SECRET"])
    assert until(lambda: units(t2) == {q["id"]: "completed", ex["id"]: "completed"}, timeout=30)
    # each submission counted once: three results for this learner, no more
    assert _psql("SELECT count(*) FROM catalog_grade_results WHERE user_id = '%s'" % uid) == "3"
    assert _psql("SELECT attempts FROM catalog_item_progress WHERE user_id = '%s' AND item_id = '%s'"
                 % (uid, q["id"])) == "2"
