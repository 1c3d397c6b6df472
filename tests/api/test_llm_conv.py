"""Conversation practice (issue 7 point 4) and the per-org usage webhook (issue 7 point 2).

Why: a learner turn's analysis is a model's JSON, i.e. hostile input that ends up stored and shown;
what matters is that only an analysis that passes prompts/analysis.schema.json is ever stored, that
everything else is recorded as "unavailable" without harming the turn, that the offline rules give
a useful and honest answer, and that turning words into cards through srs happens exactly once.
Each test scripts the fake upstream (fake_llm.py; the analysis request is told apart by its prompt)
and reads llm.analysis from the event plane, then the stored history (on test_llm.py's server,
its env fixture). The webhook tests post the daily summary of orgs with their own, the global
and a failing receiver. The server is stopped with the sanitizer check at the end, so a leak in
any of these paths fails the module.
"""

import json
import time

import pytest

import conftest
from fake_llm import STREAMS
from test_llm import Events, Org, call, env, lesson, ok  # noqa: F401 (env: the fixture)
from test_practice import psql

ANALYSIS_MARK = "You analyse one turn written by a language learner"


def conversation_course(env, org):
    """A public course of org with three nouns, a verb and a conversation material (level A2)."""
    t = env.t
    c, l = lesson(env, org, "Deutsch")
    vocab = {}
    for slug, word, article, gender, plural, tr in [
            ("hund", "Hund", "der", "m", "die Hunde", "dog"),
            ("katze", "Katze", "die", "f", "die Katzen", "cat"),
            ("haus", "Haus", "das", "n", "die Häuser", "house")]:
        vocab[word] = ok(t, "POST", "/api/v1/lessons/%s/items" % l["id"], org.admin, {
            "slug": slug, "kind": "vocabulary", "title": "%s %s" % (article, word), "content": {
                "word": word, "article": article, "gender": gender, "plural": plural,
                "translation": tr, "example": "", "example_translation": ""}})["id"]
    mat = ok(t, "POST", "/api/v1/lessons/%s/items" % l["id"], org.admin, {
        "slug": "talk", "kind": "material", "title": "At the vet", "content": {
            "blocks": [{"type": "markdown", "text": "Talk to the vet."}],
            "conversation": {"scenario": "A visit to the vet with your pet.",
                             "role": "the vet", "goals": ["describe your pet", "ask about food"],
                             "level": "A2"}}})["id"]
    ok(t, "POST", "/api/v1/courses/%s/publish" % c["id"], org.admin)
    return mat, vocab


def analysed_turn(env, org, sid, text):
    """Post a turn; the llm.analysis of it and the turn's llm.done."""
    plane = Events(env)
    try:
        s, _, ack = call(env.t, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, org.learner,
                         {"text": text})
        assert s == 202, (s, ack)
        an = plane.wait(lambda e: e["type"] == "llm.analysis" and e["data"].get("session_id") == sid)
        done = plane.wait(lambda e: e["type"] == "llm.done"
                          and e["data"].get("message_id") == ack["message_id"])
    finally:
        plane.close()
    assert an["user"] == org.learner_id and an["org"] == org.id and an["subject"] == sid
    return an["data"], done["data"]


def stored(env, org, sid, message_id):
    h = ok(env.t, "GET", "/api/v1/tutor/sessions/%s" % sid, org.learner)
    m = [m for m in h["messages"] if m["id"] == message_id]
    assert len(m) == 1 and m[0]["role"] == "user", h
    return m[0]["analysis"]


# -- offline: the rules, and words becoming cards -------------------------------------------------

