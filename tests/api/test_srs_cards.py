"""Cards from catalog items (issue 6 point 2): on enrolment, on drip releases, and one at a time.

Why: a learner who enrols in a course must find its words and grammar topics in their reviews,
exactly once each, whatever happens between the catalog and srs. These tests enrol in the seeded
German course (847 cards: two siblings per word, one per grammar topic), enrol twice and unenrol
and enrol again (no duplicate), enrol while srs is not running at all (the enrolment answers at
once; the catalog's catch-up sweep delivers the cards when an srs process joins), release the
next module by drip (its cards arrive), add single items through POST /api/v1/cards {item_id}
(another org's private item, a draft, an unreleased module: 404 as the catalog decides; material:
400), and feed cards.from_items hostile batches directly.
"""

import datetime
import json
import os
import time

from conftest import wait_for
from test_access import build_world, call, ok, unique
from test_catalog import EXERCISE, GRAMMAR, course
from test_practice import psql
from test_seed_german import SEED_FILE, find_course, seed

SYSTEM = json.dumps({"kind": "system"})
FAST = {"TUTORD_CARDS_SWEEP_MS": "1000"}
VOCAB = {"word": "Hund", "article": "der", "plural": "Hunde", "translation": "dog"}
MATERIAL = {"blocks": [{"type": "markdown", "text": "Read this."}]}


def at(days=0.0, seconds=0.0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days, seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def cards_of(uid, where=""):
    return int(psql("SELECT count (*) FROM srs_cards WHERE user_id = '%s' AND item_id IS NOT NULL %s"
                    % (uid, where)))


def synced(uid, cid):
    return psql("SELECT modules || '|' || status FROM catalog_enrolment_cards"
                " WHERE user_id = '%s' AND course_id = '%s'" % (uid, cid))


def german_expected():
    body = json.load(open(SEED_FILE))["messages"][0]["body"]
    n = 0
    for m in body["modules"]:
        for lesson in m["lessons"]:
            for it in lesson["items"]:
                if it["kind"] == "vocabulary" and it["content"].get("translation"):
                    n += 2
                elif it["kind"] == "grammar" or (it["kind"] == "exercise"
                                                 and not it["content"].get("exam")):
                    n += 1
    return n


def srs_call(t, verb, body):
    res = t.tutorctl("call", "--timeout", "30000", "--auth", SYSTEM, "srs", verb, "-",
                     input=json.dumps(body), timeout=60)
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def add(w, path, body, who="admin_a"):
    return ok(w.t, "POST", path, w.tokens[who], body, expect=(201,))


def two_modules(w, org="A", who="admin_a", visibility="public", publish=True):
    """A course with module 1 (word, grammar topic, exercise, material, exam exercise) and
    module 2 (word, grammar topic): ids by name."""
    c = course(w, who=who, org=org, visibility=visibility)
    ids = {"course": c["id"]}
    exam = dict(EXERCISE, exam=True)
    for n, items in [(1, [("w1", "vocabulary", VOCAB), ("g1", "grammar", GRAMMAR),
                          ("x1", "exercise", EXERCISE), ("m1", "material", MATERIAL),
                          ("e1", "exercise", exam)]),
                     (2, [("w2", "vocabulary", dict(VOCAB, word="Katze", article="die",
                                                    translation="cat")),
                          ("g2", "grammar", GRAMMAR)])]:
        m = add(w, "/api/v1/courses/%s/modules" % c["id"], {"slug": "mod-%d" % n, "title": "M"}, who)
        lesson = add(w, "/api/v1/modules/%s/lessons" % m["id"], {"slug": "les-%d" % n, "title": "L"}, who)
        for slug, kind, content in items:
            ids[slug] = add(w, "/api/v1/lessons/%s/items" % lesson["id"],
                            {"slug": slug + "-i", "kind": kind, "title": "T " + slug,
                             "content": content}, who)["id"]
    if publish:
        ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], w.tokens[who], expect=(200,))
    return ids


