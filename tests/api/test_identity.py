"""The identity actor from outside (issue 3): accounts, tokens, orgs, cohorts, API keys, limits,
Google sign-in, and the access table, against a started tutord and real PostgreSQL.

Why through `tutorctl call`: requests go through the real broker to the real actor exactly as
the web bridge sends them (IDENTITY.md §3: {path params, query params, client_ip, body}), and
tutorctl follows the wire format whatever it becomes. The bridge's part is emulated the way
IDENTITY.md §2 prescribes: a bearer token is turned into the request's `auth` map by calling
`auth.verify`; when that fails the request is answered 401 without reaching the verb.

Password hashing runs at libsodium's minimum cost here (TUTORD_ARGON2_*), so the suite is fast;
the cost parameters are covered by the unit test and the throughput report.
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import uuid

import pytest

SECRET = "test-secret-0123456789abcdef-0123456789abcdef"
# Client addresses unique to this run: failed logins are counted per address in the database,
# and a rerun within the window must not inherit the last run's count.
_NET = "10.%d.%d" % tuple(os.urandom(2))
LOCAL_IP = _NET + ".1"


def ip_of(n):
    return "%s.%d" % (_NET, 10 + n)


FAST = {"TUTORD_ARGON2_OPSLIMIT": "1", "TUTORD_ARGON2_MEMLIMIT_KIB": "8", "TUTORD_SECRET": SECRET}


# -- talking to the actor ---------------------------------------------------------------------

def raw_call(t, verb, body=None, auth=None):
    """One identity request; the reply envelope as a dict."""
    args = ["call"]
    if auth is not None:
        args += ["--auth", json.dumps(auth)]
    args += ["identity", verb]
    if body is not None:
        args.append("-")
    res = t.tutorctl(*args, input=json.dumps(body) if body is not None else None)
    assert res.returncode in (0, 1), res.stderr
    assert res.stdout.strip(), res.stderr
    return json.loads(res.stdout)


def verify(t, token):
    """What the bridge does with a bearer token: the auth map, or None (-> 401)."""
    r = raw_call(t, "auth.verify", {"token": token})
    if r["status"] == 200:
        return r["body"]
    assert r["status"] == 401, r
    assert r["error"]["code"] == "unauthorized"
    return None


def call(t, verb, token=None, body=None, auth=None, ip=LOCAL_IP, **params):
    """A request as the bridge would forward it: token -> auth via auth.verify."""
    if auth is None:
        if token is None:
            auth = {"kind": "anonymous"}
        else:
            auth = verify(t, token)
            if auth is None:
                return {"status": 401, "error": {"code": "unauthorized", "message": "bridge"}}
    req = dict(params)
    req["client_ip"] = ip
    if body is not None:
        req["body"] = body
    return raw_call(t, verb, req, auth)


def ok(r, status=200):
    assert r["status"] == status, r
    return r.get("body")


def err(r, status, field=None):
    assert r["status"] == status, r
    assert "error" in r and r["error"]["code"] and r["error"]["message"], r
    if field is not None:
        assert r["error"].get("field") == field, r
    return r["error"]


def register(t, email, name="Someone", password="correct horse battery"):
    return ok(call(t, "register", body={"email": email, "password": password, "name": name}), 201)


def uniq(prefix="u"):
    return "%s-%s@example.com" % (prefix, uuid.uuid4().hex[:12])


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header, claims, key=SECRET):
    signing = b64(json.dumps(header)) + "." + b64(json.dumps(claims))
    mac = hmac.new(key.encode() if isinstance(key, str) else key, signing.encode(), hashlib.sha256)
    return signing + "." + b64(mac.digest())


@pytest.fixture
def idt(tutord_factory):
    return tutord_factory(**FAST)


# -- accounts ---------------------------------------------------------------------------------

def test_register_login_me(idt):
    email = uniq("Alice").replace("alice", "Alice")
    out = register(idt, email, "Alice")
    assert out["user"]["email"] == email.lower()
    assert out["user"]["name"] == "Alice"
    assert out["token"].count(".") == 2 and out["refresh_token"].startswith("tdr_")
    assert len(out["refresh_token"]) == 4 + 43
    assert "password" not in json.dumps(out).lower().replace("password_", "")
    # case-insensitive uniqueness
    err(call(idt, "register", body={"email": email.upper(), "password": "x" * 12, "name": "B"}),
        409, "email")
    # login with any case; wrong password
    logged = ok(call(idt, "login", body={"email": email.upper(), "password": "correct horse battery"}))
    assert logged["user"]["id"] == out["user"]["id"]
    err(call(idt, "login", body={"email": email, "password": "wrong horse battery"}), 401)
    err(call(idt, "login", body={"email": uniq("nobody"), "password": "whatever123"}), 401)
    # me
    me = ok(call(idt, "me", logged["token"]))
    assert me["user"]["id"] == out["user"]["id"] and me["orgs"] == [] and me["cohorts"] == []
    assert me["user"]["created_at"].endswith("Z")
    err(call(idt, "me"), 401)
    # the password is nowhere in the log
    assert "correct horse battery" not in idt.log_text()


def test_bad_input_on_every_verb(idt):
    admin = register(idt, uniq("admin"))
    tok = admin["token"]
    org = ok(call(idt, "org.create", tok, {"name": "Bad Input Org", "slug": "bad-" + uuid.uuid4().hex[:8]}), 201)
    coh = ok(call(idt, "cohort.create", tok, {"name": "C"}, id=org["id"]), 201)
    long = "a" * 5000
    cases = [
        # verb, params, body, field
        ("register", {}, None, "body"),
        ("register", {}, [], "body"),
        ("register", {}, "text", "body"),
        ("register", {}, {}, "email"),
        ("register", {}, {"email": 7, "password": "x" * 10, "name": "n"}, "email"),
        ("register", {}, {"email": "not-an-email", "password": "x" * 10, "name": "n"}, "email"),
        ("register", {}, {"email": "a" * 250 + "@b.co", "password": "x" * 10, "name": "n"}, "email"),
        ("register", {}, {"email": uniq(), "password": "short", "name": "n"}, "password"),
        ("register", {}, {"email": uniq(), "password": "é" * 7, "name": "n"}, "password"),
        ("register", {}, {"email": uniq(), "password": "x" * 1025, "name": "n"}, "password"),
        ("register", {}, {"email": uniq(), "password": ["x"], "name": "n"}, "password"),
        ("register", {}, {"email": uniq(), "password": "x" * 10}, "name"),
        ("register", {}, {"email": uniq(), "password": "x" * 10, "name": ""}, "name"),
        ("register", {}, {"email": uniq(), "password": "x" * 10, "name": "n" * 201}, "name"),
        ("register", {}, {"email": uniq(), "password": "x" * 10, "name": None}, "name"),
        ("login", {}, None, "body"),
        ("login", {}, {"email": "a@b.co"}, "password"),
        ("login", {}, {"password": "x" * 10}, "email"),
        ("login", {}, {"email": long, "password": "x" * 10}, "email"),
        ("login", {}, {"email": "a@b.co", "password": 12345678}, "password"),
        ("refresh", {}, None, "body"),
        ("refresh", {}, {}, "refresh_token"),
        ("refresh", {}, {"refresh_token": 1}, "refresh_token"),
        ("refresh", {}, {"refresh_token": long}, "refresh_token"),
        ("auth.verify", None, None, "token"),
        ("google", {}, None, "body"),
    ]
    for verb, params, body, field in cases:
        if params is None:
            r = raw_call(idt, verb, {}, {"kind": "anonymous"})
        else:
            r = call(idt, verb, body=body, **params)
        e = err(r, 400 if verb != "google" else r["status"], None)
        if verb == "google":
            continue            # not configured here: 404 before input is read
        assert e["code"] == "invalid_input" and e.get("field") == field, (verb, body, r)
    authed = [
        ("password.change", {}, None, "body"),
        ("password.change", {}, {"new_password": "x" * 10}, "current_password"),
        ("password.change", {}, {"current_password": "correct horse battery"}, "new_password"),
        ("password.change", {}, {"current_password": "correct horse battery", "new_password": "short"},
         "new_password"),
        ("org.create", {}, None, "body"),
        ("org.create", {}, {"name": "x"}, "slug"),
        ("org.create", {}, {"slug": "abc"}, "name"),
        ("org.create", {}, {"name": "x", "slug": "ab"}, "slug"),
        ("org.create", {}, {"name": "x", "slug": "Bad_Slug"}, "slug"),
        ("org.create", {}, {"name": "x", "slug": "a" * 65}, "slug"),
        ("org.create", {}, {"name": "n" * 201, "slug": "abc-def"}, "name"),
        ("org.create", {}, {"name": 5, "slug": "abc-def"}, "name"),
        ("org.member.add", {"id": org["id"]}, None, "body"),
        ("org.member.add", {"id": org["id"]}, {"email": "a@b.co"}, "role"),
        ("org.member.add", {"id": org["id"]}, {"email": "a@b.co", "role": "owner"}, "role"),
        ("org.member.add", {"id": org["id"]}, {"role": "learner"}, "email"),
        ("org.member.add", {}, {"email": "a@b.co", "role": "learner"}, "id"),
        ("org.member.add", {"id": 42}, {"email": "a@b.co", "role": "learner"}, "id"),
        ("org.member.role", {"id": org["id"], "user_id": admin["user"]["id"]}, {}, "role"),
        ("org.member.role", {"id": org["id"]}, {"role": "admin"}, "user_id"),
        ("org.members", {"id": org["id"], "limit": 0}, None, "limit"),
        ("org.members", {"id": org["id"], "limit": "many"}, None, "limit"),
        ("org.members", {"id": org["id"], "cursor": "nope"}, None, "cursor"),
        ("cohort.create", {"id": org["id"]}, {}, "name"),
        ("cohort.create", {"id": org["id"]}, {"name": "n" * 201}, "name"),
        ("cohort.member.add", {"id": coh["id"]}, {"role": "learner"}, "user_id"),
        ("cohort.member.add", {"id": coh["id"]}, {"user_id": admin["user"]["id"], "role": "admin"}, "role"),
        ("cohort.member.add", {"id": coh["id"]}, {"user_id": 7, "role": "learner"}, "user_id"),
        ("apikey.create", {"id": org["id"]}, {}, "name"),
        ("apikey.create", {"id": org["id"]}, None, "body"),
    ]
    for verb, params, body, field in authed:
        e = err(call(idt, verb, tok, body, **params), 400)
        assert e["code"] == "invalid_input" and e.get("field") == field, (verb, params, body, e)
    # ids that cannot exist are 404, not 400 or 500
    err(call(idt, "org.get", tok, id="not-a-uuid"), 404)
    err(call(idt, "cohort.get", tok, id="'; DROP TABLE identity_users; --"), 404)
    err(call(idt, "org.get", tok, id=str(uuid.uuid4())), 404)
    # a malformed auth map (never made by the bridge) is refused, not obeyed
    err(raw_call(idt, "me", {}, {"kind": "user", "user": 5}), 401)
    err(raw_call(idt, "me", {}, {"kind": "root"}), 401)
    # the server is unharmed
    ok(call(idt, "me", tok))


# -- tokens -----------------------------------------------------------------------------------

def test_refresh_rotation_and_reuse_revokes_the_family(idt):
    out = register(idt, uniq("rot"))
    r1 = out["refresh_token"]
    p2 = ok(call(idt, "refresh", body={"refresh_token": r1}))
    assert p2["refresh_token"] != r1 and p2["token"]
    assert verify(idt, p2["token"])["user"] == out["user"]["id"]
    p3 = ok(call(idt, "refresh", body={"refresh_token": p2["refresh_token"]}))
    # reuse of r1 (rotated): 401 and the whole family is revoked
    err(call(idt, "refresh", body={"refresh_token": r1}), 401, "refresh_token")
    err(call(idt, "refresh", body={"refresh_token": p3["refresh_token"]}), 401)
    assert verify(idt, p3["token"]) is None
    assert verify(idt, out["token"]) is None
    # an unknown refresh token is just 401
    err(call(idt, "refresh", body={"refresh_token": "tdr_" + "A" * 43}), 401)
    # another session of the same user is untouched
    other = ok(call(idt, "login", body={"email": out["user"]["email"], "password": "correct horse battery"}))
    assert verify(idt, other["token"]) is not None


def test_logout_revokes_at_once(idt):
    out = register(idt, uniq("bye"))
    second = ok(call(idt, "login", body={"email": out["user"]["email"], "password": "correct horse battery"}))
    assert ok(call(idt, "me", out["token"]))
    r = call(idt, "logout", out["token"])
    assert r["status"] == 204, r
    # the very next request is refused, and so is its refresh token
    err(call(idt, "me", out["token"]), 401)
    err(call(idt, "refresh", body={"refresh_token": out["refresh_token"]}), 401)
    # the other session lives on
    ok(call(idt, "me", second["token"]))
    err(call(idt, "logout"), 401)


def test_forged_tokens_are_refused(idt):
    out = register(idt, uniq("forge"))
    auth = verify(idt, out["token"])
    now = int(time.time())
    claims = {"iss": "tutord", "sub": auth["user"], "sid": auth["session"], "iat": now,
              "exp": now + 600, "typ": "access"}
    header = {"alg": "HS256", "typ": "JWT"}
    # our forge with the real secret works: the refusals below are about what they change
    assert verify(idt, forge(header, claims)) is not None
    # expired (a past exp, signed with the real secret)
    assert verify(idt, forge(header, dict(claims, exp=now - 1))) is None
    # wrong typ / iss
    assert verify(idt, forge(header, dict(claims, typ="refresh"))) is None
    assert verify(idt, forge(header, dict(claims, iss="evil"))) is None
    # alg none, RS256 header on an HS token, other algs
    for alg in ("none", "None", "RS256", "HS512", "ES256"):
        assert verify(idt, forge(dict(header, alg=alg), claims)) is None, alg
    none = b64(json.dumps({"alg": "none", "typ": "JWT"})) + "." + b64(json.dumps(claims)) + "."
    assert verify(idt, none) is None
    # HS256 signed with public key bytes (RS/HS confusion) or any other key
    pem = b"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1L\n-----END PUBLIC KEY-----\n"
    assert verify(idt, forge(header, claims, pem)) is None
    assert verify(idt, forge(header, claims, "x" * 40)) is None
    # tampering: a byte flipped in payload and in signature
    tok = out["token"]
    h, p, s = tok.split(".")
    flipped = p[:10] + ("A" if p[10] != "A" else "B") + p[11:]
    assert verify(idt, h + "." + flipped + "." + s) is None
    flipped = s[:5] + ("A" if s[5] != "A" else "B") + s[6:]
    assert verify(idt, h + "." + p + "." + flipped) is None
    # claims of another user, signed right, but a session that is not theirs
    other = verify(idt, register(idt, uniq("other"))["token"])
    assert verify(idt, forge(header, dict(claims, sub=other["user"]))) is None
    # garbage
    for bad in ("", "a.b.c", "....", "x" * 5000, tok + "x", "tdk_short"):
        r = raw_call(idt, "auth.verify", {"token": bad})
        assert r["status"] in (400, 401), (bad, r)
    assert verify(idt, tok) is not None


def test_access_tokens_expire(tutord_factory):
    # exp is in whole seconds, so a token lives between TTL - 1 and TTL seconds: 3 s leaves a fresh
    # token valid for at least 2 s, enough for the checks below on a loaded machine.
    t = tutord_factory(TUTORD_ACCESS_TTL_S="3", **FAST)
    out = register(t, uniq("ttl"))
    assert out["expires_in"] == 3
    time.sleep(4.2)
    assert verify(t, out["token"]) is None
    # the refresh token still works and gives a fresh access token
    again = ok(call(t, "refresh", body={"refresh_token": out["refresh_token"]}))
    assert verify(t, again["token"]) is not None


def test_password_change_revokes_other_sessions(idt):
    email = uniq("pw")
    a = register(idt, email)
    b = ok(call(idt, "login", body={"email": email, "password": "correct horse battery"}))
    err(call(idt, "password.change", a["token"],
             {"current_password": "wrong wrong wrong", "new_password": "new password 1"}), 403,
        "current_password")
    fresh = ok(call(idt, "password.change", a["token"],
                    {"current_password": "correct horse battery", "new_password": "new password 1"}))
    assert verify(idt, b["token"]) is None
    assert verify(idt, a["token"]) is None
    assert verify(idt, fresh["token"]) is not None
    err(call(idt, "refresh", body={"refresh_token": b["refresh_token"]}), 401)
    err(call(idt, "login", body={"email": email, "password": "correct horse battery"}), 401)
    ok(call(idt, "login", body={"email": email, "password": "new password 1"}))


# -- limits -----------------------------------------------------------------------------------

def test_login_limits_per_account_and_ip(tutord_factory):
    t = tutord_factory(TUTORD_LOGIN_MAX_PER_ACCOUNT="3", TUTORD_LOGIN_MAX_PER_IP="5",
                       TUTORD_LOGIN_WINDOW_S="60", **FAST)
    email = uniq("limit")
    register(t, email)
    for _ in range(3):
        err(call(t, "login", body={"email": email, "password": "wrong password"}, ip=ip_of(1)), 401)
    e = err(call(t, "login", body={"email": email, "password": "correct horse battery"}, ip=ip_of(2)),
            429)
    assert e["code"] == "rate_limited" and 1 <= e["retry_after"] <= 60, e
    # per address: 5 failures from one address block every account from it
    other = uniq("limit2")
    register(t, other)
    for i in range(2):
        err(call(t, "login", body={"email": uniq("x%d" % i), "password": "wrong password"},
                 ip=ip_of(1)), 401)
    e = err(call(t, "login", body={"email": other, "password": "correct horse battery"}, ip=ip_of(1)),
            429)
    assert e["retry_after"] >= 1
    # the same account from another address is fine
    ok(call(t, "login", body={"email": other, "password": "correct horse battery"}, ip=ip_of(9)))


def test_login_limit_window_passes(tutord_factory):
    t = tutord_factory(TUTORD_LOGIN_MAX_PER_ACCOUNT="2", TUTORD_LOGIN_MAX_PER_IP="1000",
                       TUTORD_LOGIN_WINDOW_S="5", **FAST)    # wide enough for a loaded machine
    email = uniq("window")
    register(t, email)
    for _ in range(2):
        err(call(t, "login", body={"email": email, "password": "wrong password"}), 401)
    err(call(t, "login", body={"email": email, "password": "correct horse battery"}), 429)
    time.sleep(5.5)
    ok(call(t, "login", body={"email": email, "password": "correct horse battery"}))


# -- orgs, cohorts, members, keys, and the access table ---------------------------------------

class World:
    """Org A (admin, mentor of cohort A1, learner in A1, plain learner), org B (admin), keys."""

    def __init__(self, t):
        self.t = t
        tag = uuid.uuid4().hex[:8]
        self.admin = register(t, uniq("adminA"))
        self.admin_b = register(t, uniq("adminB"))
        self.mentor = register(t, uniq("mentor"))
        self.learner = register(t, uniq("learner"))
        self.outsider = register(t, uniq("learner2"))
        self.org = ok(call(t, "org.create", self.admin["token"], {"name": "Org A", "slug": "a-" + tag}), 201)
        self.org_b = ok(call(t, "org.create", self.admin_b["token"], {"name": "Org B", "slug": "b-" + tag}), 201)
        A, B = self.org["id"], self.org_b["id"]
        for who, role in ((self.mentor, "mentor"), (self.learner, "learner"), (self.outsider, "learner")):
            ok(call(t, "org.member.add", self.admin["token"], {"email": who["user"]["email"], "role": role}, id=A), 201)
        self.cohort = ok(call(t, "cohort.create", self.admin["token"], {"name": "A1"}, id=A), 201)
        C = self.cohort["id"]
        ok(call(t, "cohort.member.add", self.admin["token"], {"user_id": self.mentor["user"]["id"], "role": "mentor"}, id=C), 201)
        ok(call(t, "cohort.member.add", self.admin["token"], {"email": self.learner["user"]["email"], "role": "learner"}, id=C), 201)
        self.key_a = ok(call(t, "apikey.create", self.admin["token"], {"name": "A key"}, id=A), 201)
        self.key_b = ok(call(t, "apikey.create", self.admin_b["token"], {"name": "B key"}, id=B), 201)


def test_orgs_cohorts_and_members(idt):
    w = World(idt)
    A = w.org["id"]
    assert w.org["role"] == "admin" and w.org["slug"].startswith("a-")
    err(call(idt, "org.create", w.admin["token"], {"name": "Dup", "slug": w.org["slug"]}), 409, "slug")
    # me shows orgs, cohorts and roles
    me = ok(call(idt, "me", w.mentor["token"]))
    assert [(o["id"], o["role"]) for o in me["orgs"]] == [(A, "mentor")]
    assert [(c["id"], c["role"]) for c in me["cohorts"]] == [(w.cohort["id"], "mentor")]
    # the auth map: memberships, cohorts, mentees
    auth = verify(idt, w.mentor["token"])
    assert auth["kind"] == "user" and auth["memberships"] == [{"org": A, "role": "mentor"}]
    assert auth["mentees"] == [w.learner["user"]["id"]]
    # members: list with paging
    page = ok(call(idt, "org.members", w.admin["token"], id=A, limit=2))
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = ok(call(idt, "org.members", w.admin["token"], id=A, limit="10", cursor=page["next_cursor"]))
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    emails = {m["email"] for m in page["items"] + rest["items"]}
    assert w.learner["user"]["email"] in emails and w.admin["user"]["email"] in emails
    # adding twice, unknown accounts
    err(call(idt, "org.member.add", w.admin["token"], {"email": w.learner["user"]["email"], "role": "learner"}, id=A), 409, "email")
    err(call(idt, "org.member.add", w.admin["token"], {"email": uniq("ghost"), "role": "learner"}, id=A), 404, "email")
    # cohort members must be org members
    err(call(idt, "cohort.member.add", w.admin["token"], {"email": w.admin_b["user"]["email"], "role": "learner"},
             id=w.cohort["id"]), 404, "email")
    err(call(idt, "cohort.member.add", w.admin["token"], {"user_id": w.learner["user"]["id"], "role": "learner"},
             id=w.cohort["id"]), 409, "user_id")
    # cohort view: members for mentor/admin, not for learners; other learners of the org: 404
    c = ok(call(idt, "cohort.get", w.mentor["token"], id=w.cohort["id"]))
    assert {m["role"] for m in c["members"]} == {"mentor", "learner"}
    assert ok(call(idt, "cohort.get", w.learner["token"], id=w.cohort["id"]))["members"] is None
    err(call(idt, "cohort.get", w.outsider["token"], id=w.cohort["id"]), 404)
    assert ok(call(idt, "cohort.list", w.outsider["token"], id=A))["items"] == []
    assert len(ok(call(idt, "cohort.list", w.learner["token"], id=A))["items"]) == 1
    # role changes; the last admin stays
    m = ok(call(idt, "org.member.role", w.admin["token"], {"role": "mentor"}, id=A, user_id=w.outsider["user"]["id"]))
    assert m["role"] == "mentor"
    err(call(idt, "org.member.role", w.admin["token"], {"role": "learner"}, id=A, user_id=w.admin["user"]["id"]), 409)
    err(call(idt, "org.member.remove", w.admin["token"], id=A, user_id=w.admin["user"]["id"]), 409)
    err(call(idt, "org.member.role", w.admin["token"], {"role": "learner"}, id=A, user_id=str(uuid.uuid4())), 404)
    # removing from the org removes from its cohorts
    assert call(idt, "org.member.remove", w.admin["token"], id=A, user_id=w.learner["user"]["id"])["status"] == 204
    assert verify(idt, w.learner["token"])["cohorts"] == []
    assert verify(idt, w.mentor["token"])["mentees"] == []
    err(call(idt, "org.member.remove", w.admin["token"], id=A, user_id=w.learner["user"]["id"]), 404)
    err(call(idt, "org.get", w.learner["token"], id=A), 404)
    # cohort member removal
    assert call(idt, "cohort.member.remove", w.admin["token"], id=w.cohort["id"],
                user_id=w.mentor["user"]["id"])["status"] == 204
    err(call(idt, "cohort.member.remove", w.admin["token"], id=w.cohort["id"], user_id=w.mentor["user"]["id"]), 404)


def test_api_keys(idt):
    w = World(idt)
    A, B = w.org["id"], w.org_b["id"]
    key = w.key_a["key"]
    assert key.startswith("tdk_" + w.key_a["prefix"] + "_") and len(key) == 56
    listed = ok(call(idt, "apikey.list", w.admin["token"], id=A))["items"]
    assert [k["prefix"] for k in listed] == [w.key_a["prefix"]]
    assert key not in json.dumps(listed) and "key" not in listed[0]
    auth = verify(idt, key)
    # valid_until: how long a bridge may cache this answer (IDENTITY.md §2); key revocations
    # are notified, so it is a hygiene bound, ~300 s ahead
    valid_until = auth.pop("valid_until")
    assert isinstance(valid_until, int) and 250 < valid_until - time.time() <= 301, valid_until
    assert auth == {"kind": "api_key", "key": w.key_a["id"], "org": A}
    # scoped: reads in its org, nothing in another, no changes
    ok(call(idt, "org.get", key, id=A))
    err(call(idt, "org.get", key, id=B), 404)
    err(call(idt, "org.member.add", key, {"email": w.outsider["user"]["email"], "role": "learner"}, id=A), 403)
    err(call(idt, "apikey.revoke", w.admin_b["token"], id=B, key_id=w.key_a["id"]), 404)
    # a wrong key with a right prefix
    assert verify(idt, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    # revoke: refused at once; revoking again is fine
    assert call(idt, "apikey.revoke", w.admin["token"], id=A, key_id=w.key_a["id"])["status"] == 204
    assert verify(idt, key) is None
    assert call(idt, "apikey.revoke", w.admin["token"], id=A, key_id=w.key_a["id"])["status"] == 204
    listed = ok(call(idt, "apikey.list", w.admin["token"], id=A))["items"]
    assert listed[0]["revoked"] is True and listed[0]["revoked_at"]
    assert key not in idt.log_text()


def test_access_table(tutord_factory):
    """Every identity route so far x every kind of caller -> the expected status."""
    t = tutord_factory(TUTORD_ACCESS_TTL_S="4", **FAST)
    w = World(t)
    A, C = w.org["id"], w.cohort["id"]
    revoked = ok(call(t, "login", body={"email": w.learner["user"]["email"], "password": "correct horse battery"}))
    assert call(t, "logout", revoked["token"])["status"] == 204
    expiring = ok(call(t, "login", body={"email": w.learner["user"]["email"], "password": "correct horse battery"}))
    h, p, s = w.learner["token"].split(".")
    tampered = h + "." + p + "." + ("A" if s[0] != "A" else "B") + s[1:]
    # Tokens of the table, refreshed so that the 4 s TTL (at least 3 s once exp is rounded down to
    # whole seconds) does not end them mid-table: each is used for 1.5 s at most.
    refresh_of = {"learner": w.learner, "mentor": w.mentor, "adminA": w.admin, "adminB": w.admin_b}
    fresh = {}

    def token(caller):
        if caller in refresh_of:
            if caller not in fresh or fresh[caller][1] < time.monotonic():
                r = ok(call(t, "refresh", body={"refresh_token": refresh_of[caller]["refresh_token"]}))
                refresh_of[caller] = dict(refresh_of[caller], refresh_token=r["refresh_token"])
                fresh[caller] = (r["token"], time.monotonic() + 1.5)
            return fresh[caller][0]
        return {"anonymous": None, "keyA": w.key_a["key"], "keyB": w.key_b["key"],
                "revoked": revoked["token"], "expired": expiring["token"],
                "tampered": tampered}[caller]

    time.sleep(4.2)                  # `expiring` is now expired
    callers = ["anonymous", "learner", "mentor", "adminA", "adminB", "keyA", "keyB",
               "revoked", "expired", "tampered"]
    U = lambda: {"email": register(t, uniq("t"))["user"]["email"]}
    routes = [
        # (name, verb, params, body-maker, expected statuses in callers' order)
        ("GET /me", "me", {}, None, [401, 200, 200, 200, 200, 401, 401, 401, 401, 401]),
        ("GET /orgs/A", "org.get", {"id": A}, None, [401, 200, 200, 200, 404, 200, 404, 401, 401, 401]),
        ("GET /orgs/A/members", "org.members", {"id": A}, None, [401, 403, 403, 200, 404, 200, 404, 401, 401, 401]),
        ("GET /orgs/A/cohorts", "cohort.list", {"id": A}, None, [401, 200, 200, 200, 404, 200, 404, 401, 401, 401]),
        ("GET /cohorts/A1", "cohort.get", {"id": C}, None, [401, 200, 200, 200, 404, 200, 404, 401, 401, 401]),
        ("POST /orgs", "org.create", {}, lambda: {"name": "T", "slug": "t-" + uuid.uuid4().hex[:10]},
         [401, 201, 201, 201, 201, 403, 403, 401, 401, 401]),
        ("POST /orgs/A/members", "org.member.add", {"id": A}, lambda: dict(U(), role="learner"),
         [401, 403, 403, 201, 404, 403, 404, 401, 401, 401]),
        ("PUT /orgs/A/members/X", "org.member.role", {"id": A, "user_id": w.outsider["user"]["id"]},
         lambda: {"role": "learner"}, [401, 403, 403, 200, 404, 403, 404, 401, 401, 401]),
        ("POST /orgs/A/cohorts", "cohort.create", {"id": A}, lambda: {"name": "T"},
         [401, 403, 403, 201, 404, 403, 404, 401, 401, 401]),
        ("POST /cohorts/A1/members", "cohort.member.add", {"id": C},
         lambda: {"user_id": w.outsider["user"]["id"], "role": "learner"},
         [401, 403, 403, 201, 404, 403, 404, 401, 401, 401]),
        ("DELETE /cohorts/A1/members/X", "cohort.member.remove", {"id": C, "user_id": w.outsider["user"]["id"]},
         None, [401, 403, 403, 204, 404, 403, 404, 401, 401, 401]),
        ("GET /orgs/A/api-keys", "apikey.list", {"id": A}, None, [401, 403, 403, 200, 404, 403, 404, 401, 401, 401]),
        ("POST /orgs/A/api-keys", "apikey.create", {"id": A}, lambda: {"name": "k"},
         [401, 403, 403, 201, 404, 403, 404, 401, 401, 401]),
        ("PUT /me/password", "password.change", {}, lambda: {"current_password": "x" * 10, "new_password": "y" * 10},
         [401, 403, 403, 403, 403, 401, 401, 401, 401, 401]),
        ("POST /auth/logout", "logout", {}, None, [401, 204, 204, 204, 204, 401, 401, 401, 401, 401]),
    ]
    # An admin-made throwaway member and key for the DELETE routes.
    throw = register(t, uniq("throw"))

    def member_to_remove():
        ok(call(t, "org.member.add", token("adminA"), {"email": throw["user"]["email"], "role": "learner"}, id=A), 201)
        return {"id": A, "user_id": throw["user"]["id"]}

    def key_to_revoke():
        k = ok(call(t, "apikey.create", token("adminA"), {"name": "throw"}, id=A), 201)
        return {"id": A, "key_id": k["id"]}

    routes.insert(-2, ("DELETE /orgs/A/members/X", "org.member.remove", member_to_remove, None,
                       [401, 403, 403, 204, 404, 403, 404, 401, 401, 401]))
    routes.insert(-2, ("DELETE /orgs/A/api-keys/K", "apikey.revoke", key_to_revoke, None,
                       [401, 403, 403, 204, 404, 403, 404, 401, 401, 401]))
    failures = []
    for name, verb, params, body, expected in routes:
        for caller, want in zip(callers, expected):
            p = params() if callable(params) else params
            b = body() if body else None
            r = call(t, verb, token(caller), b, **p)
            if r["status"] != want:
                failures.append("%s as %s: %s, expected %s (%s)" % (name, caller, r["status"], want,
                                                                      r.get("error")))
            if callable(params) and r["status"] != 204:
                # the throwaway member/key was not removed: the admin removes it for the next caller
                assert call(t, verb, token("adminA"), None, **p)["status"] == 204
            if verb == "logout" and r["status"] == 204:
                fresh.pop(caller, None)
    assert not failures, "\n".join(failures)


# -- events -----------------------------------------------------------------------------------

def test_identity_events(idt, tmp_path):
    out_file = tmp_path / "tap.jsonl"
    with open(out_file, "w") as f:
        tap = subprocess.Popen([os.path.join(idt.build_dir, "tutorctl"), "tap", "identity."],
                               env=idt.env, stdout=f, stderr=subprocess.DEVNULL)
    try:
        # Wait until the tap is subscribed: probe events until one shows up in its output.
        end = time.monotonic() + 20
        while "identity.registered" not in open(out_file).read():
            assert time.monotonic() < end, "tutorctl tap saw no event"
            register(idt, uniq("probe"))
            time.sleep(0.3)
        w = World(idt)
        err(call(idt, "login", body={"email": w.learner["user"]["email"], "password": "nope nope nope"}), 401)
        ok(call(idt, "org.member.role", w.admin["token"], {"role": "mentor"}, id=w.org["id"],
                user_id=w.outsider["user"]["id"]))
        assert call(idt, "apikey.revoke", w.admin["token"], id=w.org["id"], key_id=w.key_a["id"])["status"] == 204
        assert call(idt, "logout", w.mentor["token"])["status"] == 204

        def seen():
            lines = [json.loads(x) for x in open(out_file).read().splitlines() if x.strip()]
            types = {e.get("type") for e in lines}
            want = {"identity.registered", "identity.login_failed", "identity.role_changed",
                    "identity.member_added", "identity.key_created", "identity.key_revoked",
                    "identity.session_revoked"}
            return lines if want <= types else None
        events = None
        end = time.monotonic() + 10
        while events is None and time.monotonic() < end:
            time.sleep(0.2)
            events = seen()
        assert events, open(out_file).read()
        by = {}
        for e in events:
            by.setdefault(e["type"], []).append(e)
        role = [e for e in by["identity.role_changed"] if e["user"] == w.outsider["user"]["id"]][0]
        assert role["org"] == w.org["id"] and role["data"]["role"] == "mentor"
        failed = by["identity.login_failed"][0]
        assert failed["data"]["reason"] == "bad_password" and len(failed["data"]["email_hash"]) == 32
        assert w.learner["user"]["email"] not in json.dumps(events)
        assert all(e["source"] == "tutord/identity" for e in events)
        assert by["identity.key_revoked"][0]["org"] == w.org["id"]
    finally:
        tap.terminate()
        tap.wait(timeout=10)


# -- Google sign-in ---------------------------------------------------------------------------

def _rsa():
    from cryptography.hazmat.primitives.asymmetric import rsa
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key, kid):
    nums = key.public_key().public_numbers()
    n = nums.n.to_bytes((nums.n.bit_length() + 7) // 8, "big")
    e = nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big")
    return {"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": b64(n), "e": b64(e)}


def _rs256(key, header, claims):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    signing = b64(json.dumps(header)) + "." + b64(json.dumps(claims))
    sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing + "." + b64(sig)


CLIENT_ID = "tutord-test.apps.googleusercontent.com"


def _google_claims(email, verified=True, sub=None, **over):
    now = int(time.time())
    c = {"iss": "https://accounts.google.com", "aud": CLIENT_ID, "sub": sub or uuid.uuid4().hex,
         "email": email, "email_verified": verified, "name": "Gee User", "iat": now, "exp": now + 600}
    c.update(over)
    return c


def test_google_sign_in(tutord_factory, tmp_path):
    key, stranger = _rsa(), _rsa()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [_jwk(key, "k1")]}))
    t = tutord_factory(TUTORD_GOOGLE_JWKS=str(jwks), TUTORD_GOOGLE_CLIENT_ID=CLIENT_ID, **FAST)
    hdr = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    email = uniq("gee")
    claims = _google_claims(email)
    made = ok(call(t, "google", body={"id_token": _rs256(key, hdr, claims)}), 201)
    assert made["user"]["email"] == email and made["user"]["name"] == "Gee User"
    assert verify(t, made["token"])["user"] == made["user"]["id"]
    again = ok(call(t, "google", body={"id_token": _rs256(key, hdr, claims)}), 200)
    assert again["user"]["id"] == made["user"]["id"]
    # the other issuer spelling is fine
    ok(call(t, "google", body={"id_token": _rs256(key, hdr, dict(claims, iss="accounts.google.com"))}), 200)
    # link by verified email to a password account
    pw = register(t, uniq("link"))
    linked = ok(call(t, "google", body={"id_token": _rs256(key, hdr, _google_claims(pw["user"]["email"]))}), 200)
    assert linked["user"]["id"] == pw["user"]["id"]
    # an unverified email of an existing account is not linked
    pw2 = register(t, uniq("nolink"))
    err(call(t, "google", body={"id_token": _rs256(key, hdr, _google_claims(pw2["user"]["email"], verified=False))}),
        409, "id_token")
    # refused: wrong iss, aud, expired, unknown kid, wrong key, alg games, tampering
    bad = [
        _rs256(key, hdr, dict(claims, iss="https://evil.example.com")),
        _rs256(key, hdr, dict(claims, aud="someone-else")),
        _rs256(key, hdr, dict(claims, exp=int(time.time()) - 5)),
        _rs256(key, dict(hdr, kid="k2"), claims),
        _rs256(stranger, hdr, claims),
        _rs256(key, dict(hdr, alg="RS512"), claims),
        _rs256(key, {"alg": "RS256"}, claims),
        forge({"alg": "HS256", "kid": "k1"}, claims, json.dumps(_jwk(key, "k1"))),
        forge({"alg": "HS256", "kid": "k1"}, claims, SECRET),
        b64(json.dumps({"alg": "none", "kid": "k1"})) + "." + b64(json.dumps(claims)) + ".",
        "not.a.token",
    ]
    tok = _rs256(key, hdr, claims)
    h, p, s = tok.split(".")
    bad.append(h + "." + p[:-3] + ("A" if p[-3] != "A" else "B") + p[-2:] + "." + s)
    bad.append(h + "." + p + "." + s[:20] + ("A" if s[20] != "A" else "B") + s[21:])
    for i, b in enumerate(bad):
        err(call(t, "google", body={"id_token": b}), 401, "id_token")
    # a tutord access token is not a Google token, and the reverse
    err(call(t, "google", body={"id_token": made["token"]}), 401)
    assert verify(t, tok) is None


def test_google_jwks_over_http_with_cache(tutord_factory, tmp_path):
    import http.server
    import threading
    key = _rsa()
    served = {"keys": [_jwk(key, "k1")], "hits": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served["hits"] += 1
            body = json.dumps({"keys": served["keys"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "public, max-age=3600, must-revalidate")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        url = "http://127.0.0.1:%d/certs" % srv.server_address[1]
        t = tutord_factory(TUTORD_GOOGLE_JWKS=url, TUTORD_GOOGLE_CLIENT_ID=CLIENT_ID, **FAST)
        hdr = {"alg": "RS256", "kid": "k1"}
        for i in range(3):
            ok(call(t, "google", body={"id_token": _rs256(key, hdr, _google_claims(uniq("http")))}), 201)
        assert served["hits"] == 1          # cached for max-age
    finally:
        srv.shutdown()
        srv.server_close()


def test_logout_is_seen_by_another_process(tutord_factory):
    """Two tutord processes on one database: a logout through one is refused by the other."""
    one = tutord_factory(**FAST)
    two = tutord_factory(**FAST)
    out = register(one, uniq("twoproc"))
    assert verify(two, out["token"]) is not None
    assert call(one, "logout", out["token"])["status"] == 204
    assert verify(two, out["token"]) is None
    err(call(two, "refresh", body={"refresh_token": out["refresh_token"]}), 401)


def test_bad_identity_configuration_names_the_variable(harness, tmp_path):
    exe = os.path.join(harness.build_dir(), "tutord")
    cases = [("TUTORD_ACCESS_TTL_S", "0"), ("TUTORD_ACCESS_TTL_S", "15m"),
             ("TUTORD_REFRESH_TTL_S", "-1"), ("TUTORD_LOGIN_MAX_PER_ACCOUNT", "0"),
             ("TUTORD_LOGIN_MAX_PER_IP", "lots"), ("TUTORD_LOGIN_WINDOW_S", "99999999"),
             ("TUTORD_ARGON2_OPSLIMIT", "0"), ("TUTORD_ARGON2_MEMLIMIT_KIB", "4"),
             ("TUTORD_GOOGLE_JWKS", "relative/jwks.json"), ("TUTORD_GOOGLE_JWKS", "ftp://x/y")]
    for name, value in cases:
        env = dict(os.environ, TUTORD_VAR=str(tmp_path), **{name: value})
        res = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=30)
        assert res.returncode == 2, (name, value, res.returncode, res.stderr)
        lines = [x for x in res.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and name in lines[0], (name, value, res.stderr)
    env = dict(os.environ, TUTORD_VAR=str(tmp_path), TUTORD_GOOGLE_JWKS="/etc/jwks.json")
    env.pop("TUTORD_GOOGLE_CLIENT_ID", None)
    res = subprocess.run([exe], env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode == 2 and "TUTORD_GOOGLE_CLIENT_ID" in res.stderr, res.stderr
    res = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=30)
    for name in ("TUTORD_ACCESS_TTL_S", "TUTORD_REFRESH_TTL_S", "TUTORD_LOGIN_MAX_PER_ACCOUNT",
                 "TUTORD_LOGIN_MAX_PER_IP", "TUTORD_LOGIN_WINDOW_S", "TUTORD_ARGON2_OPSLIMIT",
                 "TUTORD_ARGON2_MEMLIMIT_KIB", "TUTORD_GOOGLE_JWKS", "TUTORD_GOOGLE_CLIENT_ID"):
        assert name in res.stdout, name
        assert name in open(os.path.join(harness.source_dir, "deploy", "tutord.env.example")).read()


def _sql(statement):
    res = subprocess.run(["psql", os.environ["TUTORD_TEST_DB"], "-v", "ON_ERROR_STOP=1", "-At",
                          "-c", statement], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def test_expired_sessions_and_refresh_tokens(idt):
    a = register(idt, uniq("exp"))
    b = register(idt, uniq("exp2"))
    sa = verify(idt, a["token"])["session"]
    sb = verify(idt, b["token"])["session"]
    assert len(sa) == 36 and len(sb) == 36           # uuids: safe to put in the statement
    # a refresh token past its lifetime is refused (the session itself still lives)
    _sql("UPDATE identity_refresh_tokens SET expires_at = now() - interval '1 second' "
         "WHERE session_id = '%s'" % sa)
    err(call(idt, "refresh", body={"refresh_token": a["refresh_token"]}), 401)
    assert verify(idt, a["token"]) is not None
    # a session past its lifetime refuses its access tokens at once
    _sql("UPDATE identity_sessions SET expires_at = now() - interval '1 second' WHERE id = '%s'" % sb)
    assert verify(idt, b["token"]) is None
    err(call(idt, "refresh", body={"refresh_token": b["refresh_token"]}), 401)


def test_concurrent_refresh_with_one_token(idt):
    import concurrent.futures
    out = register(idt, uniq("race"))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: call(idt, "refresh", body={"refresh_token": out["refresh_token"]}),
                                range(4)))
    statuses = sorted(r["status"] for r in replies)
    # at most one exchange wins; the others are reuse and end the family
    assert statuses.count(200) <= 1 and set(statuses) <= {200, 401}, statuses
    for r in replies:
        if r["status"] == 200 and statuses.count(401):
            assert verify(idt, r["body"]["token"]) is None


def test_verify_says_how_long_it_may_be_cached(idt):
    """auth.verify's valid_until: the token's exp, or the session's end when that is earlier;
    a bridge keeps the answer no longer (bridges/web/td_authcache.c)."""
    out = register(idt, uniq("validuntil"))
    claims = json.loads(base64.urlsafe_b64decode(out["token"].split(".")[1] + "=="))
    auth = verify(idt, out["token"])
    assert auth["valid_until"] == claims["exp"], (auth, claims)
    _sql("UPDATE identity_sessions SET expires_at = to_timestamp(%d) WHERE id = '%s'"
         % (claims["exp"] - 100, claims["sid"]))
    assert verify(idt, out["token"])["valid_until"] == claims["exp"] - 100


def test_auth_user_gives_the_rights_as_they_are_now(idt):
    """auth.user (system only): a user's auth map as auth.verify builds it, without a session,
    for work done on their behalf after their request (generation jobs); it follows a role
    change at once. Anyone else is refused; a bad or unknown id is 400 / 404."""
    admin = register(idt, uniq("au-admin"))
    email = uniq("au-member")
    member = register(idt, email)
    org = ok(call(idt, "org.create", admin["token"], body={"name": "AU", "slug": "au-%s" % uuid.uuid4().hex[:8]}), 201)
    ok(call(idt, "org.member.add", admin["token"], body={"email": email, "role": "mentor"}, id=org["id"]), 201)
    system = {"kind": "system"}
    uid = member["user"]["id"]
    m = ok(raw_call(idt, "auth.user", {"user": uid}, system))
    assert m["kind"] == "user" and m["user"] == uid and "session" not in m, m
    assert m["memberships"] == [{"org": org["id"], "role": "mentor"}], m
    assert m["valid_until"] >= int(time.time()) + 30, m
    # the same rights auth.verify gives a token of theirs
    v = verify(idt, member["token"])
    for k in ("memberships", "cohorts", "mentees", "email"):
        assert v[k] == m[k], (k, v, m)
    ok(call(idt, "org.member.role", admin["token"], body={"role": "learner"}, id=org["id"],
            user_id=uid))
    m = ok(raw_call(idt, "auth.user", {"user": uid}, system))
    assert m["memberships"] == [{"org": org["id"], "role": "learner"}], m
    # only the server's own actors
    err(raw_call(idt, "auth.user", {"user": uid}, verify(idt, admin["token"])), 403)
    err(raw_call(idt, "auth.user", {"user": uid}, {"kind": "anonymous"}), 403)
    err(raw_call(idt, "auth.user", {"user": "not-an-id"}, system), 400, "user")
    err(raw_call(idt, "auth.user", {}, system), 400, "user")
    err(raw_call(idt, "auth.user", {"user": str(uuid.uuid4())}, system), 404, "user")
