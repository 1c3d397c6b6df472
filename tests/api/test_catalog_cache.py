"""The catalog's course caches never serve what a write changed (CATALOG.md §8).

Why: course.get answers from two caches in the catalog actor -- the course row the access check
needs (org, status, publish_at, visibility, tree version, cohort links) and the rendered learner
tree, passed to the bridge as JSON text (PROTOCOL.md §7.1). A cache is only allowed because no
write can be missed. These tests read a course until it is cached, then change it in every way
that matters and read again: through the actor itself (answered at once), through a second tutord
process on the same database and with psql behind every actor's back (followed through the
tutord_catalog notifications), when publish_at comes (time is never cached), after the listener's
connection is killed (the cache is dropped and comes back), and check the learner's tree is the
same JSON, hidden answers included, whether it came from the cache or not.
"""

import json
import time

from test_access import SECRET, build_world, call, ok, unique
from test_catalog_progress import _psql, until

QUESTION = {"type": "numeric", "prompt": "6 * 7?", "answer": 42, "tolerance": 0.5}


def world_course(w):
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("cache"), "title": "Cached", "visibility": "public"}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "m-one", "title": "M"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "l-one", "title": "L"})
    q = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
           {"slug": "q-one", "kind": "question", "title": "Q", "content": QUESTION}, expect=(201,))
    ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return c["id"], m["id"], q["id"]


def get(t, cid, token):
    return call(t, "GET", "/api/v1/courses/%s" % cid, token)


def warm(w, cid, who=("learner", "admin_b")):
    for _ in range(3):
        for name in who:
            s, _, b = get(w.t, cid, w.tokens[name])
            assert s == 200, (name, s, b)


def test_cached_tree_is_the_learner_view(tutord_factory):
    w = build_world(tutord_factory)
    cid, _, qid = world_course(w)
    first = get(w.t, cid, w.tokens["learner"])[2]
    again = get(w.t, cid, w.tokens["learner"])[2]          # from the cache
    assert first == again
    item = first["modules"][0]["lessons"][0]["items"][0]
    assert item["id"] == qid and "answer" not in item["content"] and "tolerance" not in item["content"]
    # authors see the answers, learners of another org the same learner view
    author = get(w.t, cid, w.tokens["admin_a"])[2]
    assert author["modules"][0]["lessons"][0]["items"][0]["content"]["answer"] == 42
    assert get(w.t, cid, w.tokens["admin_b"])[2] == first
    # the HTTP body is compact JSON, as the bridge writes every reply
    import urllib.request
    req = urllib.request.Request("http://%s/api/v1/courses/%s" % (w.t.http, cid),
                                 headers={"Authorization": "Bearer " + w.tokens["learner"]})
    raw = urllib.request.urlopen(req).read().decode()
    assert json.loads(raw) == first
    assert raw == json.dumps(first, separators=(",", ":"), ensure_ascii=False)
    # the session actor reads the same tree through the broker (ext JSON text parsed there)
    res = w.t.tutorctl("call", "--auth", json.dumps({"kind": "system"}), "catalog", "course.get",
                       json.dumps({"id": cid}))
    assert json.loads(res.stdout)["body"]["id"] == cid


def test_own_writes_are_seen_at_once(tutord_factory):
    w = build_world(tutord_factory)
    t, admin = w.t, w.tokens["admin_a"]
    cid, mid, qid = world_course(w)
    warm(w, cid)
    ok(t, "PATCH", "/api/v1/courses/%s" % cid, admin, {"visibility": "org"})
    assert get(t, cid, w.tokens["admin_b"])[0] == 404          # not a member of org A
    assert get(t, cid, w.tokens["learner"])[0] == 200
    ok(t, "PATCH", "/api/v1/courses/%s" % cid, admin, {"visibility": "public"})
    assert get(t, cid, w.tokens["admin_b"])[0] == 200
    ok(t, "PATCH", "/api/v1/items/%s" % qid, admin, {"title": "Renamed"})
    tree = get(t, cid, w.tokens["learner"])[2]
    assert tree["modules"][0]["lessons"][0]["items"][0]["title"] == "Renamed"
    # a drip link holding back every module but the first for the learner's cohort
    m2 = ok(t, "POST", "/api/v1/courses/%s/modules" % cid, admin, {"slug": "m-two", "title": "M2"})
    assert len(get(t, cid, w.tokens["learner"])[2]["modules"]) == 2
    ok(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, w.ids["A1"]), admin,
       {"start_date": time.strftime("%Y-%m-%d", time.gmtime()), "every_days": 7}, expect=(201,))
    assert [m["id"] for m in get(t, cid, w.tokens["learner"])[2]["modules"]] == [mid]
    ok(t, "DELETE", "/api/v1/courses/%s/cohorts/%s" % (cid, w.ids["A1"]), admin, expect=(204,))
    assert [m["id"] for m in get(t, cid, w.tokens["learner"])[2]["modules"]] == [mid, m2["id"]]
    ok(t, "DELETE", "/api/v1/courses/%s" % cid, admin, expect=(204,))
    assert get(t, cid, w.tokens["learner"])[0] == 404


