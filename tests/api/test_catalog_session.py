"""Progress from practice sessions (issue 4 point 3; CATALOG.md §6, SESSION.md §4).

Why: "completion derived from the grader's and the session's events" means a learner who drills
a grammar topic or gets a vocabulary entry right has done that item, decided by the server from
what the session actor recorded, never from the client. These tests drive a real tutord: a
grammar drill completes its topic and with it the lesson (three right answers), a drill of
wrong answers only starts it, a vocabulary quiz completes the entries answered right; the
session.answered event carries exactly the fields the analytics helper reads; an answer sent
again, an event replayed on the event plane, and the whole feed read again after progress was
lost (the catch-up through the session actor's answer.list on a new server) count each answer
once; answer.list is for system only and refuses a bad cursor with its field.
"""

import json
import time
import uuid

import msgpack
import zmq

from test_access import build_world, ok, unique
from test_catalog_progress import Tap, _psql, at, until
from test_practice import GRAMMAR, answer, start

VOCAB = [("der", "Hund", "Hunde", "the dog"), ("die", "Katze", "Katzen", "the cat"),
         ("das", "Haus", "Häuser", "the house")]


def course(w):
    """A public course: lesson 1 holds one grammar topic (GRAMMAR: four objective exercises),
    lesson 2 three vocabulary entries. The learner is enrolled."""
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("prac"), "title": "Practice", "visibility": "public"}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "m-one", "title": "M"})
    l1 = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "l-gram", "title": "G"})
    l2 = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "l-voc", "title": "V"})
    g = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l1["id"], tok,
           {"slug": "articles", "kind": "grammar", "title": "Articles", "content": GRAMMAR},
           expect=(201,))
    words = {}
    for art, word, plural, tr in VOCAB:
        v = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l2["id"], tok,
               {"slug": word.lower(), "kind": "vocabulary", "title": word,
                "content": {"word": word, "article": art, "plural": plural, "translation": tr}},
               expect=(201,))
        words[v["id"]] = (art, word, plural, tr)
    ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    for who in ("learner", "admin_b"):
        ok(w.t, "POST", "/api/v1/courses/%s/enrolment" % c["id"], w.tokens[who], expect=(201,))
    return c["id"], l1["id"], l2["id"], g["id"], words


# The right answers of GRAMMAR's exercises, in order, and a wrong one for each
RIGHT = [0, "Katzen", [0, 2], 3]
WRONG = [1, "Hunde", [1], 4]


def progress(w, cid, who="learner", t=None):
    return ok(t or w.t, "GET", "/api/v1/courses/%s/progress" % cid, w.tokens[who])


def unit(w, cid, item, who="learner", t=None):
    for les in progress(w, cid, who, t)["modules"][0]["lessons"]:
        for u in les["units"]:
            if u["id"] == item:
                return u["status"]
    raise AssertionError("no unit %s" % item)


def lesson(w, cid, lid, who="learner", t=None):
    return [x for x in progress(w, cid, who, t)["modules"][0]["lessons"] if x["id"] == lid][0]


def feed_all(t):
    """Every answer of the session actor's feed, page after page (as system)."""
    out, body = [], {"limit": 500}
    while True:
        res = t.tutorctl("call", "--auth", '{"kind": "system"}', "session", "answer.list",
                         json.dumps(body))
        page = json.loads(res.stdout)["body"]
        out += page["answers"]
        if not page["more"]:
            return out
        body = {"limit": 500, "since": page["next"]}


def drill(w, gid, answers, who="learner"):
    s = start(w, {"type": "grammar", "item_id": gid}, who=who)
    q, sid, out = s["question"], s["id"], []
    for a in answers:
        r = answer(w, sid, q["id"], a, 2000, who=who)
        out.append((q["id"], a))
        q = r["session"]["question"]
    return sid, out