def test_offline_analysis_and_cards(env):
    org = Org(env, "offline")
    mat, vocab = conversation_course(env, org)
    sid = org.session("conversation", item_id=mat)
    an, done = analysed_turn(env, org, sid, "Guten Tag! Ich habe die Hund und ein Haus.")
    assert done["ok"]
    a = an["analysis"]
    assert a["status"] == "done" and a["offline"] is True and a["provider"] == "offline"
    r = a["result"]
    assert r["grammar_errors"] == [{"text": "die Hund", "correction": "der Hund",
                                    "explanation": r["grammar_errors"][0]["explanation"]}]
    assert "masculine" in r["grammar_errors"][0]["explanation"]
    assert [(v["lemma"], v["article"], v["translation"], v["known"], v["item_id"])
            for v in r["vocabulary"]] == [("Hund", "der", "dog", False, vocab["Hund"]),
                                          ("Haus", "das", "house", False, vocab["Haus"])]
    assert r["level"] == "A2" and "offline" in r["note"]
    # stored with the learner's message, returned by GET
    assert stored(env, org, sid, an["message_id"]) == a

    # words become cards: a course entry through cards.from_item (two siblings), another word as a
    # plain card; then again: nothing new, the same cards
    path = "/api/v1/tutor/sessions/%s/cards" % sid
    b = ok(env.t, "POST", path, org.learner,
           {"words": ["Hund", "hunde", {"word": "Tierarzt", "translation": "vet"}]}, expect=(201,))
    assert b["created"] == 2 and len(b["items"]) == 2        # "hunde" is Hund's plural: one entry
    by = {i["word"]: i for i in b["items"]}
    assert by["Hund"]["item_id"] == vocab["Hund"] and len(by["Hund"]["card_ids"]) == 2
    assert by["Tierarzt"]["item_id"] is None and len(by["Tierarzt"]["card_ids"]) == 1
    card = ok(env.t, "GET", "/api/v1/cards/%s" % by["Tierarzt"]["card_ids"][0], org.learner)
    assert card["front"] == "Tierarzt" and card["back"] == "vet"
    for cid in by["Hund"]["card_ids"]:
        ok(env.t, "GET", "/api/v1/cards/%s" % cid, org.learner)
    again = ok(env.t, "POST", path, org.learner,
               {"words": ["HUND", {"word": "tierarzt", "translation": "vet"}]}, expect=(200,))
    assert again["created"] == 0
    assert sorted(c for i in again["items"] for c in i["card_ids"]) == \
        sorted(c for i in b["items"] for c in i["card_ids"])
    # the next turn knows Hund now
    an2, _ = analysed_turn(env, org, sid, "Der Hund frisst viel.")
    assert [(v["lemma"], v["known"]) for v in an2["analysis"]["result"]["vocabulary"]] == [("Hund", True)]
    assert an2["analysis"]["result"]["grammar_errors"] == []
    # a word that is not in the course and has no translation known; bad shapes
    for bad in [{"words": ["Zebra"]}, {"words": []}, {"words": ["x" * 101]},
                {"words": [{"word": "a", "translation": 3}]}, {"words": [{"word": "a", "extra": 1}]},
                {"words": ["a\u0001b"]}, {"words": ["w%d" % i for i in range(51)]}, {}]:
        s, _, e = call(env.t, "POST", path, org.learner, bad)
        assert s == 400 and e["error"]["field"] in ("words", "body"), (bad, s, e)
    # another learner's session is not theirs to know
    other = Org(env, "offline")
    s, _, _ = call(env.t, "POST", path, other.learner, {"words": ["Hund"]})
    assert s == 404


