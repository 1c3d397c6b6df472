"""The catalog actor through the web bridge (and course.upsert through the broker, as seeds do).

Why: the catalog decides what learners may see -- drafts, other orgs' courses, and the answers
of exercises and questions -- so these tests look at the real HTTP answers: tree order and
reorder, the learner view, visibility (404 for what you may not see, 403 for what you may see but
not change), duplicate, enrolment and progress, the seed upsert's idempotence, and bad input with
its field on every route.
"""

import json

from test_access import build_world, call, ok, unique

SYSTEM = json.dumps({"kind": "system", "user": "u-catalog-test"})

EXERCISE = {"language": "python", "instructions": "Echo the input.", "starter_code": "",
            "tests": [{"stdin": "a", "expected_stdout": "a\n"},
                      {"stdin": "secret-in", "expected_stdout": "secret-out\n", "hidden": True}],
            "hints": ["input()"], "solution": "print(input())  # SOLUTION-TEXT"}
QUESTION = {"type": "numeric", "prompt": "6 * 7?", "answer": 42, "tolerance": 0.5,
            "explanation": "arithmetic"}
GRAMMAR = {"level": "A1", "explanation": "Articles.",
           "exercises": [{"type": "single", "prompt": "_ Hund", "choices": ["der", "die"],
                          "answer": 0}]}


def course(w, who="admin_a", org="A", **extra):
    body = dict({"slug": unique("c"), "title": "A course"}, **extra)
    return ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids[org], w.tokens[who], body,
              expect=(201,))


def tree(w, cid, who="admin_a"):
    return ok(w.t, "GET", "/api/v1/courses/%s" % cid, w.tokens[who], expect=(200,))


def build_course(w, visibility="public"):
    """A published course of org A: 2 modules, a lesson with exercise, question, grammar."""
    c = course(w, visibility=visibility)
    tok = w.tokens["admin_a"]
    m1 = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "m-one", "title": "One"})
    m2 = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "m-two", "title": "Two"})
    l1 = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m1["id"], tok, {"slug": "l-one", "title": "L"})
    items = []
    for slug, kind, content in [("ex", "exercise", EXERCISE), ("qu", "question", QUESTION),
                                ("gr", "grammar", GRAMMAR)]:
        items.append(ok(w.t, "POST", "/api/v1/lessons/%s/items" % l1["id"], tok,
                        {"slug": slug + "-1", "kind": kind, "title": kind, "content": content},
                        expect=(201,)))
    ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return c, [m1, m2], l1, items