def test_grammar_drill_completes_the_topic_and_its_lesson(tutord_factory, tmp_path):
    w = build_world(tutord_factory)
    cid, l1, l2, gid, _ = course(w)
    tap = Tap(w.t, str(tmp_path / "tap.jsonl"), prefix="").ready(w)
    try:
        # two right answers (and a wrong one) of the three the topic needs: started only
        s = start(w, {"type": "grammar", "item_id": gid})
        sid, q = s["id"], s["question"]
        r = answer(w, sid, q["id"], RIGHT[0], 2000)
        first = q["id"]
        assert until(lambda: unit(w, cid, gid) == "started")
        q = r["session"]["question"]
        r = answer(w, sid, q["id"], RIGHT[1], 2000)
        q = r["session"]["question"]
        r = answer(w, sid, q["id"], WRONG[2], 2000)
        time.sleep(1.0)
        assert unit(w, cid, gid) == "started"
        assert lesson(w, cid, l1)["completed"] is False
        # the third right answer completes the topic, and the lesson that holds only it
        q = r["session"]["question"]
        r = answer(w, sid, q["id"], RIGHT[3], 2000)
        assert r["finished"] is True
        assert until(lambda: unit(w, cid, gid) == "completed")
        les = lesson(w, cid, l1)
        assert les["completed"] is True and les["percent"] == 100, les
        assert lesson(w, cid, l2)["completed"] is False
        p = progress(w, cid)
        assert p["completed_items"] == 1 and p["items"] == 4 and p["completed"] is False
        # the events: session.answered with exactly the agreed fields, then the catalog's
        answered = tap.wait(lambda e: e.get("type") == "session.answered" and e["subject"] == first)
        assert answered, tap.events()
        e = answered[0]
        assert e["user"] == w.ids["learner"]
        d = e["data"]
        assert {"session_id", "kind", "item_id", "correct", "card_id"} <= set(d), d
        assert d["session_id"] == sid and d["kind"] == "grammar" and d["item_id"] == gid
        assert d["correct"] is True and d["question_id"] == first
        assert d["card_id"] == s["question"]["card_id"]
        assert tap.wait(lambda e: e.get("type") == "catalog.lesson_completed"
                        and e["subject"] == l1 and e["user"] == w.ids["learner"])
        # one answer, one event: four answers, four session.answered of this session
        assert until(lambda: len([x for x in tap.events() if x.get("type") == "session.answered"
                                  and x["data"]["session_id"] == sid]) == 4)
        time.sleep(0.5)
        assert len([x for x in tap.events() if x.get("type") == "session.answered"
                    and x["data"]["session_id"] == sid]) == 4
    finally:
        tap.close()


def test_wrong_answers_do_not_complete(tutord_factory):
    w = build_world(tutord_factory)
    cid, l1, _, gid, _ = course(w)
    drill(w, gid, WRONG, who="admin_b")
    assert until(lambda: unit(w, cid, gid, "admin_b") == "started")
    time.sleep(1.0)
    assert unit(w, cid, gid, "admin_b") == "started"
    assert lesson(w, cid, l1, "admin_b")["completed"] is False
    assert progress(w, cid, "admin_b")["completed_items"] == 0
    # another learner's answers are theirs only
    assert unit(w, cid, gid, "learner") == "not_started"
    assert _psql("SELECT attempts FROM catalog_item_progress WHERE user_id = '%s' AND item_id = '%s'"
                 % (w.ids["admin_b"], gid)) == "4"