def test_enrol_in_german_course_makes_its_cards_once(tutord_factory):
    w = build_world(tutord_factory, **FAST)
    t = w.t
    res = seed(t, SEED_FILE)
    assert res.returncode == 0, res.stdout + res.stderr
    cid = find_course(t, w.tokens["learner"])
    uid = w.ids["learner"]
    want = german_expected()
    assert want == 847
    started = time.monotonic()
    ok(t, "POST", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"], expect=(201,))
    assert time.monotonic() - started < 5
    assert wait_for(lambda: cards_of(uid) == want, 60), cards_of(uid)
    assert wait_for(lambda: synced(uid, cid) == "3|201", 10), synced(uid, cid)
    # siblings: every word has one forward and one reverse card in one group, in the course's deck
    assert psql("SELECT count (DISTINCT sibling_group), count (*) FILTER (WHERE kind = 'forward'),"
                " count (*) FILTER (WHERE kind = 'reverse'), count (*) FILTER (WHERE kind = 'item'),"
                " count (DISTINCT deck), min (deck) FROM srs_cards WHERE user_id = '%s'" % uid) \
        == "451|396|396|55|1|german-a1-b1"
    assert psql("SELECT count (*) FROM srs_cards f JOIN srs_cards r ON r.sibling_group ="
                " f.sibling_group AND r.user_id = f.user_id AND r.kind = 'reverse'"
                " WHERE f.user_id = '%s' AND f.kind = 'forward' AND f.front = r.back"
                " AND f.back = r.front" % uid) == "396"
    # the cards are the learner's reviews: the due queue serves them (20 new a day by default)
    due = ok(t, "GET", "/api/v1/reviews/due?deck=german-a1-b1&limit=50", w.tokens["learner"])
    assert len(due["items"]) == 20 and all(c["item_id"] for c in due["items"])
    # enrol again (200), unenrol (the cards stay) and enrol again: never a second card
    ok(t, "POST", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"], expect=(200,))
    assert call(t, "DELETE", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"])[0] == 204
    assert synced(uid, cid) == "" and cards_of(uid) == want
    ok(t, "POST", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"], expect=(201,))
    assert wait_for(lambda: synced(uid, cid) == "3|200", 30), synced(uid, cid)
    time.sleep(2.5)                                 # two sweeps: nothing more is sent or made
    assert cards_of(uid) == want
    assert psql("SELECT cards FROM catalog_enrolment_cards WHERE user_id = '%s'" % uid) == "0"
    # another learner's enrolment is theirs alone
    ok(t, "POST", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner2"], expect=(201,))
    assert wait_for(lambda: cards_of(w.ids["learner2"]) == want, 60)
    assert cards_of(uid) == want


def test_srs_away_during_enrolment_then_back(tutord_factory):
    """No srs process at all when the learner enrols: the enrolment answers at once and is kept;
    when an srs process joins the broker, the catalog's sweep delivers the cards."""
    w = build_world(tutord_factory, TUTORD_ACTORS="broker,web,identity,catalog", **FAST)
    t = w.t
    ids = two_modules(w)
    uid, cid = w.ids["learner"], ids["course"]
    started = time.monotonic()
    ok(t, "POST", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"], expect=(201,))
    assert time.monotonic() - started < 3, "the enrolment waited on srs"
    assert call(t, "GET", "/api/v1/me/srs-settings", w.tokens["learner"])[0] == 503
    time.sleep(2.5)                                 # sweeps meanwhile fail and record nothing
    assert cards_of(uid) == 0 and synced(uid, cid) == "-1|0"       # owed, not confirmed
    ok(t, "GET", "/api/v1/me/courses", w.tokens["learner"])           # the enrolment is there
    extra = tutord_factory(TUTORD_ACTORS="web,srs", TUTORD_BROKER=t.broker,
                           TUTORD_EVENTS_IN=t.events_in, TUTORD_EVENTS=t.events)
    try:
        # no drip: both modules. Module 1: a word (2), a grammar topic and an exercise (1 each),
        # no material, no exam; module 2: a word (2) and a grammar topic (1)
        assert wait_for(lambda: cards_of(uid) == 7 and synced(uid, cid) == "2|201", 30), \
            (cards_of(uid), synced(uid, cid))
        assert cards_of(uid, "AND item_id = '%s'" % ids["m1"]) == 0
        assert cards_of(uid, "AND item_id = '%s'" % ids["e1"]) == 0
        assert cards_of(uid, "AND item_id = '%s' AND kind = 'item'" % ids["x1"]) == 1
    finally:
        extra.stop()


def test_drip_release_brings_the_next_module_cards(tutord_factory):
    w = build_world(tutord_factory, **FAST)
    t = w.t
    ids = two_modules(w)
    cid, uid, a1 = ids["course"], w.ids["learner"], w.ids["A1"]
    # cohort A1 (the learner's) gets one module now, the second in a few seconds
    ok(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (cid, a1), w.tokens["admin_a"],
       {"start_date": at(days=-1, seconds=8), "every_days": 1}, expect=(201,))
    ok(t, "POST", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"], expect=(201,))
    assert wait_for(lambda: synced(uid, cid) == "1|201", 20), synced(uid, cid)
    assert cards_of(uid) == 4                       # word x2, grammar, exercise of module 1
    assert cards_of(uid, "AND item_id IN ('%s', '%s')" % (ids["w2"], ids["g2"])) == 0
    # module 2 is released to A1: its cards arrive (catalog.published, then the sweep)
    assert wait_for(lambda: cards_of(uid) == 7, 30), cards_of(uid)
    assert wait_for(lambda: synced(uid, cid) == "2|201", 10), synced(uid, cid)
    assert psql("SELECT front || '/' || back FROM srs_cards WHERE user_id = '%s' AND item_id = '%s'"
                " AND kind = 'forward'" % (uid, ids["w2"])) == "die Katze/cat"
    # an item added later to a released module reaches enrolled learners (tree_version)
    lesson = ok(t, "GET", "/api/v1/courses/%s" % cid, w.tokens["admin_a"])["modules"][1]["lessons"][0]
    g3 = add(w, "/api/v1/lessons/%s/items" % lesson["id"],
             {"slug": "g3-i", "kind": "grammar", "title": "Dative", "content": GRAMMAR})["id"]
    assert wait_for(lambda: cards_of(uid, "AND item_id = '%s'" % g3) == 1, 30)
    # unenrolled: the cards stay, and nothing new comes
    assert call(t, "DELETE", "/api/v1/courses/%s/enrolment" % cid, w.tokens["learner"])[0] == 204
    add(w, "/api/v1/lessons/%s/items" % lesson["id"],
        {"slug": "g4-i", "kind": "grammar", "title": "Genitive", "content": GRAMMAR})
    time.sleep(7)                                   # more than a catalog tick and a sweep
    assert cards_of(uid) == 8


def test_add_one_item(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    ids = two_modules(w)
    tok = w.tokens["learner"]
    # a word: its two siblings; again: the same cards (200)
    b = ok(t, "POST", "/api/v1/cards", tok, {"item_id": ids["w1"], "deck": "mine"}, expect=(201,))
    assert b["created"] == 2 and [c["kind"] for c in b["items"]] == ["forward", "reverse"]
    assert b["items"][0]["front"] == "der Hund" and b["items"][0]["back"] == "dog"
    assert all(c["deck"] == "mine" and c["item_id"] == ids["w1"] for c in b["items"])
    again = ok(t, "POST", "/api/v1/cards", tok, {"item_id": ids["w1"]}, expect=(200,))
    assert again["created"] == 0 and [c["id"] for c in again["items"]] == [c["id"] for c in b["items"]]
    g = ok(t, "POST", "/api/v1/cards", tok, {"item_id": ids["g1"]}, expect=(201,))
    assert g["created"] == 1 and g["items"][0]["kind"] == "item" and g["items"][0]["front"] == "T g1"
    assert g["items"][0]["deck"] == "default"
    # the card is the learner's: reviewable, and another learner has none of it
    ok(t, "POST", "/api/v1/reviews", tok, {"card_id": g["items"][0]["id"], "rating": 3})
    assert call(t, "GET", "/api/v1/cards/%s" % g["items"][0]["id"], w.tokens["learner2"])[0] == 404
    # material makes no card: 400 naming item_id
    s, _, e = call(t, "POST", "/api/v1/cards", tok, {"item_id": ids["m1"]})
    assert s == 400 and e["error"]["field"] == "item_id", e
    # what the learner may not see: 404, exactly as for an item that does not exist
    private_b = two_modules(w, org="B", who="admin_b", visibility="org")
    draft_a = two_modules(w, publish=False)
    for item in [private_b["w1"], draft_a["w1"], "00000000-0000-4000-8000-000000000000"]:
        s, _, e = call(t, "POST", "/api/v1/cards", tok, {"item_id": item})
        assert s == 404 and e["error"]["code"] == "not_found" and e["error"]["field"] == "item_id", e
    assert cards_of(w.ids["learner"], "AND item_id = '%s'" % private_b["w1"]) == 0
    # org B's own admin sees it
    assert ok(t, "POST", "/api/v1/cards", w.tokens["admin_b"], {"item_id": private_b["w1"]},
              expect=(201,))["created"] == 2
    # a module not released to the learner's cohort (drip): 404 until it is
    dripped = two_modules(w)
    ok(t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (dripped["course"], w.ids["A1"]),
       w.tokens["admin_a"], {"start_date": at(days=-0.5), "every_days": 7}, expect=(201,))
    assert call(t, "POST", "/api/v1/cards", tok, {"item_id": dripped["w2"]})[0] == 404
    assert call(t, "POST", "/api/v1/cards", tok, {"item_id": dripped["w1"]})[0] == 201
    # exactly one of the two forms; bad values name their field
    for body, field in [({"item_id": ids["w1"], "front": "x"}, "front"),
                        ({"item_id": ids["w1"], "back": "x", "front": "y"}, None),
                        ({"item_id": "not-a-uuid"}, "item_id"), ({"item_id": 7}, "item_id"),
                        ({"item_id": ""}, "item_id"), ({"item_id": ids["w1"], "deck": ""}, "deck"),
                        ({"item_id": ids["w1"], "deck": "d" * 101}, "deck"),
                        ({"deck": "x"}, "item_id"), ({}, "item_id"),
                        ({"back": "x"}, "front")]:
        s, _, e = call(t, "POST", "/api/v1/cards", tok, body)
        assert s == 400 and e["error"]["code"] == "invalid_input", (body, s, e)
        if field:
            assert e["error"]["field"] == field, (body, e)
    # API keys have no cards; anonymous callers are not signed in
    assert call(t, "POST", "/api/v1/cards", w.tokens["key_a"], {"item_id": ids["w1"]})[0] == 403
    assert call(t, "POST", "/api/v1/cards", None, {"item_id": ids["w1"]})[0] == 401


def test_add_one_item_with_the_catalog_away(tutord_factory):
    w = build_world(tutord_factory, TUTORD_FAULTS="1")
    t = w.t
    ids = two_modules(w)
    s, _, d = t.request("POST", "/api/v1/_call/catalog/fault.hang", body=json.dumps({"ms": 9000}))
    assert s in (200, 202), (s, d)
    started = time.monotonic()
    s, h, e = call(t, "POST", "/api/v1/cards", w.tokens["learner"], {"item_id": ids["g1"]})
    assert s == 503 and e["error"]["code"] == "unavailable", (s, e)
    assert time.monotonic() - started < 9
    assert cards_of(w.ids["learner"]) == 0
    assert wait_for(lambda: call(t, "POST", "/api/v1/cards", w.tokens["learner"],
                                 {"item_id": ids["g1"]})[0] == 201, 30)


def test_cards_from_items_batch(tutord_factory):
    t = tutord_factory()
    uid = "00000000-0000-4000-8000-%012d" % (int(time.time() * 1000) % 10 ** 12)
    items = [{"id": "11111111-0000-4000-8000-%012d" % i, "kind": "vocabulary", "title": "w",
              "content": {"word": "Wort%d" % i, "article": "das", "translation": "word %d" % i}}
             for i in range(300)]
    items += [{"id": "22222222-0000-4000-8000-000000000001", "kind": "grammar", "title": "Cases"},
              {"id": "22222222-0000-4000-8000-000000000002", "kind": "exercise", "title": "Echo"},
              {"id": "22222222-0000-4000-8000-000000000003", "kind": "material", "title": "Read"},
              {"id": "22222222-0000-4000-8000-000000000004", "kind": "vocabulary",
               "content": {"word": "ohne"}}]
    r = srs_call(t, "cards.from_items", {"user_id": uid, "deck": "batch", "items": items})
    assert r["status"] == 201 and r["body"] == {"created": 602, "cards": 602, "skipped": 2}, r
    r = srs_call(t, "cards.from_items", {"user_id": uid, "deck": "batch", "items": items})
    assert r["status"] == 200 and r["body"]["created"] == 0, r
    assert cards_of(uid) == 602
    # one item repeated in one batch still makes its cards once
    dup = {"id": "33333333-0000-4000-8000-000000000001", "kind": "grammar", "title": "Twice"}
    r = srs_call(t, "cards.from_items", {"user_id": uid, "items": [dup, dup]})
    assert r["status"] == 201 and r["body"]["created"] == 1, r
    # hostile batches: refused whole (nothing stored), naming the field
    before = cards_of(uid)
    for body, field in [({"items": items}, "user_id"), ({"user_id": "", "items": []}, "user_id"),
                        ({"user_id": uid}, "items"), ({"user_id": uid, "items": {}}, "items"),
                        ({"user_id": uid, "items": [{"id": "x" * 200, "kind": "grammar"}]}, "items[0].id"),
                        ({"user_id": uid, "items": [dup, 5]}, "items[1].id"),
                        ({"user_id": uid, "items": [{"kind": "grammar"}]}, "items[0].id"),
                        ({"user_id": uid, "deck": 3, "items": []}, "deck"),
                        ({"user_id": uid, "items": [dup] * 5001}, "items")]:
        r = srs_call(t, "cards.from_items", body)
        assert r["status"] == 400 and r["error"]["field"] == field, (field, r)
    assert cards_of(uid) == before
    # an empty batch is fine (a course without words yet)
    assert srs_call(t, "cards.from_items", {"user_id": uid, "items": []})["body"]["created"] == 0
    # system only
    res = t.tutorctl("call", "--auth", json.dumps({"kind": "user", "user": uid}), "srs",
                     "cards.from_items", json.dumps({"user_id": uid, "items": []}))
    assert json.loads(res.stdout)["status"] in (401, 403), res.stdout
