"""Bad input on every identity route: the contract's 400 invalid_input, with `field`, and a
server that is still healthy afterwards.

Why: each route is a parser facing the internet. For every field of every route the tests send
it missing, with the wrong type, and far too long; for every route, malformed JSON, invalid UTF-8,
an empty body and a body that is not an object. Every answer must be 400 invalid_input (never a
500, never a hang), name the field at fault where one is, and the server must answer /health with
200 at the end. All mismatches are collected and reported together.

Adding a route: append to ROUTES (method, path over the world's ids, a valid body, and the
fields to spoil).
"""

import base64
import json
import os
import tempfile

from cryptography.hazmat.primitives.asymmetric import rsa

from test_access import PASSWORD, World, call, unique, SECRET

LONG = "x" * 70000


def google_env():
    """TUTORD_GOOGLE_JWKS (a local JWKS with a fresh RSA key) and a client id, so the Google
    route is configured and checks its input; nothing reaches the internet."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    nums = key.public_numbers()

    def b64(n):
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    fd, path = tempfile.mkstemp(prefix="jwks-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": "test",
                             "n": b64(nums.n), "e": b64(nums.e)}]}, f)
    os.chmod(path, 0o644)
    return {"TUTORD_GOOGLE_JWKS": path, "TUTORD_GOOGLE_CLIENT_ID": "test-client.example"}


def routes(w):
    """(method, path, token, valid body, fields checked one by one) for every identity route
    with a body. Valid bodies are fresh where the route would otherwise conflict."""
    A, A1 = w.ids["A"], w.ids["A1"]
    admin = w.tokens["admin_a"]
    learner = w.tokens["learner"]
    return [
        ("POST", "/api/v1/auth/register", None,
         {"email": unique("in") + "@example.org", "password": PASSWORD, "name": "N"},
         ["email", "password", "name"]),
        ("POST", "/api/v1/auth/login", None,
         {"email": w.emails["learner"], "password": PASSWORD}, ["email", "password"]),
        ("POST", "/api/v1/auth/refresh", None, {"refresh_token": "tdr_" + "A" * 43},
         ["refresh_token"]),
        ("POST", "/api/v1/auth/google", None, {"id_token": "x.y.z"}, ["id_token"]),
        ("PUT", "/api/v1/me/password", learner,
         {"current_password": PASSWORD, "new_password": "a new password"},
         ["current_password", "new_password"]),
        ("POST", "/api/v1/orgs", admin, {"name": "Org", "slug": unique("slug")}, ["name", "slug"]),
        ("POST", "/api/v1/orgs/%s/members" % A, admin, {"email": w.emails["learner2"],
                                                        "role": "learner"}, ["email", "role"]),
        ("PUT", "/api/v1/orgs/%s/members/%s" % (A, w.ids["learner"]), admin, {"role": "learner"},
         ["role"]),
        ("POST", "/api/v1/orgs/%s/cohorts" % A, admin, {"name": "C"}, ["name"]),
        ("POST", "/api/v1/cohorts/%s/members" % A1, admin,
         {"user_id": w.ids["learner2"], "role": "learner"}, ["user_id", "role"]),
        ("POST", "/api/v1/orgs/%s/api-keys" % A, admin, {"name": "k"}, ["name"]),
        # trainer (issue 9): total_steps and the hyperparameters are numbers, checked one by one
        # in test_trainer.py (SILLY)
        ("POST", "/api/v1/training/runs", learner, {"env": "CartPole-v1", "total_steps": 128},
         ["env"]),
        # grader (issue 5): submissions (inline, to an exercise item, to a question item), execute
        *grader_routes(w),
        # catalog: drip per cohort (CATALOG.md §5)
        ("PUT", "/api/v1/courses/%s/cohorts/%s" % (_course_of(w), A1), admin,
         {"start_date": "2026-01-01", "every_days": 7}, ["start_date", "every_days"]),
        # srs (issue 6): deck, reviewed_at, duration_ms, client_review_id are optional
        ("POST", "/api/v1/cards", learner, {"front": "Hund", "back": "dog", "deck": "de"},
         ["front", "back"]),
        # srs (issue 6 point 2): the other form, a catalog item the learner can see (exercise X
        # of grader_routes); {} or {deck} alone names item_id
        ("POST", "/api/v1/cards", learner, {"item_id": w.ids["X"], "deck": "de"}, ["item_id"]),
        ("POST", "/api/v1/reviews", learner,
         {"card_id": "00000000-0000-4000-8000-000000000000", "rating": 3}, ["card_id", "rating"]),
        # practice sessions (issue 6 point 5): deck, course_id, size, fast_ms and duration_ms are
        # optional (checked one by one in test_practice.py)
        ("POST", "/api/v1/practice/sessions", learner, {"type": "flashcards", "deck": "de"},
         ["type"]),
        ("POST", "/api/v1/practice/sessions/%s/answers" % _practice_of(w)[0], learner,
         {"question_id": _practice_of(w)[1], "answer": "good"}, ["question_id", "answer"]),
        # analytics (issue 8): the learner's timezone (an IANA name)
        ("PUT", "/api/v1/me/analytics-settings", learner, {"timezone": "Europe/Berlin"},
         ["timezone"]),
        # llm and tutor (issue 7): item_id, context_id, org_id and the other settings are optional;
        # the learner's own second session (_llm_learner) so these rows have their own rate bucket
        ("POST", "/api/v1/tutor/sessions", _llm_learner(w), {"mode": "tutor"}, ["mode"]),
        ("POST", "/api/v1/tutor/sessions/%s/messages" % _tutor_session_of(w), _llm_learner(w),
         {"text": "Help"}, ["text"]),
        ("PUT", "/api/v1/orgs/%s/llm" % A, admin, {"provider": "offline"}, ["provider"]),
        # conversation practice: words become cards (a word not in the course needs a translation)
        ("POST", "/api/v1/tutor/sessions/%s/cards" % _tutor_session_of(w), _llm_learner(w),
         {"words": [{"word": "Tisch", "translation": "table"}]}, ["words"]),
        # one-shot helpers on the grader's exercise X (made by grader_routes above); a hint's
        # code is optional
        ("POST", "/api/v1/llm/hint", _llm_learner(w), {"item_id": w.ids["X"], "code": "print(1)"},
         ["item_id"]),
        ("POST", "/api/v1/llm/feedback", _llm_learner(w), {"item_id": w.ids["X"], "code": "print(1)"},
         ["item_id", "code"]),
        ("POST", "/api/v1/llm/explain", _llm_learner(w), {"code": "print(1)", "language": "python"},
         ["code"]),
        ("POST", "/api/v1/llm/complexity", _llm_learner(w), {"code": "print(1)"}, ["code"]),
        ("POST", "/api/v1/llm/evaluate", _llm_learner(w), {"item_id": w.ids["X"], "answer": "a"},
         ["item_id", "answer"]),
        # generation jobs (LLM.md §8): the ids are checked before the course is read; count, level,
        # topic and the other parameters are optional (checked one by one in test_llm_gen.py)
        ("POST", "/api/v1/generation/jobs", admin,
         {"kind": "vocabulary_exercises", "org_id": A, "course_id": "00000000-0000-4000-8000-000000000000",
          "target_id": "00000000-0000-4000-8000-000000000001"},
         ["kind", "org_id", "course_id", "target_id"]),
    ]


def _practice_of(w):
    """A practice session of the learner and its first question (made once per world)."""
    if "practice" not in w.ids:
        tok = w.tokens["learner"]
        deck = unique("in-deck")
        call(w.t, "POST", "/api/v1/cards", tok, {"front": "der Hund", "back": "dog", "deck": deck})
        s = call(w.t, "POST", "/api/v1/practice/sessions", tok, {"type": "flashcards", "deck": deck})[2]
        w.ids["practice"] = (s["id"], s["question"]["id"])
    return w.ids["practice"]


def _llm_learner(w):
    """A second session of the learner (made once per world): its own per-token rate bucket."""
    if "llm" not in w.tokens:
        w.tokens["llm"] = w.login("learner")["token"]
    return w.tokens["llm"]


def _tutor_session_of(w):
    """A tutor session of the learner (made once per world)."""
    if "tutor" not in w.ids:
        w.ids["tutor"] = call(w.t, "POST", "/api/v1/tutor/sessions", _llm_learner(w),
                              {"mode": "tutor"})[2]["id"]
    return w.ids["tutor"]


def _course_of(w):
    """A course of org A for the catalog's routes (made once per world)."""
    if "course" not in w.ids:
        w.ids["course"] = call(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"],
                               w.tokens["admin_a"], {"slug": unique("in"), "title": "T"})[2]["id"]
    return w.ids["course"]


