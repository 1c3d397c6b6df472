"""The srs actor through the web bridge: cards, FSRS-6 reviews, queues, settings, events, faults.

Why: what learners rely on is the schedule the server stores and answers, so these tests check
the real HTTP answers against FSRS-6 numbers computed here from the published formulas (the same
vectors as tests/unit/test_srs_fsrs.c), and try to break the actor: another learner's card (404),
bad input on every field (400 with the field), offline sync (late, out of order, the same
client_review_id twice), undo, the daily new-card limit and sibling burying, the srs.reviewed and
srs.due events, and the actor killed in the middle of a stream of reviews (the supervisor restarts
it; every review is applied exactly once).
"""

import asyncio
import datetime
import json
import math
import re
import time

import websockets

import conftest
from test_access import build_world, call, ok, unique

SYSTEM = json.dumps({"kind": "system", "user": "u-srs-test"})
W = [0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
     1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542]


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def card(w, who="learner", **body):
    return ok(w.t, "POST", "/api/v1/cards", w.tokens[who],
              dict({"front": "der Hund", "back": "the dog"}, **body), expect=(201,))


def review(w, cid, rating, who="learner", expect=(200,), **extra):
    return ok(w.t, "POST", "/api/v1/reviews", w.tokens[who],
              dict({"card_id": cid, "rating": rating}, **extra), expect=expect)


def init_d(r):
    return W[4] - math.exp(W[5] * (r - 1)) + 1


def test_cards_reviews_and_fsrs_numbers(tutord_factory):
    w = build_world(tutord_factory)
    c = card(w, deck="german")
    assert c["state"] == "learning" and c["step"] == 0 and c["stability"] is None
    assert c["deck"] == "german" and c["front"] == "der Hund" and c["last_review"] is None
    # Good at T: learning step 1, due in 10 minutes (py-fsrs test_good_learning_steps)
    t0 = time.time() - 3 * 86400
    r1 = review(w, c["id"], 3, reviewed_at=iso(t0), duration_ms=1200)
    k = r1["card"]
    assert r1["log_id"] and k["id"] == c["id"]
    assert k["state"] == "learning" and k["step"] == 1
    assert abs(k["stability"] - W[2]) < 1e-9
    assert abs(k["difficulty"] - min(10, max(1, init_d(3)))) < 1e-9
    assert abs(parse(k["due"]) - (t0 + 600)) < 0.01 and abs(parse(k["last_review"]) - t0) < 0.01
    # Good again 10 minutes later (same day): review state, S unchanged (sinc clamped to 1),
    # interval round(S) = 2 days, unfuzzed under 2.5 days (py-fsrs test_review_card: 0, 2, ...)
    r2 = review(w, c["id"], 3, reviewed_at=iso(t0 + 600))
    k = r2["card"]
    assert k["state"] == "review" and k["step"] is None
    assert abs(k["stability"] - W[2]) < 1e-9
    d2 = W[7] * init_d(4) + (1 - W[7]) * min(10, max(1, init_d(3)))
    assert abs(k["difficulty"] - d2) < 1e-9
    assert abs(parse(k["due"]) - (t0 + 600 + 2 * 86400)) < 0.01
    assert r2["log_id"] > r1["log_id"]
    # the card reads back as stored
    g = ok(w.t, "GET", "/api/v1/cards/%s" % c["id"], w.tokens["learner"])
    assert g["state"] == "review" and g["reps"] == 2 and g["due"] == k["due"]
    # preview: one next state per rating; intervals never shrink with a better rating
    p = ok(w.t, "GET", "/api/v1/cards/%s/preview" % c["id"], w.tokens["learner"])
    ivl = [p[r]["interval_ms"] for r in ("again", "hard", "good", "easy")]
    assert ivl == sorted(ivl) and p["again"]["state"] == "relearning", p
    assert 0 < p["retrievability"] <= 1
    # a review older than the last one: 409, nothing changes
    s, _, e = call(w.t, "POST", "/api/v1/reviews", w.tokens["learner"],
                   {"card_id": c["id"], "rating": 3, "reviewed_at": iso(t0 + 300)})
    assert s == 409 and e["error"]["code"] == "conflict" and e["error"]["field"] == "reviewed_at"
    assert ok(w.t, "GET", "/api/v1/cards/%s" % c["id"], w.tokens["learner"])["reps"] == 2


