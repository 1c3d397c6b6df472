"""Practice sessions (issue 6 point 5, actors/session/SESSION.md) through the web bridge.

Why: a session is worth something only if its answers reach the learner's schedule exactly once
and it survives whatever happens between two answers. These tests run each session type end to
end (flashcards, vocabulary from a course and from a deck, grammar drill, adaptive placement) with
the real srs actor (the reviews appear in the learner's cards; a retried answer is reviewed once),
stop tutord in the middle of a session and continue on a new process over the same database, run
two processes on one session, hit the crash window between an answer and its review, kill the
session actor (and the srs actor) mid-session, check the session.* events, try another learner's
session (404), API keys (403) and anonymous callers (401), and bad input on every field.
"""

import asyncio
import json
import os
import subprocess
import time

import websockets

from test_access import SECRET, build_world, call, ok, unique
from test_srs import _recv_events, iso


def card(w, deck, front, back, who="learner"):
    return ok(w.t, "POST", "/api/v1/cards", w.tokens[who],
              {"front": front, "back": back, "deck": deck}, expect=(201,))["id"]


def get_card(w, cid, who="learner"):
    return ok(w.t, "GET", "/api/v1/cards/%s" % cid, w.tokens[who], expect=(200,))


def start(w, body, who="learner", expect=(201,)):
    return ok(w.t, "POST", "/api/v1/practice/sessions", w.tokens[who], body, expect=expect)


def answer(w, sid, qid, ans, dur=None, who="learner", expect=(200,)):
    body = {"question_id": qid, "answer": ans}
    if dur is not None:
        body["duration_ms"] = dur
    return ok(w.t, "POST", "/api/v1/practice/sessions/%s/answers" % sid, w.tokens[who], body,
              expect=expect)


def answer_retrying(w, sid, qid, ans, dur=None, limit_s=40):
    """Answer until it lands: 503/504 while an actor restarts (the answer is idempotent)."""
    body = {"question_id": qid, "answer": ans}
    if dur is not None:
        body["duration_ms"] = dur
    end = time.monotonic() + limit_s
    failures = 0
    while True:
        s, _, b = call(w.t, "POST", "/api/v1/practice/sessions/%s/answers" % sid,
                       w.tokens["learner"], body)
        if s == 200:
            return b, failures
        assert s in (503, 504), (s, b)
        failures += 1
        assert time.monotonic() < end, "the answer never landed: %s %s" % (s, b)
        time.sleep(0.2)


def three_cards(w):
    """A deck with one card reviewed three days ago (due now) and two new ones."""
    deck = unique("deck")
    a = card(w, deck, "der Hund", "the dog")
    ok(w.t, "POST", "/api/v1/reviews", w.tokens["learner"],
       {"card_id": a, "rating": 3, "reviewed_at": iso(time.time() - 3 * 86400)}, expect=(200,))
    b = card(w, deck, "die Katze", "the cat")
    c = card(w, deck, "das Haus", "the house")
    return deck, a, b, c