def grader_routes(w):
    """The grader's routes with a body (GRADER.md §1). code and tests are checked in
    test_grader*.py instead: code over 64 KiB is 413, and a bad test names its own field."""
    if "X" not in w.ids:
        tok = w.tokens["admin_a"]
        c = call(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
                 {"slug": unique("in-graded"), "title": "Graded"})[2]
        m = call(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok,
                 {"slug": "mod", "title": "M"})[2]
        l = call(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok,
                 {"slug": "les", "title": "L"})[2]
        w.ids["X"] = call(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok, {
            "slug": "exer", "kind": "exercise", "title": "X", "content": {
                "language": "python", "instructions": "Echo.", "starter_code": "",
                "tests": [{"stdin": "a", "expected_stdout": "a\n"}], "hints": ["input()"],
                "solution": "print(input())"}})[2]["id"]
        w.ids["Q"] = call(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok, {
            "slug": "ques", "kind": "question", "title": "Q", "content": {
                "type": "short", "prompt": "Capital of France?", "answer": ["Paris"]}})[2]["id"]
        assert call(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok)[0] == 200
    learner = w.tokens["learner"]
    return [
        ("POST", "/api/v1/submissions", learner,
         {"language": "python", "code": "print(1)", "tests": [{"expected_stdout": "1\n"}]},
         ["language"]),
        ("POST", "/api/v1/submissions", learner, {"item_id": w.ids["X"], "code": "print(1)"},
         ["item_id"]),
        ("POST", "/api/v1/submissions", learner, {"item_id": w.ids["Q"], "answer": "paris"},
         ["answer"]),
        ("POST", "/api/v1/execute", learner, {"language": "python", "code": "print(1)"},
         ["language"]),
    ]