def test_other_learners_cards_and_bad_input(tutord_factory):
    w = build_world(tutord_factory)
    c = card(w)
    tok2 = w.tokens["admin_a"]                     # another user (an admin of the same org)
    for method, path, body in [("GET", "/api/v1/cards/%s" % c["id"], None),
                               ("GET", "/api/v1/cards/%s/preview" % c["id"], None),
                               ("POST", "/api/v1/cards/%s/undo" % c["id"], None),
                               ("POST", "/api/v1/reviews", {"card_id": c["id"], "rating": 3}),
                               ("GET", "/api/v1/cards/not-a-uuid", None),
                               ("POST", "/api/v1/reviews", {"card_id": "nope", "rating": 3})]:
        s, _, e = call(w.t, method, path, tok2, body)
        assert s == 404 and e["error"]["code"] == "not_found", (path, s, e)
    assert c["id"] not in [i["id"] for i in ok(w.t, "GET", "/api/v1/reviews/due", tok2)["items"]]
    future = iso(time.time() + 3600)
    tok = w.tokens["learner"]
    for body, field in [
        ({"card_id": c["id"], "rating": 0}, "rating"),
        ({"card_id": c["id"], "rating": 5}, "rating"),
        ({"card_id": c["id"], "rating": "3"}, "rating"),
        ({"card_id": c["id"], "rating": 2.5}, "rating"),
        ({"card_id": c["id"]}, "rating"),
        ({"rating": 3}, "card_id"),
        ({"card_id": 7, "rating": 3}, "card_id"),
        ({"card_id": c["id"], "rating": 3, "reviewed_at": "yesterday"}, "reviewed_at"),
        ({"card_id": c["id"], "rating": 3, "reviewed_at": "2026-02-30T10:00:00Z"}, "reviewed_at"),
        ({"card_id": c["id"], "rating": 3, "reviewed_at": future}, "reviewed_at"),
        ({"card_id": c["id"], "rating": 3, "reviewed_at": 1700000000}, "reviewed_at"),
        ({"card_id": c["id"], "rating": 3, "duration_ms": -1}, "duration_ms"),
        ({"card_id": c["id"], "rating": 3, "duration_ms": "fast"}, "duration_ms"),
        ({"card_id": c["id"], "rating": 3, "client_review_id": "x" * 129}, "client_review_id"),
        ({"card_id": c["id"], "rating": 3, "client_review_id": ""}, "client_review_id"),
        ({"card_id": c["id"], "rating": 3, "mood": "happy"}, "mood"),
    ]:
        s, _, e = call(w.t, "POST", "/api/v1/reviews", tok, body)
        assert s == 400 and e["error"]["code"] == "invalid_input", (body, s, e)
        assert e["error"]["field"] == field, (body, e)
    for body, field in [({"front": "", "back": "b"}, "front"), ({"front": "  ", "back": "b"}, "front"),
                        ({"front": "a", "back": "x" * 16385}, "back"),
                        ({"front": "a", "back": "b", "deck": ""}, "deck"),
                        ({"front": "a", "back": "b", "deck": "d" * 101}, "deck"),
                        ({"front": "a", "back": "b", "extra": 1}, "extra")]:
        s, _, e = call(w.t, "POST", "/api/v1/cards", tok, body)
        assert s == 400 and e["error"]["field"] == field, (body, s, e)
    s, _, e = call(w.t, "POST", "/api/v1/cards", tok, raw="[1,2]")
    assert s == 400, (s, e)
    for q, field in [("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
                     ("deck=", "deck")]:
        s, _, e = call(w.t, "GET", "/api/v1/reviews/due?" + q, tok)
        assert s == 400 and e["error"]["field"] == field, (q, s, e)
    assert ok(w.t, "GET", "/api/v1/cards/%s" % c["id"], tok)["reps"] == 0   # nothing applied
    assert w.t.get("/health")[0] == 200


def test_offline_sync_idempotent_late_out_of_order(tutord_factory):
    w = build_world(tutord_factory)
    c = card(w)
    base = time.time() - 10 * 86400
    # late: a review made ten days ago arrives now and counts at its own time
    a = review(w, c["id"], 4, reviewed_at=iso(base), client_review_id="dev1-1")
    assert a["card"]["state"] == "review" and abs(parse(a["card"]["last_review"]) - base) < 0.01
    # twice with the same client_review_id: the first result, applied once
    b = review(w, c["id"], 4, reviewed_at=iso(base), client_review_id="dev1-1")
    assert b["log_id"] == a["log_id"] and b["card"]["due"] == a["card"]["due"]
    assert b["card"]["stability"] == a["card"]["stability"] and b.get("replayed") is True
    assert ok(w.t, "GET", "/api/v1/cards/%s" % c["id"], w.tokens["learner"])["reps"] == 1
    # the same id for another card is a conflict, not a silent replay
    c2 = card(w)
    s, _, e = call(w.t, "POST", "/api/v1/reviews", w.tokens["learner"],
                   {"card_id": c2["id"], "rating": 3, "client_review_id": "dev1-1"})
    assert s == 409 and e["error"]["field"] == "client_review_id"
    # another learner may use the same client_review_id for their own card
    c3 = card(w, who="mentor")
    review(w, c3["id"], 3, who="mentor", client_review_id="dev1-1")
    # out of order: a later review first, then an earlier one -> 409; the later stands
    review(w, c["id"], 3, reviewed_at=iso(base + 5 * 86400), client_review_id="dev1-3")
    s, _, e = call(w.t, "POST", "/api/v1/reviews", w.tokens["learner"],
                   {"card_id": c["id"], "rating": 1, "reviewed_at": iso(base + 2 * 86400),
                    "client_review_id": "dev1-2"})
    assert s == 409 and e["error"]["field"] == "reviewed_at"
    g = ok(w.t, "GET", "/api/v1/cards/%s" % c["id"], w.tokens["learner"])
    assert g["reps"] == 2 and abs(parse(g["last_review"]) - (base + 5 * 86400)) < 0.01
    # the replay of an earlier id still answers its first result, even after later reviews
    again = review(w, c["id"], 4, client_review_id="dev1-1")
    assert again["log_id"] == a["log_id"]
    # fuzz is reproducible: the same review of the same card state lands on the same day
    d1 = card(w)
    x = review(w, d1["id"], 4, reviewed_at=iso(base))
    undone = ok(w.t, "POST", "/api/v1/cards/%s/undo" % d1["id"], w.tokens["learner"])
    assert undone["state"] == "learning" and undone["reps"] == 0 and undone["stability"] is None
    y = review(w, d1["id"], 4, reviewed_at=iso(base))
    assert x["card"]["due"] == y["card"]["due"] and y["log_id"] != x["log_id"]


def test_undo(tutord_factory):
    w = build_world(tutord_factory)
    c = card(w)
    tok = w.tokens["learner"]
    s, _, e = call(w.t, "POST", "/api/v1/cards/%s/undo" % c["id"], tok)
    assert s == 409 and e["error"]["code"] == "conflict"
    r1 = review(w, c["id"], 3)["card"]
    review(w, c["id"], 1)
    u = ok(w.t, "POST", "/api/v1/cards/%s/undo" % c["id"], tok)
    for key in ["state", "step", "stability", "difficulty", "due", "last_review", "reps"]:
        if key != "reps":
            assert u[key] == r1[key], (key, u, r1)
    assert u["reps"] == 1
    u = ok(w.t, "POST", "/api/v1/cards/%s/undo" % c["id"], tok)
    assert u["reps"] == 0 and u["state"] == "learning" and u["last_review"] is None
    s, _, e = call(w.t, "POST", "/api/v1/cards/%s/undo" % c["id"], tok)
    assert s == 409


def test_due_queue_limits_and_siblings(tutord_factory):
    w = build_world(tutord_factory)
    tok = w.tokens["learner2"]
    deck = unique("deck")
    ok(w.t, "PUT", "/api/v1/me/srs-settings", tok, {"new_per_day": 2})
    ids = [ok(w.t, "POST", "/api/v1/cards", tok, {"front": "f%d" % i, "back": "b", "deck": deck},
              expect=(201,))["id"] for i in range(3)]
    due = ok(w.t, "GET", "/api/v1/reviews/due?deck=" + deck, tok)
    assert [i["id"] for i in due["items"]] == ids[:2] and due["next_cursor"] is None
    assert ok(w.t, "GET", "/api/v1/reviews/due?deck=" + deck + "&limit=1", tok)["items"][0]["id"] == ids[0]
    # one new card started today: one new card left in today's queue
    review(w, ids[0], 3, who="learner2")
    due = ok(w.t, "GET", "/api/v1/reviews/due?deck=" + deck, tok)
    assert [i["id"] for i in due["items"]] == [ids[1]]
    # a learned card that is due comes before new ones (older due); order by due then R
    review(w, ids[1], 1, who="learner2", reviewed_at=iso(time.time() - 3600))   # due 1 min later
    due = ok(w.t, "GET", "/api/v1/reviews/due?deck=" + deck, tok)
    assert [i["id"] for i in due["items"]] == [ids[1]], due       # the limit of 2 is reached
    # siblings from a catalog vocabulary item: word -> translation and back, never the same day
    item = {"id": unique("item"), "kind": "vocabulary", "title": "Katze",
            "content": {"word": "Katze", "article": "die", "translation": "cat"}}
    body = {"user_id": w.ids["learner2"], "deck": deck + "-v", "item": item}
    res = w.t.tutorctl("call", "--auth", SYSTEM, "srs", "cards.from_item", json.dumps(body))
    out = json.loads(res.stdout)
    made = out.get("body", out)
    assert made["created"] == 2, (res.stdout, res.stderr)
    fronts = sorted(c["front"] for c in made["items"])
    assert fronts == ["cat", "die Katze"]
    again = json.loads(w.t.tutorctl("call", "--auth", SYSTEM, "srs", "cards.from_item",
                                    json.dumps(body)).stdout)
    assert again.get("body", again)["created"] == 0            # idempotent
    ok(w.t, "PUT", "/api/v1/me/srs-settings", tok, {"new_per_day": 10})
    due = ok(w.t, "GET", "/api/v1/reviews/due?deck=" + deck + "-v", tok)
    assert len(due["items"]) == 1                              # one of the two siblings
    review(w, due["items"][0]["id"], 3, who="learner2")
    assert ok(w.t, "GET", "/api/v1/reviews/due?deck=" + deck + "-v", tok)["items"] == []
    # only system may make cards from items
    res = w.t.tutorctl("call", "--auth", json.dumps({"kind": "user", "user": "u1", "orgs": []}),
                       "srs", "cards.from_item", json.dumps(body))
    assert "403" in res.stdout + res.stderr or "forbidden" in res.stdout + res.stderr
    for bad, field in [({"user_id": "u1", "item": {"id": "i", "kind": "video"}}, "item.kind"),
                       ({"user_id": "u1", "item": {"id": "i", "kind": "vocabulary",
                                                   "content": {"word": "x"}}}, "item.content"),
                       ({"item": {"id": "i", "kind": "grammar"}}, "user_id")]:
        res = w.t.tutorctl("call", "--auth", SYSTEM, "srs", "cards.from_item", json.dumps(bad))
        assert field in res.stdout + res.stderr, (bad, res.stdout, res.stderr)


def test_load_balancing_spreads_fuzzed_days(tutord_factory):
    """40 new cards answered Easy at one instant: S = w3 = 8.2956, interval 8 days, fuzz range
    6..10 days. Fuzz alone would clump them at random; load balancing puts each on the lightest
    day of its range, so the five days end up with exactly 8 cards each."""
    w = build_world(tutord_factory)
    tok = w.tokens["learner2"]
    t0 = time.time() - 3600
    days = {}
    for i in range(40):
        c = ok(w.t, "POST", "/api/v1/cards", tok, {"front": "w%d" % i, "back": "b"}, expect=(201,))
        k = review(w, c["id"], 4, who="learner2", reviewed_at=iso(t0))["card"]
        assert k["state"] == "review" and abs(k["stability"] - W[3]) < 1e-9
        d = round((parse(k["due"]) - t0) / 86400)
        days[d] = days.get(d, 0) + 1
    assert sorted(days) == [6, 7, 8, 9, 10], days
    assert set(days.values()) == {8}, days


def test_optimizer_fits_the_learners_weights(tutord_factory, harness):
    """Below 512 scored reviews nothing is fitted (py-fsrs's threshold); with a log of a learner
    who forgets faster than the defaults predict, the fit lowers the log loss on that log, the
    weights are stored and used for the next reviews (weights_fitted)."""
    w = build_world(tutord_factory)
    tok = w.tokens["learner"]
    r = ok(w.t, "POST", "/api/v1/me/srs-settings/optimize", tok)
    assert r["fitted"] is False and r["reviews"] == 0 and r["needed"] == 512
    # the log: 80 cards x 9 reviews, days apart, recalled with a probability from a fast-
    # forgetting learner (written straight into the test database: 720 REST calls would only
    # test the same path as the other tests, slowly)
    import random
    import subprocess
    rng = random.Random(7)
    ids = [card(w)["id"] for _ in range(80)]
    rows = []
    t = time.time() - 400 * 86400
    for cid in ids:
        s, ts = 0.7, t
        for k in range(9):
            if k == 0:
                rating = 3
            else:
                r_true = (1 + 19 / 81 * gap / s) ** -0.5
                rating = 3 if rng.random() < r_true else 1
                s = s * (2.2 if rating == 3 else 0.4) + 0.3
            rows.append("('%s','%s',%d,to_timestamp(%f),-1,1,0,0,0,now(),0,0,1,0,0,0,now())"
                        % (cid, w.ids["learner"], rating, ts))
            gap = max(1, int(s * rng.uniform(0.8, 3.0)))
            ts += gap * 86400
    sql = ("INSERT INTO srs_reviews (card_id, user_id, rating, reviewed_at, elapsed_days,"
           " prev_state, prev_step, prev_stability, prev_difficulty, prev_due, prev_reps,"
           " prev_lapses, state, step, stability, difficulty, due) VALUES " + ",".join(rows))
    import os
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", os.environ["TUTORD_TEST_DB"],
                    "-c", sql], check=True, capture_output=True)
    before = ok(w.t, "GET", "/api/v1/me/srs-settings", tok)
    assert before["weights_fitted"] is False
    r = ok(w.t, "POST", "/api/v1/me/srs-settings/optimize", tok)
    assert r["fitted"] is True and r["reviews"] >= 512, r
    print("optimizer: %d reviews, log loss %.4f -> %.4f, rmse %.4f -> %.4f"
          % (r["reviews"], r["log_loss_before"], r["log_loss_after"], r["rmse_before"],
             r["rmse_after"]))
    assert r["log_loss_after"] < r["log_loss_before"], r
    assert 0 <= r["rmse_after"] < 1 and len(r["weights"]) == 21
    after = ok(w.t, "GET", "/api/v1/me/srs-settings", tok)
    assert after["weights_fitted"] is True and after["weights"] == r["weights"]
    # the fitted weights schedule the next review: a new card's first Good takes w[2]
    c = card(w)
    k = review(w, c["id"], 3)["card"]
    assert abs(k["stability"] - r["weights"][2]) < 1e-9
    # nobody else's weights changed
    other = ok(w.t, "GET", "/api/v1/me/srs-settings", w.tokens["mentor"])
    assert other["weights_fitted"] is False and other["weights"] == W