def test_writes_of_other_processes_are_followed(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    cid, _, qid = world_course(w)
    warm(w, cid)
    # a second tutord on the same database (its own broker and catalog actor)
    other = tutord_factory(TUTORD_SECRET=SECRET)
    ok(other, "PATCH", "/api/v1/courses/%s" % cid, w.tokens["admin_a"], {"visibility": "org"})
    assert until(lambda: get(t, cid, w.tokens["admin_b"])[0] == 404, timeout=5)
    ok(other, "PATCH", "/api/v1/items/%s" % qid, w.tokens["admin_a"], {"title": "From the other"})
    assert until(lambda: get(t, cid, w.tokens["learner"])[2]["modules"][0]["lessons"][0]["items"][0]
                 ["title"] == "From the other", timeout=5)
    # psql behind every actor's back: the course row, the tree, the cohort links
    warm(w, cid, ("learner",))
    _psql("UPDATE catalog_courses SET visibility = 'public' WHERE id = '%s'" % cid)
    assert until(lambda: get(t, cid, w.tokens["admin_b"])[0] == 200, timeout=5)
    _psql("UPDATE catalog_items SET title = 'By psql' WHERE id = '%s'" % qid)
    assert until(lambda: get(t, cid, w.tokens["learner"])[2]["modules"][0]["lessons"][0]["items"][0]
                 ["title"] == "By psql", timeout=5)
    _psql("INSERT INTO catalog_modules (course_id, slug, title, position) VALUES ('%s', 'm-psql',"
          " 'P', 1)" % cid)
    assert until(lambda: len(get(t, cid, w.tokens["learner"])[2]["modules"]) == 2, timeout=5)
    _psql("INSERT INTO catalog_course_cohorts (course_id, cohort_id, start_at, every_days)"
          " VALUES ('%s', '%s', now (), 7)" % (cid, w.ids["A1"]))
    assert until(lambda: len(get(t, cid, w.tokens["learner"])[2]["modules"]) == 1, timeout=5)
    assert len(get(t, cid, w.tokens["admin_b"])[2]["modules"]) == 2   # in no linked cohort
    _psql("UPDATE catalog_courses SET status = 'draft', publish_at = NULL WHERE id = '%s'" % cid)
    assert until(lambda: get(t, cid, w.tokens["learner"])[0] == 404, timeout=5)
    # publish_at: kept, compared with the clock on every read
    _psql("UPDATE catalog_courses SET publish_at = now () + interval '3 seconds' WHERE id = '%s'" % cid)
    assert until(lambda: get(t, cid, w.tokens["learner"])[0] == 404, timeout=5)
    warm(w, cid, ())
    assert until(lambda: get(t, cid, w.tokens["learner"])[0] == 200, timeout=10)


def test_listener_killed_drops_the_cache(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    cid, _, _ = world_course(w)
    warm(w, cid)
    listeners = lambda: _psql("SELECT count (*) FROM pg_stat_activity"
                              " WHERE application_name = 'tutord-catalog-listen'")
    assert int(listeners()) >= 1
    _psql("SELECT pg_terminate_backend (pid) FROM pg_stat_activity"
          " WHERE application_name = 'tutord-catalog-listen'")
    _psql("UPDATE catalog_courses SET visibility = 'org' WHERE id = '%s'" % cid)
    # nobody hears that write: the dead listener turns the cache off instead
    assert until(lambda: get(t, cid, w.tokens["admin_b"])[0] == 404, timeout=3)
    # the listener comes back (on the catalog's tick) and follows writes again
    assert until(lambda: int(listeners()) >= 1, timeout=15)
    warm(w, cid, ("learner",))
    _psql("UPDATE catalog_courses SET visibility = 'public' WHERE id = '%s'" % cid)
    assert until(lambda: get(t, cid, w.tokens["admin_b"])[0] == 200, timeout=5)


def test_drip_release_comes_on_time(tutord_factory):
    """What drip released to a learner's cohorts is kept only until the next release instant:
    a cohort whose start is three seconds away sees no module, then the first one on time."""
    import datetime
    w = build_world(tutord_factory)
    t, admin = w.t, w.tokens["admin_a"]
    cid, mid, _ = world_course(w)
    start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3))
    ok(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, w.ids["A1"]), admin,
       {"start_date": start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "every_days": 1}, expect=(201,))
    seen = lambda: [m["id"] for m in get(t, cid, w.tokens["learner"])[2]["modules"]]
    assert seen() == [] and seen() == []                       # the second read: cached
    assert len(get(t, cid, w.tokens["admin_b"])[2]["modules"]) == 1   # in no linked cohort
    assert until(lambda: seen() == [mid], timeout=10, interval=0.1)
    late = datetime.datetime.now(datetime.timezone.utc)
    assert late >= start and (late - start).total_seconds() < 3, (start, late)