def test_vocabulary_quiz_completes_the_entries_answered_right(tutord_factory):
    w = build_world(tutord_factory)
    cid, _, l2, _, words = course(w)
    by_form = {"%s %s" % (a, wd): vid for vid, (a, wd, pl, tr) in words.items()}
    by_tr = {tr: vid for vid, (a, wd, pl, tr) in words.items()}
    s = start(w, {"type": "vocabulary", "course_id": cid, "size": 3})
    sid, q = s["id"], s["question"]
    # position 0: choice, answered right; position 1: typed, answered wrong; 2: choice, right
    right_item = by_form[q["prompt"]]
    r = answer(w, sid, q["id"], q["choices"].index(words[right_item][3]), 2000)
    assert r["result"]["correct"] is True
    q = r["session"]["question"]
    wrong_item = by_tr[q["prompt"]]
    r = answer(w, sid, q["id"], "nicht", 2000)
    assert r["result"]["correct"] is False
    q = r["session"]["question"]
    third = by_form[q["prompt"]]
    wrong_choice = [i for i, c in enumerate(q["choices"]) if c != words[third][3]][0]
    r = answer(w, sid, q["id"], wrong_choice, 2000)
    assert until(lambda: unit(w, cid, right_item) == "completed")
    assert until(lambda: unit(w, cid, wrong_item) == "started")
    assert until(lambda: unit(w, cid, third) == "started")
    assert lesson(w, cid, l2)["completed_items"] == 1


def test_replays_count_once_and_the_feed_catches_up(tutord_factory):
    w = build_world(tutord_factory)
    t = w.t
    cid, l1, _, gid, _ = course(w)
    uid = w.ids["learner"]
    # a full drill: three right answers, one wrong; each answer sent twice (a client retry)
    s = start(w, {"type": "grammar", "item_id": gid})
    sid, q, qids = s["id"], s["question"], []
    for a in [RIGHT[0], WRONG[1], RIGHT[2], RIGHT[3]]:
        r = answer(w, sid, q["id"], a, 2000)
        again = answer(w, sid, q["id"], a, 2000)
        assert again["result"] == r["result"]
        qids.append(q["id"])
        q = r["session"]["question"]
    assert until(lambda: unit(w, cid, gid) == "completed")
    count = lambda: _psql("SELECT count(*) FROM catalog_session_answers WHERE user_id = '%s'" % uid)
    attempts = lambda: _psql("SELECT attempts FROM catalog_item_progress WHERE user_id = '%s'"
                             " AND item_id = '%s'" % (uid, gid))
    assert until(lambda: count() == "4") and attempts() == "4"
    # the same events replayed on the event plane, several times: nothing more counts
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(t.events_in)
    try:
        for _ in range(5):
            for qid in qids:
                data = {"session_id": sid, "question_id": qid, "kind": "grammar", "item_id": gid,
                        "correct": True, "card_id": None}
                env = {"id": uuid.uuid4().hex, "type": "session.answered",
                       "source": "tutord/session", "time": at(), "org": None, "user": uid,
                       "subject": qid, "data": data}
                pub.send_multipart([b"session.answered", msgpack.packb(env)])
            time.sleep(0.2)
    finally:
        pub.close()
        ctx.term()
    time.sleep(1.0)
    assert count() == "4" and attempts() == "4"
    # the feed: system only; pages in order with a cursor; a bad cursor is 400 since
    def feed(body, auth='{"kind": "system"}'):
        res = t.tutorctl("call", "--auth", auth, "session", "answer.list", json.dumps(body))
        return json.loads(res.stdout)
    time.sleep(1.2)                                 # the feed serves answers older than 1 s
    page = feed({"limit": 2})
    assert page["status"] == 200 and page["body"]["more"] is True, page
    mine = []
    body = page["body"]
    while True:
        mine += [a for a in body["answers"] if a["session_id"] == sid]
        if not body["more"]:
            break
        body = feed({"since": body["next"], "limit": 2})["body"]
    assert [a["question_id"] for a in mine] == qids, mine
    assert [a["correct"] for a in mine] == [True, False, True, True]
    assert all(a["kind"] == "grammar" and a["item_id"] == gid and a["user_id"] == uid
               for a in mine), mine
    for bad in ({"since": "nope"}, {"since": 5}, {"limit": 0}, {"limit": 501}, {"limit": "x"}):
        reply = feed(bad)
        assert reply["status"] == 400 and reply["error"]["field"] in ("since", "limit"), (bad, reply)
    reply = feed({}, json.dumps({"kind": "user", "user": uid}))
    assert reply["status"] == 403, reply
    # lose the progress (as if every event had been missed): a new server catches up from the
    # session actor's answer.list, applying each answer once
    t.stop()
    _psql("DELETE FROM catalog_item_progress WHERE user_id = '%s';"
          "DELETE FROM catalog_session_answers WHERE user_id = '%s';"
          "DELETE FROM catalog_sync;" % (uid, uid))
    t2 = tutord_factory(TUTORD_SECRET=t.env["TUTORD_SECRET"])
    assert until(lambda: unit(w, cid, gid, t=t2) == "completed", timeout=40)
    assert lesson(w, cid, l1, t=t2)["completed"] is True
    assert count() == "4" and attempts() == "4"
    assert _psql("SELECT count(*) FROM catalog_sync WHERE name = 'session.answer.list'") == "1"


