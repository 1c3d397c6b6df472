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
    t = tutord_factory(TUTORD_SECRET=SECRET, TUTORD_LOGIN_MAX_PER_IP=1000,
                       TUTORD_LOGIN_MAX_PER_ACCOUNT=1000, **google_env())
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


def test_body_errors_on_every_route(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET, TUTORD_LOGIN_MAX_PER_IP=1000,
                       TUTORD_LOGIN_MAX_PER_ACCOUNT=1000, **google_env())
    w = small_world(t)
    failures = []
    for method, path, token, valid, fields in routes(w):
        text = json.dumps(valid)
        hdrs = {"Authorization": "Bearer " + token} if token else {}
        hdrs["Content-Type"] = "application/json"
        cases = {
            "malformed JSON": (text[:-3].encode(), None),
            "trailing garbage": ((text + "}").encode(), None),
            "invalid UTF-8": (text.replace('"%s": "' % fields[0], '"%s": "\xff' % fields[0], 1)
                              .encode("latin-1"), None),
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