def test_flashcards_end_to_end(tutord_factory):
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    s = start(w, {"type": "flashcards", "deck": deck})
    assert s["type"] == "flashcards" and s["status"] == "active" and s["size"] == 3
    assert s["position"] == 0 and s["answered"] == 0 and s["deck"] == deck
    q = s["question"]
    # the due (reviewed) card first, then the new ones; the back is not shown before answering
    assert q["card_id"] == a and q["prompt"] == "der Hund" and q["kind"] == "flashcard"
    assert "expected" not in q and "the dog" not in str(q)
    # self-grade "good": rating 3, one review with client_review_id = the question's id
    r = answer(w, s["id"], q["id"], "good", 8000)
    res = r["result"]
    assert res["correct"] is True and res["rating"] == 3 and res["expected"] == "the dog"
    assert res["review"]["card_id"] == a and res["review"]["log_id"] and not res["review"]["replayed"]
    assert get_card(w, a)["reps"] == 2
    # the same answer again (a retry): the same result, reviewed once
    again = answer(w, s["id"], q["id"], "good", 8000)
    assert again["result"]["review"]["log_id"] == res["review"]["log_id"]
    assert again["result"]["rating"] == 3 and get_card(w, a)["reps"] == 2
    assert r["finished"] is False and r["session"]["position"] == 1
    # typed back, right and fast: Easy (4)
    q2 = r["session"]["question"]
    assert q2["card_id"] in (b, c) and q2["position"] == 1
    back2 = "the cat" if q2["card_id"] == b else "the house"
    r2 = answer(w, s["id"], q2["id"], "  THE   " + back2.split()[1].upper() + " ", 1200)
    assert r2["result"]["correct"] is True and r2["result"]["rating"] == 4, r2
    # typed back, wrong: Again (1), the expected back shown
    q3 = r2["session"]["question"]
    back3 = "the cat" if q3["card_id"] == b else "the house"
    r3 = answer(w, s["id"], q3["id"], "the mouse", 900)
    assert r3["result"]["correct"] is False and r3["result"]["rating"] == 1
    assert back3 in r3["result"]["feedback"] and r3["result"]["expected"] == back3
    assert r3["finished"] is True and r3["session"]["status"] == "finished"
    assert r3["session"]["question"] is None and r3["session"]["ended_at"]
    for cid, state in [(q2["card_id"], "review"), (q3["card_id"], "learning")]:
        k = get_card(w, cid)
        assert k["reps"] == 1 and k["state"] == state, k
    # state and history
    g = ok(w.t, "GET", "/api/v1/practice/sessions/%s" % s["id"], w.tokens["learner"])
    assert g["status"] == "finished" and g["answered"] == 3 and g["correct"] == 2
    assert [h["rating"] for h in g["history"]] == [3, 4, 1]
    assert [h["card_id"] for h in g["history"]] == [a, q2["card_id"], q3["card_id"]]
    assert all(h["review"]["log_id"] for h in g["history"])
    # a retried last answer after the end still replays (no 409, no second review)
    assert answer(w, s["id"], q3["id"], "the mouse", 900)["result"]["rating"] == 1
    assert get_card(w, q3["card_id"])["reps"] == 1
    # nothing left to practise in this deck now: 409 with the field
    s_, _, bad = call(w.t, "POST", "/api/v1/practice/sessions", w.tokens["learner"],
                      {"type": "flashcards", "deck": unique("empty")})
    assert s_ == 409 and bad["error"]["field"] == "deck", bad


def test_finish_and_answer_after_finish(tutord_factory):
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    s = start(w, {"type": "flashcards", "deck": deck, "size": 2})
    assert s["size"] == 2
    f = ok(w.t, "POST", "/api/v1/practice/sessions/%s/finish" % s["id"], w.tokens["learner"])
    assert f["status"] == "finished" and f["history"] == [] and f["question"] is None
    # finishing twice is harmless; answering a finished session is 409
    ok(w.t, "POST", "/api/v1/practice/sessions/%s/finish" % s["id"], w.tokens["learner"])
    st, _, b2 = call(w.t, "POST", "/api/v1/practice/sessions/%s/answers" % s["id"],
                     w.tokens["learner"], {"question_id": s["question"]["id"], "answer": "good"})
    assert st == 409 and b2["error"]["code"] == "conflict", b2
    assert get_card(w, a)["reps"] == 1                   # no review happened


def vocab_course(w):
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("voc"), "title": "Deutsch A1", "visibility": "public"}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "m-one", "title": "One"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "l-one", "title": "L"})
    words = [("der", "Hund", "Hunde", "the dog"), ("die", "Katze", "Katzen", "the cat"),
             ("das", "Haus", "Häuser", "the house"), ("der", "Tisch", "Tische", "the table")]
    for art, word, plural, tr in words:
        ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
           {"slug": unique("v").lower(), "kind": "vocabulary", "title": word,
            "content": {"word": word, "article": art, "gender": "m", "plural": plural,
                        "translation": tr}}, expect=(201,))
    ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return c["id"], words