def test_placement_and_flashcards_carry_their_items(tutord_factory):
    """A placement test's answers count for the topic each exercise came from (three right at A1
    complete the A1 topic, which has three exercises); a flashcard of a card made from a
    vocabulary entry completes the entry; a flashcard of a hand-made card names no item."""
    from test_practice import placement_course, run_placement
    w = build_world(tutord_factory)
    pid, keys = placement_course(w)
    topics = {i["title"]: i["id"] for m in ok(w.t, "GET", "/api/v1/courses/%s" % pid,
                                               w.tokens["admin_a"])["modules"]
              for l in m["lessons"] for i in l["items"]}
    # A1: three right (A1 passes after two; the test jumps to A2), A2: wrong, wrong (ends)
    g, asked = run_placement(w, pid, keys, [True, True, False, False])
    assert asked == ["A1", "A1", "A2", "A2"]
    assert until(lambda: unit(w, pid, topics["A1"]) == "started")
    assert until(lambda: unit(w, pid, topics["A2"]) == "started")
    g, asked = run_placement(w, pid, keys, [True, True, True, True, False, False])
    # A1: 2 + 2 right of the 3 it needs; A2: 2 right (the second test), not enough; B1: none
    assert until(lambda: unit(w, pid, topics["A1"]) == "completed")
    assert until(lambda: unit(w, pid, topics["B1"]) == "started")
    assert unit(w, pid, topics["A2"]) == "started"
    # flashcards: enrolling made the learner's cards of the course's items (CATALOG.md, cards on
    # enrolment) in a deck named after the course; "good" on the first card of a vocabulary
    # entry completes the entry, "again" on the others starts theirs
    cid, _, _, _, words = course(w)
    slug = ok(w.t, "GET", "/api/v1/courses/%s" % cid, w.tokens["learner"])["slug"]
    f = start(w, {"type": "flashcards", "deck": slug})
    q, good = f["question"], None
    while q is not None:
        card = ok(w.t, "GET", "/api/v1/cards/%s" % q["card_id"], w.tokens["learner"])
        right = good is None and card["item_id"] in words
        good = card["item_id"] if right else good
        q = answer(w, f["id"], q["id"], "good" if right else "again", 3000)["session"]["question"]
    assert good, "no card of a vocabulary entry in the course's deck"
    assert until(lambda: unit(w, cid, good) == "completed")
    assert sum(unit(w, cid, v) == "completed" for v in words) == 1
    # a hand-made card is no catalog item: its answer is no progress, and names no item
    deck = unique("own")
    ok(w.t, "POST", "/api/v1/cards", w.tokens["learner"],
       {"front": "der Hund", "back": "the dog", "deck": deck}, expect=(201,))
    f = start(w, {"type": "flashcards", "deck": deck})
    answer(w, f["id"], f["question"]["id"], "good", 3000)
    time.sleep(1.2)
    mine = [a for a in feed_all(w.t) if a["session_id"] == f["id"]]
    assert len(mine) == 1 and mine[0]["item_id"] is None and mine[0]["kind"] == "flashcards"
    assert mine[0]["card_id"] == f["question"]["card_id"] and mine[0]["correct"] is True