def test_settings(tutord_factory):
    w = build_world(tutord_factory)
    tok = w.tokens["learner"]
    s = ok(w.t, "GET", "/api/v1/me/srs-settings", tok)
    assert s["desired_retention"] == 0.9 and s["learning_steps"] == [60, 600]
    assert s["relearning_steps"] == [600] and s["maximum_interval"] == 36500
    assert s["enable_fuzzing"] is True and s["timezone"] == "UTC" and len(s["weights"]) == 21
    s = ok(w.t, "PUT", "/api/v1/me/srs-settings", tok,
           {"desired_retention": 0.85, "learning_steps": [], "timezone": "Europe/Berlin"})
    assert s["desired_retention"] == 0.85 and s["learning_steps"] == [] and s["new_per_day"] == 20
    assert ok(w.t, "GET", "/api/v1/me/srs-settings", tok)["timezone"] == "Europe/Berlin"
    # no learning steps: a first Good goes straight to review (py-fsrs test_no_learning_steps)
    c = card(w)
    assert review(w, c["id"], 3)["card"]["state"] == "review"
    for body, field in [({"desired_retention": 1.0}, "desired_retention"),
                        ({"desired_retention": "high"}, "desired_retention"),
                        ({"learning_steps": [0]}, "learning_steps"),
                        ({"learning_steps": "60"}, "learning_steps"),
                        ({"relearning_steps": [1] * 9}, "relearning_steps"),
                        ({"maximum_interval": 0}, "maximum_interval"),
                        ({"maximum_interval": 40000}, "maximum_interval"),
                        ({"enable_fuzzing": "yes"}, "enable_fuzzing"),
                        ({"new_per_day": -1}, "new_per_day"),
                        ({"timezone": "Mars/Olympus"}, "timezone"),
                        ({"timezone": 5}, "timezone"),
                        ({"colour": "blue"}, "colour")]:
        s, _, e = call(w.t, "PUT", "/api/v1/me/srs-settings", tok, body)
        assert s == 400 and e["error"]["field"] == field, (body, s, e)
    assert ok(w.t, "GET", "/api/v1/me/srs-settings", tok)["desired_retention"] == 0.85