def test_vocabulary_quiz_from_a_course(tutord_factory):
    w = build_world(tutord_factory)
    cid, words = vocab_course(w)
    by_form = {"%s %s" % (a, wd): (a, wd, pl, tr) for a, wd, pl, tr in words}
    by_tr = {tr: (a, wd, pl, tr) for a, wd, pl, tr in words}
    s = start(w, {"type": "vocabulary", "course_id": cid, "size": 4})
    assert s["size"] == 4 and s["course_id"] == cid
    # position 0: multiple choice, the German form -> its translation among distractors of the course
    q = s["question"]
    assert q["kind"] == "choice" and q["prompt"] in by_form and len(q["choices"]) == 4
    assert set(q["choices"]) == set(by_tr)
    right = q["choices"].index(by_form[q["prompt"]][3])
    r = answer(w, s["id"], q["id"], right, 2000)
    assert r["result"]["correct"] is True and r["result"]["rating"] == 4
    # the item's forward card (German -> translation) of the learner, made for the quiz, reviewed
    k = get_card(w, q["card_id"])
    assert k["kind"] == "forward" and k["front"] == q["prompt"] and k["reps"] == 1
    assert r["result"]["review"]["card_id"] == q["card_id"] and r["result"]["review"]["log_id"]
    # position 1: typed, translation -> article + word, plural; a missing article is wrong
    q = r["session"]["question"]
    assert q["kind"] == "typed" and q["prompt"] in by_tr and "choices" not in q
    a, wd, pl, tr = by_tr[q["prompt"]]
    r = answer(w, s["id"], q["id"], "%s, die %s" % (wd, pl), 3000)
    res = r["result"]
    assert res["correct"] is False and res["rating"] == 1
    assert "article is missing" in res["feedback"] and res["expected"] == "%s %s, die %s" % (a, wd, pl)
    k = get_card(w, q["card_id"])                           # the reverse card, reviewed Again
    assert k["kind"] == "reverse" and k["back"] == "%s %s" % (a, wd) and k["reps"] == 1
    assert k["state"] == "learning" and res["review"]["log_id"]
    # position 2: a wrong choice (by its text)
    q = r["session"]["question"]
    wrong = [ch for ch in q["choices"] if ch != by_form[q["prompt"]][3]][0]
    r = answer(w, s["id"], q["id"], wrong, 1000)
    assert r["result"]["correct"] is False and by_form[q["prompt"]][3] in r["result"]["feedback"]
    # position 3: typed right, slow: Good; "der Hund, die Hunde" with any case and spacing
    q = r["session"]["question"]
    a, wd, pl, tr = by_tr[q["prompt"]]
    r = answer(w, s["id"], q["id"], "%s  %s ,die %s" % (a.upper(), wd, pl), 9000)
    assert r["result"]["correct"] is True and r["result"]["rating"] == 3, r
    assert r["finished"] is True and r["session"]["correct"] == 2
    # a wrong article and a missing plural are wrong too (another session; the same cards)
    s2 = start(w, {"type": "vocabulary", "course_id": cid, "size": 2})
    q = s2["question"]
    assert get_card(w, q["card_id"])["kind"] == "forward"
    # two cards per item of the course, made once however many quizzes use them
    assert psql("SELECT count (*), count (DISTINCT item_id) FROM srs_cards WHERE user_id = '%s'"
                " AND item_id IS NOT NULL" % w.ids["learner"]) == "8|4"
    r = answer(w, s2["id"], q["id"], 0)
    q = r["session"]["question"]
    a, wd, pl, tr = by_tr[q["prompt"]]
    other = "das" if a != "das" else "der"
    r = answer(w, s2["id"], q["id"], "%s %s, die %s" % (other, wd, pl))
    assert r["result"]["correct"] is False and "wrong article" in r["result"]["feedback"]
    # a course the learner may not see, or none: 404 course_id
    st, _, b = call(w.t, "POST", "/api/v1/practice/sessions", w.tokens["learner"],
                    {"type": "vocabulary", "course_id": "00000000-0000-4000-8000-000000000000"})
    assert st == 404 and b["error"]["field"] == "course_id", b


def test_vocabulary_quiz_from_a_deck_reviews_cards(tutord_factory):
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    s = start(w, {"type": "vocabulary", "deck": deck})
    assert s["size"] == 3
    q = s["question"]
    assert q["kind"] == "choice" and q["card_id"] in (a, b, c)
    backs = {"der Hund": "the dog", "die Katze": "the cat", "das Haus": "the house"}
    assert set(q["choices"]) == set(backs.values())
    before = get_card(w, q["card_id"])["reps"]
    r = answer(w, s["id"], q["id"], q["choices"].index(backs[q["prompt"]]), 7000)
    assert r["result"]["correct"] and r["result"]["rating"] == 3 and r["result"]["review"]["log_id"]
    assert get_card(w, q["card_id"])["reps"] == before + 1