def test_cards_claims_and_srs_faults(env):
    """The claim that makes cards once: a claim left by a crash is taken over; one in flight is
    not (503, nothing made); srs killed right before the request: whatever it answers, asking
    until it succeeds ends with each word's cards made once."""
    org = Org(env, "offline")
    mat, vocab = conversation_course(env, org)
    sid = org.session("conversation", item_id=mat)
    path = "/api/v1/tutor/sessions/%s/cards" % sid
    psql("INSERT INTO llm_word_cards (user_id, word, done, created_at) VALUES"
         " ('%s', 'katze', false, now () - interval '5 minutes'),"
         " ('%s', 'haus', false, now ())" % (org.learner_id, org.learner_id))
    b = ok(env.t, "POST", path, org.learner, {"words": ["Katze"]}, expect=(201,))
    assert b["created"] == 1 and len(b["items"][0]["card_ids"]) == 2
    s, _, e = call(env.t, "POST", path, org.learner, {"words": ["Haus"]})
    assert s == 503 and "Haus" in e["error"]["message"], (s, e)
    assert psql("SELECT done::text || jsonb_array_length (card_ids) FROM llm_word_cards"
                " WHERE user_id = '%s' AND word = 'haus'" % org.learner_id) == "false0"
    # srs killed: a failure releases the claim, so asking again completes the word
    st, _, d = env.t.request("POST", "/api/v1/_call/srs/fault.exit", body={})
    assert st == 202, d
    statuses, end = [], time.monotonic() + 30
    while time.monotonic() < end:
        s, _, b = call(env.t, "POST", path, org.learner,
                       {"words": ["Hund", {"word": "Napf", "translation": "bowl"}]})
        statuses.append(s)
        if s in (200, 201):
            break
        assert s == 503, (s, b)
        time.sleep(0.3)
    assert statuses[-1] in (200, 201), statuses
    again = ok(env.t, "POST", path, org.learner, {"words": ["Hund", "Napf"]}, expect=(200,))
    ids = sorted(c for i in again["items"] for c in i["card_ids"])
    assert len(ids) == 3 and ids == sorted(c for i in b["items"] for c in i["card_ids"])
    assert psql("SELECT count (*) FROM llm_word_cards WHERE user_id = '%s' AND done"
                % org.learner_id) == "3"


def test_turns_outside_conversation_are_not_analysed(env):
    org = Org(env, "offline")
    sid = org.session("tutor")
    plane = Events(env)
    try:
        s, _, ack = call(env.t, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, org.learner,
                         {"text": "die Hund"})
        assert s == 202
        plane.wait(lambda e: e["type"] == "llm.done" and e["data"].get("message_id") == ack["message_id"])
        time.sleep(0.3)
        assert not [e for e in plane.seen if e["type"] == "llm.analysis"]
    finally:
        plane.close()
    h = ok(env.t, "GET", "/api/v1/tutor/sessions/%s" % sid, org.learner)
    assert all(m["analysis"] is None for m in h["messages"])


# -- with a model: a second, non-streamed call per turn -------------------------------------------

def _analysis_stream(obj_or_text, prompt=40, completion=25):
    text = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text)
    cut = len(text) // 3
    return {"events": STREAMS["openai"]([text[:cut], text[cut:2 * cut], text[2 * cut:]],
                                        prompt=prompt, completion=completion)}


def test_model_analysis_valid(env):
    org = Org(env, "openai")
    mat, vocab = conversation_course(env, org)
    sid = org.session("conversation", item_id=mat)
    env.fake.script_matching(org.model, ANALYSIS_MARK, _analysis_stream({
        "grammar_errors": [{"text": "die Hund", "correction": "der Hund",
                            "explanation": "Hund is masculine."}],
        "vocabulary": [{"word": "Hund", "lemma": "Hund", "translation": "dog", "article": "der",
                        "known": True},
                       {"word": "gefüttert", "lemma": "füttern", "translation": "to feed",
                        "article": None, "known": True}],
        "level": "A2"}))
    env.fake.script(org.model, {"events": STREAMS["openai"](["Gut!"], prompt=11, completion=2)})
    an, done = analysed_turn(env, org, sid, "Ich habe die Hund gefüttert.")
    assert done["ok"] and done["usage"] == {"prompt_tokens": 11, "completion_tokens": 2}
    a = an["analysis"]
    assert a["status"] == "done" and a["offline"] is False and a["model"] == org.model
    assert a["usage"] == {"prompt_tokens": 40, "completion_tokens": 25}
    # known and item_id are ours, not the model's: no card yet, Hund is a course entry
    v = a["result"]["vocabulary"]
    assert v[0]["known"] is False and v[0]["item_id"] == vocab["Hund"]
    assert v[1]["known"] is False and "item_id" not in v[1]
    assert a["result"]["grammar_errors"][0]["correction"] == "der Hund"
    assert stored(env, org, sid, an["message_id"]) == a
    # the analysis request: the analysis prompt with the scenario, the learner's turn, no stream
    # to anyone; the turn's own request is the tutor's
    reqs = env.fake.requests_for(org.model)
    ar = [r for r in reqs if ANALYSIS_MARK in r["body"]["messages"][0]["content"]]
    tr = [r for r in reqs if ANALYSIS_MARK not in r["body"]["messages"][0]["content"]]
    assert len(ar) == 1 and len(tr) == 1
    assert "A visit to the vet" in ar[0]["body"]["messages"][0]["content"]
    assert ar[0]["body"]["messages"][-1] == {"role": "user", "content": "Ich habe die Hund gefüttert."}
    assert "A visit to the vet" in tr[0]["body"]["messages"][0]["content"]   # the tutor's scenario
    # its own usage: the org's usage counts both calls, to the token
    u = ok(env.t, "GET", "/api/v1/orgs/%s/usage" % org.id, org.admin)
    assert u["totals"]["prompt_tokens"] == 51 and u["totals"]["completion_tokens"] == 27
    assert u["totals"]["requests"] == 2
    # the words the model found can become cards; its translation is used for a non-course word
    b = ok(env.t, "POST", "/api/v1/tutor/sessions/%s/cards" % sid, org.learner,
           {"words": ["füttern"]}, expect=(201,))
    card = ok(env.t, "GET", "/api/v1/cards/%s" % b["items"][0]["card_ids"][0], org.learner)
    assert card["back"] == "to feed"