async def _recv_events(ws, got, until, timeout):
    end = time.monotonic() + timeout
    while not until() and time.monotonic() < end:
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.05, end - time.monotonic())))
        except asyncio.TimeoutError:
            return
        if frame.get("op") == "event":
            got.append(frame["event"])


def test_events_reviewed_and_morning_due(tutord_factory):
    w = build_world(tutord_factory)
    tok = w.tokens["learner"]
    me = w.ids["learner"]

    def notify():
        res = w.t.tutorctl("call", "--auth", SYSTEM, "srs", "due.notify", "{}")
        assert "notified" in res.stdout, (res.stdout, res.stderr)

    async def session():
        got = []
        async with websockets.connect("ws://%s/ws?token=%s" % (w.t.http, tok)) as ws:
            await ws.send(json.dumps({"op": "subscribe", "topics": ["srs."]}))
            while json.loads(await ws.recv()).get("op") != "subscribed":
                pass
            # events are best effort while a subscription propagates: review fresh cards until
            # one srs.reviewed arrives, then the stream is known to be live
            reviewed = lambda: [e for e in got if e["type"] == "srs.reviewed"]
            cards = []
            end = time.monotonic() + 20
            while not reviewed():
                assert time.monotonic() < end, "no srs.reviewed event"
                c = card(w)
                cards.append(c["id"])
                await asyncio.get_running_loop().run_in_executor(None, review, w, c["id"], 3)
                await _recv_events(ws, got, reviewed, 0.5)
            ev = reviewed()[0]
            assert ev["user"] == me and ev["subject"] in cards
            assert ev["data"]["card_id"] == ev["subject"] and ev["data"]["rating"] == 3
            assert ev["data"]["state"] == "learning" and ev["data"]["log_id"]
            # the morning notice, in a timezone where it is now about noon, for a learner with
            # a due card (the minute tick may send it first: either way exactly one)
            hour = datetime.datetime.now(datetime.timezone.utc).hour
            offset = (12 - hour + 12) % 24 - 12                        # UTC-12 .. UTC+11
            tz = "Etc/GMT" if offset == 0 else "Etc/GMT%+d" % -offset   # Etc/GMT-5 is UTC+5
            ok(w.t, "PUT", "/api/v1/me/srs-settings", tok, {"timezone": tz})
            card(w)                                                   # new: due now
            due = lambda: [e for e in got if e["type"] == "srs.due"]
            await asyncio.get_running_loop().run_in_executor(None, notify)
            await _recv_events(ws, got, due, 10)
            assert len(due()) == 1, got
            assert due()[0]["user"] == me and due()[0]["data"]["due"] >= 1
            # once a local day: another run sends nothing more to this learner
            await asyncio.get_running_loop().run_in_executor(None, notify)
            await _recv_events(ws, got, lambda: len(due()) > 1, 3)
            assert len(due()) == 1, got
    asyncio.run(session())