def test_session_continues_after_a_restart(tutord_factory):
    """Stop tutord mid-session, start a new process on the same database, continue."""
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    s = start(w, {"type": "flashcards", "deck": deck})
    r = answer(w, s["id"], s["question"]["id"], "hard", 4000)
    assert r["result"]["rating"] == 2
    nxt = r["session"]["question"]
    w.t.stop()
    w.t = tutord_factory(TUTORD_SECRET=SECRET)
    g = ok(w.t, "GET", "/api/v1/practice/sessions/%s" % s["id"], w.tokens["learner"])
    assert g["status"] == "active" and g["position"] == 1 and g["question"] == nxt
    assert len(g["history"]) == 1 and g["history"][0]["rating"] == 2
    r = answer(w, s["id"], nxt["id"], "easy", 1000)
    assert r["result"]["rating"] == 4 and r["session"]["position"] == 2
    r = answer(w, s["id"], r["session"]["question"]["id"], "again", 1000)
    assert r["finished"] is True
    assert get_card(w, a)["reps"] == 2 and get_card(w, b)["reps"] == 1 and get_card(w, c)["reps"] == 1


def test_two_processes_share_a_session(tutord_factory):
    """Two tutord processes on one database (two bridges, two session actors, two srs actors):
    answers alternate between them and the session moves on as one."""
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    other = tutord_factory(TUTORD_SECRET=SECRET)
    s = start(w, {"type": "flashcards", "deck": deck})
    first, second = w.t, other
    q = s["question"]
    for i, grade in enumerate(["good", "again", "easy"]):
        w.t = first if i % 2 == 0 else second
        r = answer(w, s["id"], q["id"], grade, 6000)
        assert r["session"]["position"] == i + 1
        q = r["session"]["question"]
    assert r["finished"] is True
    # the same answer through the other process replays, reviewed once
    w.t = first
    assert answer(w, s["id"], r["result"]["id"], "easy")["result"]["rating"] == 4
    g = ok(second, "GET", "/api/v1/practice/sessions/%s" % s["id"], w.tokens["learner"])
    assert [h["rating"] for h in g["history"]] == [3, 1, 4]
    assert sum(get_card(w, k)["reps"] for k in (a, b, c)) == 2 + 1 + 1


def test_actors_killed_mid_session(tutord_factory):
    """The session actor killed between answers, then the srs actor killed right before an
    answer: the session continues, and every answer is reviewed exactly once."""
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    s = start(w, {"type": "flashcards", "deck": deck})
    r = answer(w, s["id"], s["question"]["id"], "good", 6000)
    assert session_uptime(w) > 100
    killed = time.monotonic()
    st, _, d = w.t.request("POST", "/api/v1/_call/session/fault.exit", body={})
    assert st == 202, d
    q2 = r["session"]["question"]
    r2, _ = answer_retrying(w, s["id"], q2["id"], "good", 6000)
    # the actor answering now started after the kill (a survivor would be older than that)
    assert session_uptime(w) < (time.monotonic() - killed) * 1000 + 50, "not restarted"
    assert r2["result"]["rating"] == 3 and r2["session"]["position"] == 2
    st, _, d = w.t.request("POST", "/api/v1/_call/srs/fault.exit", body={})
    assert st == 202, d
    q3 = r2["session"]["question"]
    r3, _ = answer_retrying(w, s["id"], q3["id"], "again", 6000)
    assert r3["finished"] is True and r3["result"]["review"]["log_id"]
    assert get_card(w, a)["reps"] == 2
    assert get_card(w, q2["card_id"])["reps"] == 1 and get_card(w, q3["card_id"])["reps"] == 1
    g = ok(w.t, "GET", "/api/v1/practice/sessions/%s" % s["id"], w.tokens["learner"])
    assert g["answered"] == 3 and all(h["review"] for h in g["history"])


def session_uptime(w):
    """The session actor's uptime (ms), through its ping; waits while it restarts."""
    end = time.monotonic() + 30
    while True:
        st, _, b = call(w.t, "GET", "/api/v1/services/session/ping")
        if st == 200:
            return b["uptime_ms"]
        assert time.monotonic() < end, (st, b)
        time.sleep(0.1)