def test_catalog(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    c, (m1, m2), l1, items = build_course(w)
    cid = c["id"]

    # tree order and positions
    tr = tree(w, cid)
    assert [m["slug"] for m in tr["modules"]] == ["m-one", "m-two"]
    assert [m["position"] for m in tr["modules"]] == [0, 1]
    assert [i["slug"] for i in tr["modules"][0]["lessons"][0]["items"]] == ["ex-1", "qu-1", "gr-1"]

    # reorder: exactly the current children, else 400 with the field
    tok = w.tokens["admin_a"]
    b = ok(t, "PUT", "/api/v1/courses/%s/order" % cid, tok, {"modules": [m2["id"], m1["id"]]})
    assert [m["slug"] for m in b["modules"]] == ["m-two", "m-one"]
    ids = [i["id"] for i in items]
    b = ok(t, "PUT", "/api/v1/lessons/%s/order" % l1["id"], tok, {"items": ids[::-1]})
    assert [i["slug"] for i in b["items"]] == ["gr-1", "qu-1", "ex-1"]
    for bad in [{"items": ids[:2]}, {"items": ids + [ids[0]]}, {"items": ids[:2] + [m1["id"]]},
                {"items": "x"}, {}, {"items": [1, 2, 3]}]:
        s, _, e = call(t, "PUT", "/api/v1/lessons/%s/order" % l1["id"], tok, bad)
        assert s == 400 and e["error"]["field"] == "items", (bad, s, e)
    s, _, e = call(t, "PUT", "/api/v1/courses/%s/order" % cid, tok, {"modules": [m1["id"]]})
    assert s == 400 and e["error"]["field"] == "modules"

    # the learner view never holds a solution, an answer or a hidden expected output
    for who in ["learner", "admin_b", "key_b"]:
        text = json.dumps(tree(w, cid, who))
        for secret in ["SOLUTION-TEXT", "secret-out", '"answer"', '"tolerance"', '"solution"']:
            assert secret not in text, (who, secret)
        assert "secret-in" in text       # the hidden test's input is not secret
        for it in items:
            text = json.dumps(ok(t, "GET", "/api/v1/items/%s" % it["id"], w.tokens[who]))
            assert "SOLUTION-TEXT" not in text and '"answer"' not in text and "secret-out" not in text
    # authors see everything
    for who in ["admin_a", "mentor"]:
        text = json.dumps(tree(w, cid, who))
        assert "SOLUTION-TEXT" in text and "secret-out" in text and '"answer"' in text

    # visibility: a draft is its authors' only; an org course is its org's only
    draft = course(w)
    for who, want in [("learner", 404), ("key_a", 404), ("admin_b", 404), ("mentor", 200),
                      ("admin_a", 200)]:
        assert call(t, "GET", "/api/v1/courses/%s" % draft["id"], w.tokens[who])[0] == want, who
    orgc, _, _, _ = build_course(w, visibility="org")
    for who, want in [("learner", 200), ("key_a", 200), ("admin_b", 404), ("key_b", 404)]:
        assert call(t, "GET", "/api/v1/courses/%s" % orgc["id"], w.tokens[who])[0] == want, who
    # who may see but not author gets 403; who may not see gets 404
    assert call(t, "PATCH", "/api/v1/courses/%s" % cid, w.tokens["learner"], {"title": "x"})[0] == 403
    assert call(t, "PATCH", "/api/v1/courses/%s" % orgc["id"], w.tokens["admin_b"], {"title": "x"})[0] == 404
    assert call(t, "PATCH", "/api/v1/courses/%s" % draft["id"], w.tokens["learner"], {"title": "x"})[0] == 404
    # another org's course: 404 for its drafts and org courses, in list too
    b_course = course(w, who="admin_b", org="B", visibility="org")
    assert call(t, "GET", "/api/v1/courses/%s" % b_course["id"], w.tokens["admin_a"])[0] == 404
    lids, cursor = set(), None           # every page (the database holds other tests' courses)
    while True:
        page = ok(t, "GET", "/api/v1/courses?limit=100" + ("&cursor=" + cursor if cursor else ""),
                  w.tokens["learner"])
        lids |= {x["id"] for x in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert cid in lids and orgc["id"] in lids and draft["id"] not in lids and b_course["id"] not in lids
    # pagination
    first = ok(t, "GET", "/api/v1/courses?limit=1", w.tokens["admin_a"])
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = ok(t, "GET", "/api/v1/courses?limit=1&cursor=" + first["next_cursor"], w.tokens["admin_a"])
    assert second["items"][0]["id"] != first["items"][0]["id"]
    assert ok(t, "GET", "/api/v1/courses?q=zzz-no-such", w.tokens["admin_a"])["items"] == []

    # duplicate: a draft copy with the same tree and new ids
    dup = ok(t, "POST", "/api/v1/courses/%s/duplicate" % cid, tok, {"slug": unique("copy")},
             expect=(201,))
    assert dup["status"] == "draft" and dup["id"] != cid
    orig = tree(w, cid)
    strip = lambda tr: [(m["slug"], [(l["slug"], [(i["slug"], i["content"]) for i in l["items"]])
                                     for l in m["lessons"]]) for m in tr["modules"]]
    assert strip(dup) == strip(orig)
    assert dup["modules"][0]["id"] not in {m["id"] for m in orig["modules"]}
    s, _, e = call(t, "POST", "/api/v1/courses/%s/duplicate" % cid, tok, {"slug": orig["slug"]})
    assert s == 409 and e["error"]["field"] == "slug"

    # enrolment and progress
    assert call(t, "POST", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"])[0] == 201
    assert call(t, "POST", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"])[0] == 200
    assert call(t, "POST", "/api/v1/courses/%s/enrolment" % draft["id"], w.tokens["learner"])[0] == 404
    mine = ok(t, "GET", "/api/v1/me/courses", w.tokens["learner"])["items"]
    assert [(x["id"], x["progress"]) for x in mine] == [(cid, 0)]
    assert call(t, "DELETE", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"])[0] == 204
    assert ok(t, "GET", "/api/v1/me/courses", w.tokens["learner"])["items"] == []

    # delete renumbers the siblings
    assert call(t, "DELETE", "/api/v1/items/%s" % items[1]["id"], tok)[0] == 204
    lesson = tree(w, cid)["modules"][1]["lessons"][0]
    assert [(i["slug"], i["position"]) for i in lesson["items"]] == [("gr-1", 0), ("ex-1", 1)]
    assert call(t, "GET", "/api/v1/items/%s" % items[1]["id"], tok)[0] == 404
    assert call(t, "DELETE", "/api/v1/courses/%s" % dup["id"], tok)[0] == 204
    assert call(t, "GET", "/api/v1/courses/%s" % dup["id"], tok)[0] == 404


def test_bad_input_names_the_field(tutord_factory):
    w = build_world(tutord_factory)
    t, tok = w.t, w.tokens["admin_a"]
    c, (m1, _), l1, items = build_course(w)
    org = "/api/v1/orgs/%s/courses" % w.ids["A"]
    cases = [
        ("POST", org, {"title": "x"}, "slug"),
        ("POST", org, {"slug": "Bad Slug", "title": "x"}, "slug"),
        ("POST", org, {"slug": unique("c"), "title": ""}, "title"),
        ("POST", org, {"slug": unique("c"), "title": "x", "visibility": "world"}, "visibility"),
        ("POST", org, {"slug": unique("c"), "title": "x", "language": "english!"}, "language"),
        ("POST", org, {"slug": unique("c"), "title": "x", "publish_at": "tomorrow"}, "publish_at"),
        ("POST", org, {"slug": unique("c"), "title": "x", "description": "d" * 20001}, "description"),
        ("POST", org, {"slug": c["slug"], "title": "x"}, "slug"),         # 409
        ("PATCH", "/api/v1/courses/%s" % c["id"], {"status": "gone"}, "status"),
        ("PATCH", "/api/v1/courses/%s" % c["id"], {"slug": "other"}, "slug"),
        ("POST", "/api/v1/courses/%s/duplicate" % c["id"], {}, "slug"),
        ("POST", "/api/v1/courses/%s/modules" % c["id"], {"slug": "m-x"}, "title"),
        ("POST", "/api/v1/courses/%s/modules" % c["id"], {"slug": "m-one", "title": "dup"}, "slug"),
        ("POST", "/api/v1/modules/%s/lessons" % m1["id"], {"slug": "x", "title": "t"}, "slug"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"], {"slug": "i-x", "title": "t", "kind": "poem",
                                                         "content": {}}, "kind"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"], {"slug": "i-x", "title": "t",
                                                         "kind": "exercise"}, "content"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"],
         {"slug": "i-x", "title": "t", "kind": "exercise", "content": dict(EXERCISE, language="cobol")},
         "content.language"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"],
         {"slug": "i-x", "title": "t", "kind": "exercise", "content": dict(EXERCISE, tests=[])},
         "content.tests"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"],
         {"slug": "i-x", "title": "t", "kind": "question",
          "content": {"type": "single", "prompt": "?", "choices": ["a", "b"], "answer": 5}},
         "content.answer"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"],
         {"slug": "i-x", "title": "t", "kind": "question",
          "content": {"type": "subjective", "prompt": "?"}}, "content.scorecard"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"],
         {"slug": "i-x", "title": "t", "kind": "grammar", "content": {"level": "D9", "explanation": "x"}},
         "content.level"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"],
         {"slug": "i-x", "title": "t", "kind": "vocabulary", "content": {"article": "der"}},
         "content.word"),
        ("POST", "/api/v1/lessons/%s/items" % l1["id"],
         {"slug": "i-x", "title": "t", "kind": "material", "content": {"blocks": [{"type": "video"}]}},
         "content.blocks"),
        ("PATCH", "/api/v1/items/%s" % items[1]["id"], {"content": {"type": "numeric", "prompt": "?"}},
         "content.answer"),
        ("PATCH", "/api/v1/items/%s" % items[1]["id"], {"kind": "material"}, "content"),
        ("PUT", "/api/v1/courses/%s/order" % c["id"], {"modules": [m1["id"]]}, "modules"),
        ("PUT", "/api/v1/modules/%s/order" % m1["id"], {"lessons": []}, "lessons"),
        ("PUT", "/api/v1/lessons/%s/order" % l1["id"], {"items": ["nope"]}, "items"),
        ("GET", "/api/v1/courses?limit=0", None, "limit"),
        ("GET", "/api/v1/courses?limit=abc", None, "limit"),
        ("GET", "/api/v1/courses?cursor=zzz", None, "cursor"),
    ]
    for method, path, body, field in cases:
        s, _, e = call(t, method, path, tok, body)
        assert s in (400, 409) and e["error"]["field"] == field, (method, path, body, s, e)
    # not a uuid, or nothing there: 404 on every id route
    for method, path in [("GET", "/api/v1/courses/nope"), ("GET", "/api/v1/items/nope"),
                         ("DELETE", "/api/v1/modules/00000000-0000-0000-0000-000000000000"),
                         ("POST", "/api/v1/lessons/nope/items")]:
        assert call(t, method, path, tok, {})[0] == 404, path


def upsert(t, body):
    res = t.tutorctl("call", "--auth", SYSTEM, "catalog", "course.upsert", json.dumps(body))
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def test_upsert_is_idempotent(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    slug = unique("seed")
    record = {"org_slug": None, "slug": slug, "title": "Seeded", "description": "d", "language": "en",
              "visibility": "public", "status": "published",
              "modules": [{"slug": "mod-a", "title": "A", "lessons": [
                  {"slug": "les-a", "title": "L", "items": [
                      {"slug": "it-a", "kind": "exercise", "title": "E", "content": EXERCISE},
                      {"slug": "it-b", "kind": "question", "title": "Q", "content": QUESTION}]}]},
                  {"slug": "mod-b", "title": "B"}]}
    first = upsert(t, record)
    assert first["status"] == 201 and first["body"]["created"] is True, first
    cid = first["body"]["id"]
    before = tree(w, cid, "learner")
    assert before["org_id"] == "tutord"
    again = upsert(t, record)
    assert again["status"] == 200 and again["body"] == {"id": cid, "created": False}, again
    assert tree(w, cid, "learner") == before          # no new ids, updated_at unchanged
    # a change touches only what changed; children missing from the record stay
    record["modules"][0]["lessons"][0]["items"][1]["title"] = "Q2"
    record["modules"] = record["modules"][:1]
    upsert(t, record)
    after = tree(w, cid, "learner")
    assert [m["slug"] for m in after["modules"]] == ["mod-a", "mod-b"]
    assert after["updated_at"] == before["updated_at"]
    items = after["modules"][0]["lessons"][0]["items"]
    assert items[1]["title"] == "Q2" and items[0] == before["modules"][0]["lessons"][0]["items"][0]
    # bad records: named field; never anyone but system
    bad = upsert(t, dict(record, modules=[{"slug": "x", "title": "t"}]))
    assert bad["status"] == 400 and bad["error"]["field"] == "modules[0].slug", bad
    bad = upsert(t, dict(record, org_slug="no-such-org-slug"))
    assert bad["status"] == 400 and bad["error"]["field"] == "org_slug", bad
    res = t.tutorctl("call", "--auth", json.dumps({"kind": "user", "user": "u1", "orgs": []}),
                     "catalog", "course.upsert", json.dumps(record))
    assert json.loads(res.stdout)["status"] in (401, 403), res.stdout


def test_publish_announces_the_course(tutord_factory, tmp_path):
    """course.publish puts catalog.published {course_id, slug, org_id} on the event stream."""
    import os
    import subprocess
    import time
    w = build_world(tutord_factory)
    t, tok = w.t, w.tokens["admin_a"]
    out_file = tmp_path / "tap.jsonl"
    with open(out_file, "w") as f:
        tap = subprocess.Popen([os.path.join(t.build_dir, "tutorctl"), "tap", "catalog."],
                               env=t.env, stdout=f, stderr=subprocess.DEVNULL)
    try:
        # publish courses until the tap (subscribing meanwhile) sees one, then check the last
        end = time.monotonic() + 20
        seen = []
        while not seen:
            assert time.monotonic() < end, "tutorctl tap saw no catalog.published"
            c = course(w)
            ok(t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
            time.sleep(0.3)
            seen = [json.loads(x) for x in open(out_file).read().splitlines() if x.strip()]
        ev = [e for e in seen if e.get("subject") == c["id"]]
        end = time.monotonic() + 5
        while not ev and time.monotonic() < end:
            time.sleep(0.2)
            ev = [json.loads(x) for x in open(out_file).read().splitlines()
                  if x.strip() and json.loads(x).get("subject") == c["id"]]
        assert ev, open(out_file).read()
        e = ev[0]
        assert e["type"] == "catalog.published" and e["org"] == w.ids["A"]
        assert e["data"] == {"course_id": c["id"], "slug": c["slug"], "org_id": w.ids["A"]}
        assert e["user"] == w.ids["admin_a"]
        # going live by PATCH announces it too
        c2 = course(w)
        ok(t, "PATCH", "/api/v1/courses/%s" % c2["id"], tok, {"status": "published"}, expect=(200,))
        end = time.monotonic() + 5
        while c2["id"] not in open(out_file).read():
            assert time.monotonic() < end, "no catalog.published after PATCH status"
            time.sleep(0.2)
    finally:
        tap.terminate()
        tap.wait(timeout=10)


def test_scheduled_publishing(tutord_factory):
    """Release by publish_at: hidden before, visible from its time on, then published by the tick."""
    import asyncio
    import datetime
    import time
    import websockets

    def at(seconds):
        t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    w = build_world(tutord_factory)
    title = unique("release")           # the test database holds other tests' courses too
    later = course(w, visibility="org", publish_at=at(3600), title=title + " later")
    past = course(w, visibility="org", publish_at=at(-1), title=title + " past")
    soon = course(w, visibility="org", publish_at=at(2), title=title + " soon")
    learner = w.tokens["learner"]

    def status_for(cid, who):
        return call(w.t, "GET", "/api/v1/courses/%s" % cid, w.tokens[who])[0]

    # before: the learner of org A may not know it exists; the author sees the draft
    assert status_for(later["id"], "learner") == 404
    assert status_for(soon["id"], "learner") == 404
    assert status_for(later["id"], "admin_a") == 200
    # after (even before the tick): visible and listed; org B still sees nothing
    assert status_for(past["id"], "learner") == 200
    assert status_for(past["id"], "admin_b") == 404
    listed = {c["id"] for c in ok(w.t, "GET", "/api/v1/courses?limit=100&q=" + title, learner)["items"]}
    assert past["id"] in listed and later["id"] not in listed and soon["id"] not in listed

    async def watch():
        uri = "ws://%s/ws?token=%s" % (w.t.http, w.tokens["admin_a"])
        async with websockets.connect(uri) as ws:
            await ws.send(json.dumps({"op": "subscribe", "topics": ["catalog.published"]}))
            seen, end = set(), time.monotonic() + 20
            while {past["id"], soon["id"]} - seen and time.monotonic() < end:
                try:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), end - time.monotonic()))
                except asyncio.TimeoutError:
                    break
                if frame.get("op") == "event":
                    seen.add(frame["event"]["subject"])
            return seen
    seen = asyncio.run(watch())
    # at its time the soon course is released, and the tick publishes both with an event
    assert status_for(soon["id"], "learner") == 200
    assert {past["id"], soon["id"]} <= seen, seen
    assert tree(w, soon["id"])["status"] == "published"
    assert tree(w, later["id"])["status"] == "draft"
    assert status_for(later["id"], "learner") == 404


def test_exercise_limits(tutord_factory):
    """An exercise's own sandbox limits (content.limits, for the grader): valid ones are stored,
    shown and handed to the grader by item.grading; a value out of range or an unknown key is
    400 with the field, on create, update and upsert alike."""
    w = build_world(tutord_factory)
    t, tok = w.t, w.tokens["admin_a"]
    c, _, l1, items = build_course(w)
    limits = {"cpu_ms": 100, "wall_ms": 20000, "memory_mb": 1024, "processes": 1,
              "output_kb": 1024, "file_kb": 16384}
    it = ok(t, "POST", "/api/v1/lessons/%s/items" % l1["id"], tok,
            {"slug": "lim-1", "kind": "exercise", "title": "Limited",
             "content": dict(EXERCISE, limits=limits)}, expect=(201,))
    assert it["content"]["limits"] == limits
    res = t.tutorctl("call", "--auth", SYSTEM, "catalog", "item.grading",
                     json.dumps({"item_id": it["id"], "auth": None}))
    reply = json.loads(res.stdout)
    assert reply["status"] == 200 and reply["body"]["limits"] == limits, reply
    assert reply["body"]["content"]["limits"] == limits
    # an exercise without limits: null (the grader's defaults apply)
    res = t.tutorctl("call", "--auth", SYSTEM, "catalog", "item.grading",
                     json.dumps({"item_id": items[0]["id"], "auth": None}))
    assert json.loads(res.stdout)["body"]["limits"] is None
    # one limit alone is fine
    ok(t, "PATCH", "/api/v1/items/%s" % it["id"], tok,
       {"content": dict(EXERCISE, limits={"wall_ms": 5000})}, expect=(200,))
    bad = [({"cpu_ms": 99}, "content.limits.cpu_ms"), ({"cpu_ms": 10001}, "content.limits.cpu_ms"),
           ({"wall_ms": 20001}, "content.limits.wall_ms"), ({"memory_mb": 15}, "content.limits.memory_mb"),
           ({"processes": 0}, "content.limits.processes"), ({"processes": 257}, "content.limits.processes"),
           ({"output_kb": 0}, "content.limits.output_kb"), ({"file_kb": 16385}, "content.limits.file_kb"),
           ({"cpu_ms": 1000.5}, "content.limits.cpu_ms"), ({"cpu_ms": "1000"}, "content.limits.cpu_ms"),
           ({"cpu_ms": True}, "content.limits.cpu_ms"), ({"network": 1}, "content.limits.network"),
           ([1000], "content.limits"), ("fast", "content.limits")]
    for lim, field in bad:
        s, _, e = call(t, "POST", "/api/v1/lessons/%s/items" % l1["id"], tok,
                       {"slug": "lim-x", "kind": "exercise", "title": "x",
                        "content": dict(EXERCISE, limits=lim)})
        assert s == 400 and e["error"]["field"] == field, (lim, s, e)
        s, _, e = call(t, "PATCH", "/api/v1/items/%s" % it["id"], tok,
                       {"content": dict(EXERCISE, limits=lim)})
        assert s == 400 and e["error"]["field"] == field, (lim, s, e)
    # nothing refused was stored
    assert ok(t, "GET", "/api/v1/items/%s" % it["id"], tok)["content"]["limits"] == {"wall_ms": 5000}
    # a seed record names the limit with its place in the tree
    r = upsert(t, {"org_slug": None, "slug": unique("lim"), "title": "L",
                   "modules": [{"slug": "mod", "title": "M", "lessons": [{"slug": "les", "title": "L",
                       "items": [{"slug": "ex-1", "kind": "exercise", "title": "E",
                                  "content": dict(EXERCISE, limits={"memory_mb": 2048})}]}]}]})
    assert r["status"] == 400, r
    assert r["error"]["field"] == "modules[0].lessons[0].items[0].content.limits.memory_mb", r