@pytest.mark.parametrize("answer,why", [
    ({"grammar_errors": [], "vocabulary": [], "level": "Z9"}, "level"),
    ({"grammar_errors": [], "vocabulary": [], "level": "B1", "password": "x"}, "password"),
    ({"grammar_errors": [{"text": "a"}], "vocabulary": [], "level": "B1"}, "correction"),
    ({"grammar_errors": [], "vocabulary": [{"word": "a", "lemma": "a"}], "level": "B1"}, "translation"),
    ({"grammar_errors": "none", "vocabulary": [], "level": "B1"}, "grammar_errors"),
])
def test_model_analysis_failing_the_schema_is_not_stored(env, answer, why):
    org = Org(env, "openai")
    mat, _ = conversation_course(env, org)
    sid = org.session("conversation", item_id=mat)
    env.fake.script_matching(org.model, ANALYSIS_MARK, _analysis_stream(answer))
    an, done = analysed_turn(env, org, sid, "Hallo")
    assert done["ok"]                       # the turn is not harmed
    a = an["analysis"]
    assert a["status"] == "unavailable" and "result" not in a and why in a["reason"], a
    assert a["usage"] == {"prompt_tokens": 40, "completion_tokens": 25}   # still accounted
    assert stored(env, org, sid, an["message_id"]) == a     # nothing of the answer is kept


@pytest.mark.parametrize("spec,why", [
    (_analysis_stream("I think the learner did well!"), "no JSON object"),
    (_analysis_stream('{"grammar_errors": [, "level": "A1"}'), "does not parse"),
    ({"events": ["data: {\"choices\": 17}\n\n"]}, "malformed"),
    ({"status": 429, "body": {"error": {"type": "insufficient_quota", "message": "quota"}}}, "quota"),
    ({"events": STREAMS["openai"](["{\"grammar_errors\": ["] * 3), "drop_after": 2}, "dropped"),
])
def test_model_analysis_malformed(env, spec, why):
    org = Org(env, "openai")
    mat, _ = conversation_course(env, org)
    sid = org.session("conversation", item_id=mat)
    env.fake.script_matching(org.model, ANALYSIS_MARK, spec)
    an, done = analysed_turn(env, org, sid, "Hallo")
    assert done["ok"]
    a = an["analysis"]
    assert a["status"] == "unavailable" and why in a["reason"], a
    assert stored(env, org, sid, an["message_id"]) == a
    # the actor still serves: the next turn is analysed
    env.fake.script_matching(org.model, ANALYSIS_MARK, _analysis_stream(
        {"grammar_errors": [], "vocabulary": [], "level": "A1"}))
    an, _ = analysed_turn(env, org, sid, "Noch einmal")
    assert an["analysis"]["status"] == "done"