def psql(sql):
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At",
                          os.environ["TUTORD_TEST_DB"], "-c", sql],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_crash_between_answer_and_review(tutord_factory):
    """The window a crash can hit: the answer is stored but its review result is not (as if the
    actor died after srs applied the review). The same answer again re-sends the review with the
    same client_review_id: srs replays it, the card is reviewed once. And when srs never got it
    (the review undone), the retry applies it then, once."""
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    s = start(w, {"type": "flashcards", "deck": deck})
    q = s["question"]
    r = answer(w, s["id"], q["id"], "good", 6000)
    log_id = r["result"]["review"]["log_id"]
    assert psql("UPDATE practice_questions SET review = NULL WHERE id = '%s' RETURNING 1" % q["id"]) == "1"
    again = answer(w, s["id"], q["id"], "good", 6000)
    assert again["result"]["review"]["log_id"] == log_id and again["result"]["review"]["replayed"] is True
    assert get_card(w, a)["reps"] == 2
    # the review never reached srs: undo it there, forget it here, retry: applied once, now
    ok(w.t, "POST", "/api/v1/cards/%s/undo" % a, w.tokens["learner"], expect=(200,))
    assert get_card(w, a)["reps"] == 1
    psql("UPDATE practice_questions SET review = NULL WHERE id = '%s'" % q["id"])
    psql("DELETE FROM srs_reviews WHERE client_review_id = '%s'" % q["id"])
    third = answer(w, s["id"], q["id"], "good", 6000)
    assert third["result"]["rating"] == 3 and third["result"]["review"]["replayed"] is False
    assert get_card(w, a)["reps"] == 2
    assert answer(w, s["id"], q["id"], "good")["result"]["review"] == third["result"]["review"]
    assert get_card(w, a)["reps"] == 2


def test_access(tutord_factory):
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    s = start(w, {"type": "flashcards", "deck": deck})
    sid, qid = s["id"], s["question"]["id"]
    paths = [("GET", "/api/v1/practice/sessions/%s" % sid, None),
             ("POST", "/api/v1/practice/sessions/%s/answers" % sid, {"question_id": qid, "answer": "good"}),
             ("POST", "/api/v1/practice/sessions/%s/finish" % sid, None)]
    for method, path, body in paths:
        # another learner may not know it exists; keys have no sessions; anonymous must sign in
        for who, want in [("learner2", 404), ("mentor", 404), ("admin_a", 404), ("key_a", 403),
                          ("anon", 401)]:
            st, _, bd = call(w.t, method, path, w.tokens[who], body)
            assert st == want, (who, method, path, st, bd)
    st, _, _ = call(w.t, "POST", "/api/v1/practice/sessions", w.tokens["key_a"], {"type": "flashcards"})
    assert st == 403
    st, _, _ = call(w.t, "POST", "/api/v1/practice/sessions", None, {"type": "flashcards"})
    assert st == 401
    # the other learner's cards are not in this learner's session, and nothing was answered
    assert ok(w.t, "GET", "/api/v1/practice/sessions/%s" % sid, w.tokens["learner"])["answered"] == 0
    st, _, bd = call(w.t, "GET", "/api/v1/practice/sessions/not-a-uuid", w.tokens["learner"])
    assert st == 404, bd