def test_actor_killed_mid_run_loses_nothing(tutord_factory):
    """fault.exit ends the srs actor in the middle of a stream of reviews; the supervisor restarts
    it. Reviews that failed are retried with their client_review_id: every one is applied exactly
    once (the card's reps equals the number of distinct reviews, log ids are distinct)."""
    w = build_world(tutord_factory)
    c = card(w)
    base = time.time() - 86400
    logs = {}
    failures = 0
    for i in range(24):
        if i == 8:
            s, _, d = w.t.request("POST", "/api/v1/_call/srs/fault.exit", body={})
            assert s == 202, d
        body = {"card_id": c["id"], "rating": 3, "reviewed_at": iso(base + i * 60),
                "client_review_id": "k-%d" % i}
        end = time.monotonic() + 30
        while True:
            s, h, b = call(w.t, "POST", "/api/v1/reviews", w.tokens["learner"], body)
            if s == 200:
                break
            assert s in (503, 504), (s, b)                  # unavailable while it restarts
            failures += 1
            assert time.monotonic() < end, "srs did not come back"
            time.sleep(0.2)
        logs[i] = b["log_id"]
    assert len(set(logs.values())) == 24
    g = ok(w.t, "GET", "/api/v1/cards/%s" % c["id"], w.tokens["learner"])
    assert g["reps"] == 24 and abs(parse(g["last_review"]) - (base + 23 * 60)) < 0.01
    # it really was killed: with several srs actors (TUTORD_SRS_WORKERS) the others served the
    # reviews meanwhile, so the restart may come after the last review
    restarted = re.compile(r'^tutord_actor_restarts_total\{actor="srs"\} [1-9]', re.M)
    assert conftest.wait_for(lambda: restarted.search(w.t.request("GET", "/metrics")[2].decode()), 15)
    assert conftest.wait_for(lambda: w.t.get("/health")[2]["actors"]["srs"] == "up", 15)