def small_world(t):
    w = World(t)
    for who in ["admin_a", "learner", "learner2"]:
        w.register(who)
    w.ids["A"] = call(t, "POST", "/api/v1/orgs", w.tokens["admin_a"],
                      {"name": "A", "slug": unique("a")})[2]["id"]
    call(t, "POST", "/api/v1/orgs/%s/members" % w.ids["A"], w.tokens["admin_a"],
         {"email": w.emails["learner"], "role": "learner"})
    w.ids["A1"] = call(t, "POST", "/api/v1/orgs/%s/cohorts" % w.ids["A"], w.tokens["admin_a"],
                       {"name": "A1"})[2]["id"]
    return w


def check_400(failures, what, resp, field=None):
    s, h, b = resp
    if s != 400 or not b or b.get("error", {}).get("code") != "invalid_input":
        failures.append("%s: want 400 invalid_input, got %s %s" % (what, s, json.dumps(b)[:200]))
        return
    if field is not None and b["error"].get("field") != field:
        failures.append("%s: want field %r, got %s" % (what, field, json.dumps(b)[:200]))


def test_field_errors_on_every_route(tutord_factory):
    # Hundreds of requests with one token as fast as the bridge answers (its principal cache
    # makes that fast): the per-token limiter is not what is tested here
    t = tutord_factory(TUTORD_SECRET=SECRET, TUTORD_LOGIN_MAX_PER_IP=1000,
                       TUTORD_LOGIN_MAX_PER_ACCOUNT=1000, TUTORD_RATE_PER_TOKEN=100000,
                       TUTORD_RATE_BURST=100000, **google_env())
    w = small_world(t)
    failures = []
    for method, path, token, valid, fields in routes(w):
        for f in fields:
            spoiled = {
                "missing": {k: v for k, v in valid.items() if k != f},
                "number": dict(valid, **{f: 12345}),
                "list": dict(valid, **{f: ["a"]}),
                "object": dict(valid, **{f: {"a": 1}}),
                "null": dict(valid, **{f: None}),
                "overlong": dict(valid, **{f: LONG}),
            }
            for how, body in spoiled.items():
                if how in ("missing", "null") and f == "user_id":
                    body = dict(body)            # user_id or email: give neither
                check_400(failures, "%s %s %s %s" % (method, path, f, how),
                          call(t, method, path, token, body), f)
    # semantic checks of single fields
    reg = "/api/v1/auth/register"
    for body, field in [
        ({"email": "not-an-email", "password": PASSWORD, "name": "N"}, "email"),
        ({"email": unique("p") + "@example.org", "password": "short", "name": "N"}, "password"),
        ({"email": unique("p") + "@example.org", "password": PASSWORD, "name": ""}, "name"),
    ]:
        check_400(failures, "register %s" % field, call(t, "POST", reg, None, body), field)
    check_400(failures, "org slug", call(t, "POST", "/api/v1/orgs", w.tokens["admin_a"],
                                         {"name": "X", "slug": "Not A Slug!"}), "slug")
    check_400(failures, "member role", call(t, "POST", "/api/v1/orgs/%s/members" % w.ids["A"],
                                            w.tokens["admin_a"],
                                            {"email": w.emails["learner2"], "role": "king"}), "role")
    assert not failures, "%d bad answers:\n%s" % (len(failures), "\n".join(failures))
    assert t.get("/health")[0] == 200