def test_bad_input_names_the_field(tutord_factory):
    w = build_world(tutord_factory)
    deck, a, b, c = three_cards(w)
    tok = w.tokens["learner"]
    for body, field in [
        ({}, "type"), ({"type": "exam"}, "type"), ({"type": 3}, "type"),
        ({"type": "flashcards", "deck": ""}, "deck"), ({"type": "flashcards", "deck": "x" * 101}, "deck"),
        ({"type": "flashcards", "deck": 5}, "deck"),
        ({"type": "flashcards", "course_id": "00000000-0000-4000-8000-000000000000"}, "course_id"),
        ({"type": "vocabulary"}, "course_id"), ({"type": "vocabulary", "course_id": "nope"}, "course_id"),
        ({"type": "vocabulary", "course_id": "00000000-0000-4000-8000-000000000000", "deck": deck},
         "course_id"),
        ({"type": "flashcards", "size": 0}, "size"), ({"type": "flashcards", "size": 101}, "size"),
        ({"type": "flashcards", "size": "5"}, "size"), ({"type": "flashcards", "fast_ms": 10}, "fast_ms"),
        ({"type": "flashcards", "colour": "red"}, "colour"),
    ]:
        st, _, b_ = call(w.t, "POST", "/api/v1/practice/sessions", tok, body)
        assert st == 400 and b_["error"]["code"] == "invalid_input", (body, st, b_)
        assert b_["error"]["field"] == field, (body, b_)
    st, _, b_ = call(w.t, "POST", "/api/v1/practice/sessions", tok, raw="[1]")
    assert st == 400, b_
    s = start(w, {"type": "flashcards", "deck": deck})
    sid, qid = s["id"], s["question"]["id"]
    path = "/api/v1/practice/sessions/%s/answers" % sid
    for body, field in [
        ({"answer": "good"}, "question_id"), ({"question_id": "x", "answer": "good"}, "question_id"),
        ({"question_id": qid}, "answer"), ({"question_id": qid, "answer": ""}, "answer"),
        ({"question_id": qid, "answer": "x" * 1001}, "answer"), ({"question_id": qid, "answer": [1]}, "answer"),
        ({"question_id": qid, "answer": -1}, "answer"),
        ({"question_id": qid, "answer": "good", "duration_ms": -1}, "duration_ms"),
        ({"question_id": qid, "answer": "good", "duration_ms": "5"}, "duration_ms"),
        ({"question_id": qid, "answer": "good", "duration_ms": 86400001}, "duration_ms"),
        ({"question_id": qid, "answer": "good", "rating": 4}, "rating"),
    ]:
        st, _, b_ = call(w.t, "POST", path, tok, body)
        assert st == 400 and b_["error"]["field"] == field, (body, st, b_)
    # a question of another session: 404 question_id; not the current question: 409
    other = start(w, {"type": "flashcards", "deck": deck})
    st, _, b_ = call(w.t, "POST", path, tok, {"question_id": other["question"]["id"], "answer": "good"})
    assert st == 404 and b_["error"]["field"] == "question_id", b_
    g = ok(w.t, "GET", "/api/v1/practice/sessions/%s" % sid, tok)
    assert g["answered"] == 0 and get_card(w, a)["reps"] == 1        # nothing was applied


GRAMMAR = {"level": "A1", "explanation": "Articles and plurals.",
           "exercises": [
               {"type": "single", "prompt": "_ Hund", "choices": ["der", "die", "das"], "answer": 0,
                "explanation": "Hund is masculine."},
               {"type": "short", "prompt": "Plural of Katze?", "answer": ["Katzen"]},
               {"type": "multiple", "prompt": "Feminine?", "choices": ["Katze", "Hund", "Lampe"],
                "answer": [0, 2]},
               {"type": "numeric", "prompt": "Wie viele Artikel (der, die, das)?", "answer": 3},
           ]}


def grammar_topic(w, visibility="public", publish=True):
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("gram"), "title": "Grammatik", "visibility": visibility}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "m-one", "title": "One"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "l-one", "title": "L"})
    g = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
           {"slug": "articles", "kind": "grammar", "title": "Articles", "content": GRAMMAR},
           expect=(201,))
    v = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
           {"slug": "hund", "kind": "vocabulary", "title": "Hund",
            "content": {"word": "Hund", "article": "der", "translation": "dog"}}, expect=(201,))
    if publish:
        ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return g["id"], v["id"]