def test_model_analysis_over_budget_is_unavailable(env):
    org = Org(env, "openai", monthly_token_budget=0)
    mat, _ = conversation_course(env, org)
    sid = org.session("conversation", item_id=mat)
    s, _, e = call(env.t, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, org.learner,
                   {"text": "Hallo"})
    assert s == 429 and e["error"]["code"] == "budget_exceeded"   # the turn itself is refused first
    assert not [r for r in env.fake.requests_for(org.model)]


# -- the per-org usage webhook (point 2) -----------------------------------------------------------

def test_org_webhook_validation(env):
    org = Org(env, "offline")
    path = "/api/v1/orgs/%s/llm" % org.id
    for bad in ["ftp://example.org/x", "http://", "https:///path", "http://user:pw@host/x",
                "http://exa mple.org", "http://h/" + "x" * 500, 7, ["http://h"]]:
        s, _, e = call(env.t, "PUT", path, org.admin, {"provider": "offline", "webhook_url": bad})
        assert s == 400 and e["error"]["field"] == "webhook_url", (bad, s, e)
    b = ok(env.t, "PUT", path, org.admin, {"provider": "offline", "webhook_url": "https://hooks.example.org/T/B/x"})
    assert b["has_webhook"] is True and "hooks.example.org" not in json.dumps(b)
    assert ok(env.t, "GET", path, org.admin)["has_webhook"] is True
    # absent keeps it, "" removes it
    assert ok(env.t, "PUT", path, org.admin, {"provider": "offline"})["has_webhook"] is True
    assert ok(env.t, "PUT", path, org.admin, {"provider": "offline", "webhook_url": ""})["has_webhook"] is False


def test_org_webhook_gets_its_own_summary(env):
    own, plain = Org(env, "offline"), Org(env, "offline")
    failing, erring = Org(env, "offline"), Org(env, "offline")
    ok(env.t, "PUT", "/api/v1/orgs/%s/llm" % own.id, own.admin,
       {"provider": "offline", "webhook_url": env.fake.url + "/hook/own"})
    ok(env.t, "PUT", "/api/v1/orgs/%s/llm" % failing.id, failing.admin,
       {"provider": "offline", "webhook_url": "http://127.0.0.1:1/refused"})
    ok(env.t, "PUT", "/api/v1/orgs/%s/llm" % erring.id, erring.admin,      # answers 404
       {"provider": "offline", "webhook_url": env.fake.url + "/gone"})
    for org in (own, plain, failing, erring):
        sid = org.session("tutor")
        s, _, _ = call(env.t, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, org.learner,
                       {"text": "Hi"})
        assert s == 202
    day = time.strftime("%Y-%m-%d", time.gmtime())
    time.sleep(0.5)                     # the offline turns' usage rows
    r = env.t.tutorctl("call", "llm", "usage.summary", json.dumps({"day": day}),
                       "--auth", '{"kind":"system"}')
    assert r.returncode == 0, r.stderr

    def posts(path, org):
        return [q for q in env.fake.requests if q["path"] == path and org.id in q["body"]["text"]]
    assert conftest.wait_for(lambda: posts("/hook/own", own) and posts("/hook", plain), 10)
    time.sleep(0.5)
    assert len(posts("/hook/own", own)) == 1 and not posts("/hook", own)
    assert len(posts("/hook", plain)) == 1 and not posts("/hook/own", plain)
    for org in (failing, erring):       # theirs went to their own (failing) receivers only
        assert not posts("/hook/own", org) and not posts("/hook", org)
    assert posts("/gone", erring)
    assert "requests" in posts("/hook/own", own)[0]["body"]["text"]
    # the failing receiver harmed nothing: the actor still answers
    assert ok(env.t, "GET", "/api/v1/orgs/%s/llm" % failing.id, failing.admin)["has_webhook"] is True
    sid = own.session("tutor")
    assert call(env.t, "POST", "/api/v1/tutor/sessions/%s/messages" % sid, own.learner,
                {"text": "Still there?"})[0] == 202