def _spoil_utf8(text, field):
    """The JSON text with a byte that is never UTF-8 (0xff) at the start of field's string value,
    or of the first string in the body when field's value is not a string (an array of words)."""
    key = '"%s": "' % field
    at = text.find(key)
    at = at + len(key) if at >= 0 else text.find('": "') + len('": "')
    assert at >= len('": "'), "no string value to spoil in %s" % text
    return text[:at].encode("latin-1") + b"\xff" + text[at:].encode("latin-1")


def test_body_errors_on_every_route(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET, TUTORD_LOGIN_MAX_PER_IP=1000,
                       TUTORD_LOGIN_MAX_PER_ACCOUNT=1000, TUTORD_RATE_PER_TOKEN=100000,
                       TUTORD_RATE_BURST=100000, **google_env())
    w = small_world(t)
    failures = []
    for method, path, token, valid, fields in routes(w):
        text = json.dumps(valid)
        hdrs = {"Authorization": "Bearer " + token} if token else {}
        hdrs["Content-Type"] = "application/json"
        cases = {
            "malformed JSON": (text[:-3].encode(), None),
            "trailing garbage": ((text + "}").encode(), None),
            "invalid UTF-8": (_spoil_utf8(text, fields[0]), None),
            "invalid UTF-8 in a key": (b'{"\xc3\x28": 1}', None),
            "empty body": (b"", "body"),
            "array": (b"[]", "body"),
            "string": (b'"text"', "body"),
            "number": (b"42", "body"),
        }
        for how, (data, field) in cases.items():
            s, h, b = t.request(method, path, body=data, headers=hdrs)
            parsed = json.loads(b) if b and h.get("content-type", "").startswith(
                "application/json") else None
            check_400(failures, "%s %s %s" % (method, path, how), (s, h, parsed), field)
        # JSON nested too deep: refused before it reaches the actor
        deep = ("[" * 10000 + "]" * 10000).encode()
        s, h, b = t.request(method, path, body=deep, headers=hdrs)
        if s != 400:
            failures.append("%s %s deep nesting: got %s" % (method, path, s))
    assert not failures, "%d bad answers:\n%s" % (len(failures), "\n".join(failures))
    assert t.get("/health")[0] == 200


def test_bad_path_ids_are_not_found(tutord_factory):
    """An id that cannot exist (not a UUID, overlong, odd bytes) is 404, never a 500."""
    t = tutord_factory(TUTORD_SECRET=SECRET)
    w = small_world(t)
    admin = w.tokens["admin_a"]
    for bad in ["nope", "1", "%27%3B--", "x" * 1000, "00000000-0000-0000-0000-000000000000",
                "%C3%A9t%C3%A9"]:
        for method, path in [("GET", "/api/v1/orgs/" + bad), ("GET", "/api/v1/cohorts/" + bad),
                             ("GET", "/api/v1/orgs/%s/members" % bad),
                             ("DELETE", "/api/v1/orgs/%s/api-keys/%s" % (w.ids["A"], bad))]:
            s, h, b = call(t, method, path, admin)
            assert s == 404, (method, path, s, b)
    # invalid UTF-8 in the path is input, not a lookup
    s, h, b = call(t, "GET", "/api/v1/orgs/%ff%fe", admin)
    assert s in (400, 404), s
    assert t.get("/health")[0] == 200