def test_grammar_drill_checked_by_the_grader_rules(tutord_factory):
    w = build_world(tutord_factory)
    gid, vid = grammar_topic(w)
    s = start(w, {"type": "grammar", "item_id": gid})
    assert s["type"] == "grammar" and s["size"] == 4
    q = s["question"]
    # the exercise as the learner may see it: no key, no explanation
    assert q["kind"] == "exercise" and q["prompt"] == "_ Hund" and q["question_type"] == "single"
    assert "answer" not in q and "explanation" not in q and q["choices"] == ["der", "die", "das"]
    # a shape that does not fit the exercise: 400 answer, nothing stored
    st, _, b = call(w.t, "POST", "/api/v1/practice/sessions/%s/answers" % s["id"],
                    w.tokens["learner"], {"question_id": q["id"], "answer": "der"})
    assert st == 400 and b["error"]["field"] == "answer", b
    r = answer(w, s["id"], q["id"], 0, 1500)
    assert r["result"]["correct"] is True and r["result"]["rating"] == 4
    q = r["session"]["question"]
    r = answer(w, s["id"], q["id"], "  katzen ", 7000)            # short: case and spaces folded
    assert r["result"]["correct"] is True and r["result"]["rating"] == 3
    q = r["session"]["question"]
    r = answer(w, s["id"], q["id"], [0], 1000)                   # multiple: all or nothing
    assert r["result"]["correct"] is False and r["result"]["rating"] == 1
    assert r["result"]["expected"] == "Katze, Lampe"
    q = r["session"]["question"]
    r = answer(w, s["id"], q["id"], 3, 1000)
    assert r["result"]["correct"] is True and r["finished"] is True
    assert r["session"]["correct"] == 3
    # every answer was a review of the topic's srs card (Easy, Good, Again, Good)
    card_id = s["question"]["card_id"]
    assert card_id, s["question"]
    st, _, card = call(w.t, "GET", "/api/v1/cards/%s" % card_id, w.tokens["learner"])
    assert st == 200 and card["last_review"], (st, card)
    g = ok(w.t, "GET", "/api/v1/practice/sessions/%s" % s["id"], w.tokens["learner"])
    assert [h["rating"] for h in g["history"]] == [4, 3, 1, 4], g["history"]
    assert all(h["card_id"] == card_id and h["review"]["log_id"] for h in g["history"]), g
    # not a grammar topic: 400 item_id; a topic the learner may not see: 404 item_id
    st, _, b = call(w.t, "POST", "/api/v1/practice/sessions", w.tokens["learner"],
                    {"type": "grammar", "item_id": vid})
    assert st == 400 and b["error"]["field"] == "item_id", b
    hidden, _ = grammar_topic(w, publish=False)
    for tid in (hidden, "00000000-0000-4000-8000-000000000000"):
        st, _, b = call(w.t, "POST", "/api/v1/practice/sessions", w.tokens["learner"],
                        {"type": "grammar", "item_id": tid})
        assert st == 404 and b["error"]["field"] == "item_id", b
    for body, field in [({"type": "grammar"}, "item_id"), ({"type": "grammar", "item_id": "x"}, "item_id"),
                        ({"type": "grammar", "item_id": gid, "deck": "d"}, "deck"),
                        ({"type": "flashcards", "item_id": gid}, "item_id")]:
        st, _, b = call(w.t, "POST", "/api/v1/practice/sessions", w.tokens["learner"], body)
        assert st == 400 and b["error"]["field"] == field, (body, b)


def placement_course(w):
    """A public course with grammar topics at A1, A2 and B1, three numeric exercises each; the
    key of each exercise is known from its prompt."""
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("place"), "title": "Deutsch", "visibility": "public"}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "m-one", "title": "One"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "l-one", "title": "L"})
    keys = {}
    for n, level in enumerate(["B1", "A1", "A2"]):          # stored out of order on purpose
        ex = []
        for i in range(3):
            prompt = "%s exercise %d" % (level, i)
            keys[prompt] = 10 * n + i
            ex.append({"type": "numeric", "prompt": prompt, "answer": 10 * n + i})
        ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
           {"slug": "topic-%s" % level.lower(), "kind": "grammar", "title": level,
            "content": {"level": level, "explanation": "x", "exercises": ex}}, expect=(201,))
    ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return c["id"], keys


def run_placement(w, cid, keys, rights):
    """Answer right or wrong as rights says (per question asked); the finished session."""
    s = start(w, {"type": "placement", "course_id": cid})
    assert s["size"] == 9
    q, asked = s["question"], []
    for right in rights:
        assert q is not None, asked
        asked.append(q["level"])
        assert "answer" not in q
        r = answer(w, s["id"], q["id"], keys[q["prompt"]] if right else -1, 2000)
        assert r["result"]["correct"] is right
        q = r["session"]["question"]
    assert q is None and r["finished"] is True
    return ok(w.t, "GET", "/api/v1/practice/sessions/%s" % s["id"], w.tokens["learner"]), asked


def test_placement_is_adaptive_and_stored(tutord_factory):
    w = build_world(tutord_factory)
    cid, keys = placement_course(w)
    # A1 passed after two right (its third is skipped), A2 failed after two wrong: A1
    g, asked = run_placement(w, cid, keys, [True, True, False, False])
    assert asked == ["A1", "A1", "A2", "A2"]
    assert g["status"] == "finished" and g["result"]["level"] == "A1"
    assert [(x["level"], x["asked"], x["right"]) for x in g["result"]["levels"]] == \
        [("A1", 2, 2), ("A2", 2, 0), ("B1", 0, 0)]
    assert len(g["history"]) == 4
    # everything right: B1 after six answers
    g, asked = run_placement(w, cid, keys, [True] * 6)
    assert asked == ["A1", "A1", "A2", "A2", "B1", "B1"] and g["result"]["level"] == "B1"
    # wrong, right, wrong at A1: below A1
    g, asked = run_placement(w, cid, keys, [False, True, False])
    assert g["result"]["level"] == "pre-A1" and asked == ["A1"] * 3
    # a crash after an answer was written but before the placement step moved on: the retried
    # answer takes the step (and never moves backwards)
    s = start(w, {"type": "placement", "course_id": cid})
    r = answer(w, s["id"], s["question"]["id"], keys[s["question"]["prompt"]])
    q1 = r["session"]["question"]
    r = answer(w, s["id"], q1["id"], keys[q1["prompt"]])
    assert r["session"]["position"] == 3 and r["session"]["question"]["level"] == "A2"
    psql("UPDATE practice_sessions SET position = 2 WHERE id = '%s'" % s["id"])
    r = answer(w, s["id"], q1["id"], keys[q1["prompt"]])
    assert r["session"]["position"] == 3 and r["session"]["question"]["level"] == "A2"
    q3 = r["session"]["question"]
    r = answer(w, s["id"], q3["id"], keys[q3["prompt"]])
    assert r["session"]["position"] == 4
    r = answer(w, s["id"], q1["id"], keys[q1["prompt"]])          # an old answer again
    assert r["session"]["position"] == 4
    # bad input
    for body, field in [({"type": "placement"}, "course_id"),
                        ({"type": "placement", "course_id": cid, "deck": "d"}, "deck")]:
        st, _, b = call(w.t, "POST", "/api/v1/practice/sessions", w.tokens["learner"], body)
        assert st == 400 and b["error"]["field"] == field, b


def test_events_started_ended_and_reviewed(tutord_factory):
    """session.started and session.ended with the learner as user, and srs.reviewed for each
    answer that became a review."""
    w = build_world(tutord_factory)
    tok, me = w.tokens["learner"], w.ids["learner"]

    async def run():
        got = []
        async with websockets.connect("ws://%s/ws?token=%s" % (w.t.http, tok)) as ws:
            await ws.send(json.dumps({"op": "subscribe", "topics": ["session.", "srs."]}))
            while json.loads(await ws.recv()).get("op") != "subscribed":
                pass
            loop = asyncio.get_running_loop()
            # events are best effort while a subscription propagates: start sessions until
            # one session.started arrives, then the stream is live
            started = lambda: [e for e in got if e["type"] == "session.started"]
            end = time.monotonic() + 20
            while not started():
                assert time.monotonic() < end, "no session.started event"
                deck = unique("ev")
                await loop.run_in_executor(None, card, w, deck, "der Hund", "the dog")
                s = await loop.run_in_executor(None, start, w, {"type": "flashcards", "deck": deck})
                await _recv_events(ws, got, started, 0.5)
            ev = [e for e in started() if e["subject"] == s["id"]] or started()
            assert ev[0]["user"] == me and ev[0]["data"]["type"] == "flashcards"
            sid = ev[0]["subject"]
            g = await loop.run_in_executor(None, lambda: ok(w.t, "GET", "/api/v1/practice/sessions/%s" % sid, tok))
            r = await loop.run_in_executor(None, answer, w, sid, g["question"]["id"], "good", 6000)
            assert r["finished"] is True
            ended = lambda: [e for e in got if e["type"] == "session.ended" and e["subject"] == sid]
            rev = lambda: [e for e in got if e["type"] == "srs.reviewed"
                           and e["subject"] == g["question"]["card_id"]]
            await _recv_events(ws, got, lambda: ended() and rev(), 10)
            assert ended() and ended()[0]["user"] == me, got
            d = ended()[0]["data"]
            assert d["reason"] == "completed" and d["answered"] == 1 and d["correct"] == 1
            assert rev() and rev()[0]["data"]["rating"] == 3

    asyncio.run(run())
