"""Who may call what: the table-driven access test of issue 3, and the bridge's caller checks.

Why: access control is only as good as its worst route, so every route is tried by every kind of
caller and the answer compared with a table. The world is built through the real routes -- users
registered, orgs A and B created, cohort A1 filled, API keys made -- on one server, and each row
of ROWS says, for one route, the status each caller must get:

    callers   anon, learner (of org A, in cohort A1), mentor (of cohort A1), admin_a, admin_b,
              key_a, key_b (org API keys), revoked (a logged-out session), expired (a token
              forged with the server's TUTORD_SECRET and a past exp), tampered (a learner token
              whose claims were changed after signing)

Adding a route: append a Row to ROWS (method, path with {placeholders} of the world, the body,
and the expected status per caller; `deny(...)` fills in 401 for anonymous and bad tokens).
The other tests check the bridge's own duties: a revoked token is refused on the very next
request, client-supplied auth is never forwarded, the per-token rate limit (429 + Retry-After),
204 without a body, 401 with WWW-Authenticate, and 503 when identity is not there.
"""

import base64
import hashlib
import hmac
import http.client
import itertools
import json
import re
import time


SECRET = "access-test-secret-0123456789abcdef-0123456789"
PASSWORD = "correct horse battery"
CALLERS = ["anon", "learner", "mentor", "admin_a", "admin_b", "key_a", "key_b",
           "revoked", "expired", "tampered"]
USERS = ["learner", "mentor", "admin_a", "admin_b"]
BAD = ["revoked", "expired", "tampered"]
_seq = itertools.count(1)


def unique(prefix):
    return "%s-%d-%d" % (prefix, int(time.time() * 1000) % 10 ** 8, next(_seq))


# -- talking to the server -------------------------------------------------------------------------

def call(t, method, path, token=None, body=None, raw=None, headers=None):
    """(status, headers, parsed JSON or None) of one request, optionally with a bearer token."""
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = "Bearer " + token
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    if data is not None:
        hdrs.setdefault("Content-Type", "application/json")
    status, h, payload = t.request(method, path, body=data, headers=hdrs)
    parsed = None
    if payload and h.get("content-type", "").startswith("application/json"):
        parsed = json.loads(payload)
    return status, h, parsed


def ok(t, method, path, token=None, body=None, expect=(200, 201, 204)):
    s, _, b = call(t, method, path, token, body)
    assert s in expect, (method, path, s, b)
    return b


# -- tokens ----------------------------------------------------------------------------------------

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_claims(token):
    return json.loads(b64url_decode(token.split(".")[1]))


def jwt_sign(claims, secret=SECRET, header=None):
    head = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (head, body, b64url(sig))


def expired_from(token):
    """The same claims (user, session), signed correctly, but expired a while ago."""
    claims = jwt_claims(token)
    now = int(time.time())
    claims.update(iat=now - 3600, exp=now - 1800)
    return jwt_sign(claims)


def tampered_from(token, sub):
    """The claims changed (another user) after signing: the signature no longer matches."""
    head, _, sig = token.split(".")
    claims = jwt_claims(token)
    claims["sub"] = sub
    return "%s.%s.%s" % (head, b64url(json.dumps(claims, separators=(",", ":")).encode()), sig)


# -- the world -------------------------------------------------------------------------------------

class World:
    """Users, orgs A and B, cohort A1, API keys, and a token per caller; built through the API."""

    def __init__(self, t):
        self.t = t
        self.ids = {}           # placeholder -> value, for row paths
        self.tokens = {"anon": None}
        self.emails = {}

    def register(self, who=None):
        email = "%s@example.org" % unique(who or "user")
        b = ok(self.t, "POST", "/api/v1/auth/register",
               body={"email": email, "password": PASSWORD, "name": who or "Someone"}, expect=(201,))
        assert b["token"] and b["refresh_token"] and b["user"]["id"], b
        if who:
            self.tokens[who] = b["token"]
            self.ids[who] = b["user"]["id"]
            self.emails[who] = email
        return b, email

    def login(self, who):
        b = ok(self.t, "POST", "/api/v1/auth/login",
               body={"email": self.emails[who], "password": PASSWORD}, expect=(200,))
        return b

    def member(self, org="A", role="learner"):
        """A fresh user added to org (by admin_a / admin_b): (user id, email)."""
        b, email = self.register()
        admin = "admin_a" if org == "A" else "admin_b"
        ok(self.t, "POST", "/api/v1/orgs/%s/members" % self.ids[org], self.tokens[admin],
           {"email": email, "role": role}, expect=(201,))
        return b["user"]["id"], email

    def cohort_member(self):
        uid, email = self.member("A")
        ok(self.t, "POST", "/api/v1/cohorts/%s/members" % self.ids["A1"], self.tokens["admin_a"],
           {"email": email, "role": "learner"}, expect=(201,))
        return uid

    def api_key(self, org="A"):
        admin = "admin_a" if org == "A" else "admin_b"
        b = ok(self.t, "POST", "/api/v1/orgs/%s/api-keys" % self.ids[org], self.tokens[admin],
               {"name": unique("key")}, expect=(201,))
        assert b["key"].startswith("tdk_") and b["id"], b
        return b

    def build(self):
        t = self.t
        for who in ["admin_a", "admin_b", "learner", "mentor", "learner2", "revoked", "login_user"]:
            self.register(who)
        for org, admin in [("A", "admin_a"), ("B", "admin_b")]:
            b = ok(t, "POST", "/api/v1/orgs", self.tokens[admin],
                   {"name": "Org " + org, "slug": unique("org-" + org.lower())}, expect=(201,))
            self.ids[org] = b["id"]
        for who, role in [("learner", "learner"), ("mentor", "mentor"), ("learner2", "learner"),
                          ("revoked", "learner")]:
            ok(t, "POST", "/api/v1/orgs/%s/members" % self.ids["A"], self.tokens["admin_a"],
               {"email": self.emails[who], "role": role}, expect=(201,))
        b = ok(t, "POST", "/api/v1/orgs/%s/cohorts" % self.ids["A"], self.tokens["admin_a"],
               {"name": "A1"}, expect=(201,))
        self.ids["A1"] = b["id"]
        for who, role in [("learner", "learner"), ("mentor", "mentor"), ("learner2", "learner")]:
            ok(t, "POST", "/api/v1/cohorts/%s/members" % self.ids["A1"], self.tokens["admin_a"],
               {"email": self.emails[who], "role": role}, expect=(201,))
        b = ok(t, "POST", "/api/v1/orgs/%s/cohorts" % self.ids["B"], self.tokens["admin_b"],
               {"name": "B1"}, expect=(201,))
        self.ids["B1"] = b["id"]
        self.tokens["key_a"] = self.api_key("A")["key"]
        self.tokens["key_b"] = self.api_key("B")["key"]
        # the bad tokens: a logged-out session, an expired and a tampered learner token
        ok(t, "POST", "/api/v1/auth/logout", self.tokens["revoked"], expect=(204,))
        self.tokens["expired"] = expired_from(self.tokens["learner"])
        self.tokens["tampered"] = tampered_from(self.tokens["learner"], self.ids["admin_a"])
        return self

    def token_for(self, caller, fresh=False):
        """The caller's token; with fresh, a user gets a new session (for routes that end it)."""
        if fresh and caller in USERS:
            return self.login(caller)["token"]
        return self.tokens[caller]


def build_world(tutord_factory, **env):
    t = tutord_factory(TUTORD_SECRET=SECRET, **env)
    return World(t).build()


# -- the table -------------------------------------------------------------------------------------

class Row:
    """One route: method, path (str.format over the world's ids plus what prep returns), body
    (a value, or a function of the context), expected status per caller. prep(world, caller)
    makes fresh things the call needs (a member to remove, a key to revoke) and returns extra
    placeholders; fresh=True gives user callers a new session (for logout)."""

    def __init__(self, method, path, expect, body=None, prep=None, fresh=False):
        self.method, self.path, self.expect = method, path, expect
        self.body, self.prep, self.fresh = body, prep, fresh

    def __repr__(self):
        return "%s %s" % (self.method, self.path)


def deny(**per_caller):
    """Expectations for a protected route: 401 for anonymous and every bad token."""
    out = {c: 401 for c in ["anon"] + BAD}
    out.update(per_caller)
    missing = set(CALLERS) - set(out)
    assert not missing, missing
    return out


def same(status):
    """A route that ignores the token: the same answer for everybody."""
    return {c: status for c in CALLERS}


def in_org_a(learner, mentor, admin_a, key_a, admin_b=404, key_b=404):
    """A route of org A: org B's people may not know it exists (404)."""
    return deny(learner=learner, mentor=mentor, admin_a=admin_a, admin_b=admin_b,
                key_a=key_a, key_b=key_b)


def _new_email(w, caller):
    return {"email": "%s@example.org" % unique("new")}


def _fresh_email(w, caller):
    return {"email": w.register()[1]}


def _fresh_refresh(w, caller):
    return {"refresh": w.login("login_user")["refresh_token"]}


def _victim(w, caller):
    return {"victim": w.member("A")[0]}


def _cohort_victim(w, caller):
    return {"victim": w.cohort_member()}


def _org_member(w, caller):
    return {"uid": w.member("A")[0]}


def _key(w, caller):
    return {"key_id": w.api_key("A")["id"]}


SUBMISSION = {"language": "python", "code": "print(input())",
              "tests": [{"stdin": "hi", "expected_stdout": "hi\n"}]}


def _submission(w, caller):
    """A submission of the learner (org A, cohort A1)."""
    return {"S": ok(w.t, "POST", "/api/v1/submissions", w.token_for("learner"), SUBMISSION,
                    expect=(202,))["id"]}


def _graded(w, visibility="public", publish=True):
    """A course of org A with an exercise item X and a single-choice question item Q."""
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("graded"), "title": "Graded", "visibility": visibility}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "mod", "title": "M"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "les", "title": "L"})
    x = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
           {"slug": "exer", "kind": "exercise", "title": "X", "content": {
               "language": "python", "instructions": "Echo.", "starter_code": "",
               "tests": [{"stdin": "a", "expected_stdout": "a\n"},
                         {"stdin": "b", "expected_stdout": "b\n", "hidden": True}],
               "hints": ["input()"], "solution": "print(input())"}}, expect=(201,))
    q = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
           {"slug": "ques", "kind": "question", "title": "Q", "content": {
               "type": "single", "prompt": "?", "choices": ["a", "b"], "answer": 1}}, expect=(201,))
    if publish:
        ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return {"X": x["id"], "Q": q["id"]}


ROWS = [
    # public, token verified when given
    Row("GET", "/api/v1/services/identity/ping",
        deny(anon=200, learner=200, mentor=200, admin_a=200, admin_b=200, key_a=200, key_b=200)),
    # public, token ignored: the body decides
    Row("POST", "/api/v1/auth/register", same(201),
        body=lambda c: {"email": c["email"], "password": PASSWORD, "name": "New"},
        prep=_new_email),
    Row("POST", "/api/v1/auth/login", same(200),
        body=lambda c: {"email": c["emails"]["login_user"], "password": PASSWORD}),
    Row("POST", "/api/v1/auth/refresh", same(200),
        body=lambda c: {"refresh_token": c["refresh"]}, prep=_fresh_refresh),
    # a user's own account (an API key is not a user: 401 from identity)
    Row("POST", "/api/v1/auth/logout",
        deny(learner=204, mentor=204, admin_a=204, admin_b=204, key_a=401, key_b=401), fresh=True),
    Row("GET", "/api/v1/me",
        deny(learner=200, mentor=200, admin_a=200, admin_b=200, key_a=401, key_b=401)),
    Row("PUT", "/api/v1/me/password",
        deny(learner=403, mentor=403, admin_a=403, admin_b=403, key_a=401, key_b=401),
        body={"current_password": "not-the-password", "new_password": "another password"}),
    # organisations
    Row("POST", "/api/v1/orgs",
        deny(learner=201, mentor=201, admin_a=201, admin_b=201, key_a=403, key_b=403),
        body=lambda c: {"name": "Another", "slug": unique("org")}),
    Row("GET", "/api/v1/orgs/{A}", in_org_a(200, 200, 200, 200)),
    Row("GET", "/api/v1/orgs/{B}",
        deny(learner=404, mentor=404, admin_a=404, admin_b=200, key_a=404, key_b=200)),
    Row("GET", "/api/v1/orgs/{A}/members", in_org_a(403, 403, 200, 200)),
    Row("POST", "/api/v1/orgs/{A}/members", in_org_a(403, 403, 201, 403),
        body=lambda c: {"email": c["email"], "role": "learner"}, prep=_fresh_email),
    Row("PUT", "/api/v1/orgs/{A}/members/{learner2}", in_org_a(403, 403, 200, 403),
        body={"role": "learner"}),
    Row("DELETE", "/api/v1/orgs/{A}/members/{victim}", in_org_a(403, 403, 204, 403),
        prep=_victim),
    # cohorts
    Row("GET", "/api/v1/orgs/{A}/cohorts", in_org_a(200, 200, 200, 200)),
    Row("POST", "/api/v1/orgs/{A}/cohorts", in_org_a(403, 403, 201, 403),
        body=lambda c: {"name": unique("cohort")}),
    Row("GET", "/api/v1/cohorts/{A1}", in_org_a(200, 200, 200, 200)),
    Row("GET", "/api/v1/cohorts/{B1}",
        deny(learner=404, mentor=404, admin_a=404, admin_b=200, key_a=404, key_b=200)),
    Row("POST", "/api/v1/cohorts/{A1}/members", in_org_a(403, 403, 201, 403),
        body=lambda c: {"user_id": c["uid"], "role": "learner"}, prep=_org_member),
    Row("DELETE", "/api/v1/cohorts/{A1}/members/{victim}", in_org_a(403, 403, 204, 403),
        prep=_cohort_victim),
    # API keys
    Row("GET", "/api/v1/orgs/{A}/api-keys", in_org_a(403, 403, 200, 403)),
    Row("POST", "/api/v1/orgs/{A}/api-keys", in_org_a(403, 403, 201, 403),
        body=lambda c: {"name": unique("key")}),
    Row("DELETE", "/api/v1/orgs/{A}/api-keys/{key_id}", in_org_a(403, 403, 204, 403),
        prep=_key),
    # grader (issue 5): any signed-in caller or key may submit and run code; a submission is
    # seen by its owner, the owner's mentor, and the admins and keys of its org (A)
    Row("POST", "/api/v1/submissions",
        deny(learner=202, mentor=202, admin_a=202, admin_b=202, key_a=202, key_b=202),
        body=SUBMISSION),
    Row("POST", "/api/v1/submissions/batch",
        deny(learner=202, mentor=202, admin_a=202, admin_b=202, key_a=202, key_b=202),
        body={"submissions": [SUBMISSION, SUBMISSION]}),
    Row("GET", "/api/v1/submissions/{S}", in_org_a(200, 200, 200, 200), prep=_submission),
    Row("POST", "/api/v1/execute",
        deny(learner=200, mentor=200, admin_a=200, admin_b=200, key_a=200, key_b=200),
        body={"language": "python", "code": "print(6 * 7)"}),
    # submissions to catalog items (GRADER.md §1): who may not see the item gets 404
    Row("POST", "/api/v1/submissions",
        deny(learner=202, mentor=202, admin_a=202, admin_b=202, key_a=202, key_b=202),
        body=lambda c: {"item_id": c["X"], "code": "print(input())"}, prep=lambda w, _: _graded(w)),
    Row("POST", "/api/v1/submissions", in_org_a(202, 202, 202, 202),
        body=lambda c: {"item_id": c["X"], "code": "print(input())"},
        prep=lambda w, _: _graded(w, visibility="org")),
    Row("POST", "/api/v1/submissions",
        deny(learner=404, mentor=202, admin_a=202, admin_b=404, key_a=404, key_b=404),
        body=lambda c: {"item_id": c["X"], "code": "print(input())"},
        prep=lambda w, _: _graded(w, publish=False)),
    Row("POST", "/api/v1/submissions", in_org_a(202, 202, 202, 202),
        body=lambda c: {"item_id": c["Q"], "answer": 1},
        prep=lambda w, _: _graded(w, visibility="org")),
]


# catalog (issue 4): a published public course C of org A with module M, lesson L, item I
def _course(w, visibility="public", publish=True):
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("course"), "title": "Course", "visibility": visibility}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "mod", "title": "M"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "les", "title": "L"})
    i = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
           {"slug": "item", "kind": "material", "title": "I",
            "content": {"blocks": [{"type": "markdown", "text": "Hi"}]}})
    if publish:
        ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return {"C": c["id"], "M": m["id"], "L": l["id"], "I": i["id"]}


def _pub(w, caller):
    return _course(w)


def _draft_course(w, caller):
    return {"D": _course(w, publish=False)["C"]}


def _org_course(w, caller):
    return {"O": _course(w, visibility="org")["C"]}


def _enrolled(w, caller):
    ctx = _course(w)
    if caller in USERS:
        ok(w.t, "POST", "/api/v1/courses/%s/enrolment" % ctx["C"], w.tokens[caller], expect=(201,))
    return ctx


def _saved_draft(w, caller):
    ctx = _course(w)
    if caller in USERS:
        ok(w.t, "PUT", "/api/v1/items/%s/draft" % ctx["I"], w.tokens[caller],
           {"code": "print(1)", "version": 0}, expect=(200,))
    return ctx


def _snippet(w, caller):
    """A snippet of the learner."""
    return {"SN": ok(w.t, "POST", "/api/v1/me/snippets", w.tokens["learner"],
                     {"title": "Hello", "description": "d", "language": "python",
                      "code": "print('hello')"}, expect=(201,))["id"]}


def _linked(w, caller):
    """A public course of org A (C) and cohort A1 (cohort_id); for the DELETE row, linked."""
    ctx = dict(_course(w), cohort_id=w.ids["A1"])
    return ctx


def _linked_delete(w, caller):
    ctx = _linked(w, caller)
    ok(w.t, "PUT", "/api/v1/courses/%s/cohorts/%s" % (ctx["C"], w.ids["A1"]), w.tokens["admin_a"],
       {"start_date": "2026-01-01", "every_days": 7}, expect=(201,))
    return ctx


def _exam(w, caller):
    """A public course of org A whose lesson L has an exam pool of one exercise."""
    ctx = _course(w, publish=False)
    ok(w.t, "POST", "/api/v1/lessons/%s/items" % ctx["L"], w.tokens["admin_a"],
       {"slug": "exam", "kind": "exercise", "title": "Exam",
        "content": {"language": "python", "instructions": "Echo.", "starter_code": "",
                    "tests": [{"stdin": "a", "expected_stdout": "a\n"}], "hints": [],
                    "solution": "print(input())", "exam": True}}, expect=(201,))
    ok(w.t, "POST", "/api/v1/courses/%s/publish" % ctx["C"], w.tokens["admin_a"], expect=(200,))
    return ctx


def authors_a(ok_status, see_b=True):
    """A catalog change on org A's public course: its admins and mentors may; whoever can see
    the course gets 403 (org B's people too, the course being public)."""
    other = 403 if see_b else 404
    return deny(learner=403, mentor=ok_status, admin_a=ok_status, admin_b=other, key_a=403,
                key_b=other)


def signed_in(status):
    return deny(learner=status, mentor=status, admin_a=status, admin_b=status, key_a=status,
                key_b=status)


def users_only(status):
    return deny(learner=status, mentor=status, admin_a=status, admin_b=status, key_a=403,
                key_b=403)


ROWS += [
    Row("GET", "/api/v1/courses", signed_in(200)),
    Row("POST", "/api/v1/orgs/{A}/courses", in_org_a(403, 201, 201, 403),
        body=lambda c: {"slug": unique("course"), "title": "New"}),
    Row("GET", "/api/v1/courses/{C}", signed_in(200), prep=_pub),
    Row("GET", "/api/v1/courses/{D}", in_org_a(404, 200, 200, 404), prep=_draft_course),
    Row("GET", "/api/v1/courses/{O}", in_org_a(200, 200, 200, 200), prep=_org_course),
    Row("PATCH", "/api/v1/courses/{C}", authors_a(200), body={"title": "Renamed"}, prep=_pub),
    Row("DELETE", "/api/v1/courses/{C}", authors_a(204), prep=_pub),
    Row("POST", "/api/v1/courses/{C}/publish", authors_a(200), prep=_pub),
    Row("POST", "/api/v1/courses/{C}/duplicate", authors_a(201),
        body=lambda c: {"slug": unique("copy")}, prep=_pub),
    Row("PUT", "/api/v1/courses/{C}/order", authors_a(200),
        body=lambda c: {"modules": [c["M"]]}, prep=_pub),
    Row("POST", "/api/v1/courses/{C}/modules", authors_a(201),
        body={"slug": "mod-new", "title": "New"}, prep=_pub),
    Row("DELETE", "/api/v1/modules/{M}", authors_a(204), prep=_pub),
    Row("PUT", "/api/v1/modules/{M}/order", authors_a(200),
        body=lambda c: {"lessons": [c["L"]]}, prep=_pub),
    Row("POST", "/api/v1/modules/{M}/lessons", authors_a(201),
        body={"slug": "les-new", "title": "New"}, prep=_pub),
    Row("DELETE", "/api/v1/lessons/{L}", authors_a(204), prep=_pub),
    Row("PUT", "/api/v1/lessons/{L}/order", authors_a(200),
        body=lambda c: {"items": [c["I"]]}, prep=_pub),
    Row("POST", "/api/v1/lessons/{L}/items", authors_a(201),
        body={"slug": "item-new", "kind": "vocabulary", "title": "Hund",
              "content": {"word": "Hund", "article": "der"}}, prep=_pub),
    Row("GET", "/api/v1/items/{I}", signed_in(200), prep=_pub),
    Row("PATCH", "/api/v1/items/{I}", authors_a(200), body={"title": "Renamed"}, prep=_pub),
    Row("DELETE", "/api/v1/items/{I}", authors_a(204), prep=_pub),
    Row("POST", "/api/v1/courses/{C}/enrolment", users_only(201), prep=_pub),
    Row("DELETE", "/api/v1/courses/{C}/enrolment", users_only(204), prep=_enrolled),
    Row("GET", "/api/v1/me/courses", users_only(200)),
    # drafts and snippets: the caller's own (a key is not a user: 403)
    Row("GET", "/api/v1/items/{I}/draft", users_only(200), prep=_saved_draft),
    Row("PUT", "/api/v1/items/{I}/draft", users_only(200),
        body={"code": "print(2)", "version": 0}, prep=_pub),
    Row("GET", "/api/v1/me/snippets", users_only(200)),
    Row("POST", "/api/v1/me/snippets", users_only(201),
        body={"title": "S", "description": "", "language": "python", "code": "print(1)"}),
    Row("GET", "/api/v1/me/snippets/{SN}", users_only(404) | {"learner": 200}, prep=_snippet),
    Row("PATCH", "/api/v1/me/snippets/{SN}", users_only(404) | {"learner": 200},
        body={"title": "Renamed"}, prep=_snippet),
    Row("DELETE", "/api/v1/me/snippets/{SN}", users_only(404) | {"learner": 204}, prep=_snippet),
    Row("PUT", "/api/v1/me/snippets/{SN}/star", users_only(404) | {"learner": 200}, prep=_snippet),
    Row("DELETE", "/api/v1/me/snippets/{SN}/star", users_only(404) | {"learner": 200},
        prep=_snippet),
    Row("GET", "/api/v1/me/snippets/{SN}/similar", users_only(404) | {"learner": 200},
        prep=_snippet),
    # drip per cohort, progress and exams (CATALOG.md §5-§7)
    Row("GET", "/api/v1/courses/{C}/cohorts", authors_a(200), prep=_pub),
    Row("PUT", "/api/v1/courses/{C}/cohorts/{cohort_id}", authors_a(201),
        body={"start_date": "2026-01-01", "every_days": 7}, prep=_linked),
    Row("DELETE", "/api/v1/courses/{C}/cohorts/{cohort_id}", authors_a(204), prep=_linked_delete),
    Row("GET", "/api/v1/courses/{C}/progress", users_only(200), prep=_pub),
    Row("GET", "/api/v1/lessons/{L}/exam", users_only(200), prep=_exam),
]



# -- rows of issue 6 (srs): add a ROWS += [...] block and its prep functions below this line --

def _srs_card(w, caller):
    """A card of the learner: nobody else may know it exists (404); keys have no cards (403)."""
    b = ok(w.t, "POST", "/api/v1/cards", w.tokens["learner"], {"front": "Hund", "back": "dog"},
           expect=(201,))
    return {"id": b["id"]}


def _srs_reviewed(w, caller):
    """A card of the learner with one review to undo."""
    ctx = _srs_card(w, caller)
    ok(w.t, "POST", "/api/v1/reviews", w.tokens["learner"], {"card_id": ctx["id"], "rating": 3},
       expect=(200,))
    return ctx


ROWS += [
    Row("POST", "/api/v1/cards", users_only(201), body={"front": "Katze", "back": "cat"}),
    Row("GET", "/api/v1/cards/{id}", users_only(404) | {"learner": 200}, prep=_srs_card),
    Row("GET", "/api/v1/cards/{id}/preview", users_only(404) | {"learner": 200}, prep=_srs_card),
    Row("POST", "/api/v1/cards/{id}/undo", users_only(404) | {"learner": 200}, prep=_srs_reviewed),
    Row("POST", "/api/v1/reviews", users_only(404) | {"learner": 200},
        body=lambda c: {"card_id": c["id"], "rating": 3}, prep=_srs_card),
    Row("GET", "/api/v1/reviews/due", users_only(200)),
    Row("GET", "/api/v1/me/srs-settings", users_only(200)),
    Row("PUT", "/api/v1/me/srs-settings", users_only(200), body={"new_per_day": 15}),
    Row("POST", "/api/v1/me/srs-settings/optimize", users_only(200)),
]


def _srs_org_item(w, caller):
    """A question of an org-A-only course: org A's people may add it, org B may not know it."""
    return _graded(w, visibility="org")


ROWS += [
    Row("POST", "/api/v1/cards", users_only(201) | {"admin_b": 404},
        body=lambda c: {"item_id": c["Q"]}, prep=_srs_org_item),
]

# -- rows of issue 7 (llm, tutor): add a ROWS += [...] block and its prep functions below this line --

ROWS += [
    # conversation practice (llmconv): the session's words become the learner's own cards
    Row("POST", "/api/v1/tutor/sessions/{S}/cards", users_only(404) | {"learner": 201},
        body={"words": [{"word": "Haus", "translation": "house"}]}, prep=lambda w, c: _tutor_session(w, c)),
]

def _tutor_session(w, caller):
    """A tutor session of the learner as {S} (a placeholder the coverage check knows; the
    server's provider is offline)."""
    return {"S": ok(w.t, "POST", "/api/v1/tutor/sessions", w.tokens["learner"],
                     {"mode": "tutor"}, expect=(201,))["id"]}


ROWS += [
    # tutor sessions are the learner's own: a key is not a learner (403), others may not know (404)
    Row("POST", "/api/v1/tutor/sessions", users_only(201), body={"mode": "tutor"}),
    Row("GET", "/api/v1/tutor/sessions/{S}", users_only(404) | {"learner": 200}, prep=_tutor_session),
    Row("POST", "/api/v1/tutor/sessions/{S}/messages", users_only(404) | {"learner": 202},
        body={"text": "Help"}, prep=_tutor_session),
    Row("POST", "/api/v1/tutor/sessions/{S}/cancel", users_only(404) | {"learner": 200},
        prep=_tutor_session),
    # an org's model settings and usage: its admins (and its keys, except changing settings)
    Row("GET", "/api/v1/orgs/{A}/llm", in_org_a(403, 403, 200, 200)),
    Row("PUT", "/api/v1/orgs/{A}/llm", in_org_a(403, 403, 200, 403), body={"provider": "offline"}),
    Row("GET", "/api/v1/orgs/{A}/usage", in_org_a(403, 403, 200, 200)),
]


def _llm_exercise(w, caller):
    """An exercise item (as {EX}, used in bodies only) in a public published course of org A."""
    if "EX" not in w.ids:
        tok = w.tokens["admin_a"]
        c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
               {"slug": unique("llm"), "title": "LLM", "visibility": "public"}, expect=(201,))
        m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "mod", "title": "M"})
        l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "les", "title": "L"})
        w.ids["EX"] = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok, {
            "slug": "exer", "kind": "exercise", "title": "Echo", "content": {
                "language": "python", "instructions": "Echo a line.", "starter_code": "",
                "tests": [{"stdin": "a", "expected_stdout": "a\n"}], "hints": ["input()"],
                "solution": "print(input())"}})["id"]
        w.ids["SQ"] = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok, {
            "slug": "essay", "kind": "question", "title": "Essay", "content": {
                "type": "subjective", "prompt": "Why test?", "scorecard": [
                    {"criterion": "clarity", "description": "Clear", "max_points": 2}]}})["id"]
        ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return {"EX": w.ids["EX"], "SQ": w.ids["SQ"]}


ROWS += [
    # one-shot helpers on a public exercise: any user who can see it (a key is not a learner)
    Row("POST", "/api/v1/llm/hint", users_only(200), body=lambda c: {"item_id": c["EX"]},
        prep=_llm_exercise),
    Row("POST", "/api/v1/llm/feedback", users_only(200),
        body=lambda c: {"item_id": c["EX"], "code": "print(1)"}, prep=_llm_exercise),
    # helpers that need a model: this world's provider is offline, so a permitted caller gets 503
    Row("POST", "/api/v1/llm/explain", users_only(503), body={"code": "print(1)"}),
    Row("POST", "/api/v1/llm/complexity", users_only(503), body={"code": "print(1)"}),
    Row("POST", "/api/v1/llm/evaluate", users_only(503),
        body=lambda c: {"item_id": c["SQ"], "answer": "Tests catch bugs."}, prep=_llm_exercise),
]


def _gen_course(w, caller):
    """A draft course of org A (GC) whose lesson (GL) holds a vocabulary item: the world's provider
    is offline, and offline vocabulary jobs are the kind it can make (LLM.md §8)."""
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("gen"), "title": "Gen"}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "mod", "title": "M"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "les", "title": "L"})
    ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
       {"slug": "word", "kind": "vocabulary", "title": "Haus",
        "content": {"word": "Haus", "translation": "house", "example": "Das Haus ist alt."}})
    return {"GC": c["id"], "GL": l["id"]}


def _gen_job(w, caller):
    """A finished offline generation job of org A as {J} (waited for, so cancel answers 409 to
    whoever passes the access check: the job has ended)."""
    ctx = _gen_course(w, caller)
    tok = w.tokens["admin_a"]
    j = ok(w.t, "POST", "/api/v1/generation/jobs", tok,
           {"kind": "vocabulary_exercises", "org_id": w.ids["A"], "course_id": ctx["GC"],
            "target_id": ctx["GL"], "count": 1}, expect=(202,))
    end = time.monotonic() + 20
    while ok(w.t, "GET", "/api/v1/generation/jobs/%s" % j["id"], tok)["status"] in ("queued", "running"):
        assert time.monotonic() < end, "the offline job did not finish"
        time.sleep(0.05)
    return {"J": j["id"]}


ROWS += [
    # generation jobs (LLM.md §8): the org's admins and mentors; its learners 403; a key is not a
    # user (403 on create, and it may not know a job exists); org B's people 404
    Row("POST", "/api/v1/generation/jobs",
        deny(learner=403, mentor=202, admin_a=202, admin_b=404, key_a=403, key_b=403),
        body=lambda c: {"kind": "vocabulary_exercises", "org_id": c["A"], "course_id": c["GC"],
                        "target_id": c["GL"], "count": 1}, prep=_gen_course),
    Row("GET", "/api/v1/generation/jobs/{J}",
        deny(learner=404, mentor=200, admin_a=200, admin_b=404, key_a=404, key_b=404), prep=_gen_job),
    Row("POST", "/api/v1/generation/jobs/{J}/cancel",
        deny(learner=404, mentor=409, admin_a=409, admin_b=404, key_a=404, key_b=404), prep=_gen_job),
    Row("GET", "/api/v1/orgs/{A}/generation/jobs", in_org_a(403, 200, 200, 403)),
]

# -- rows of issue 8 (analytics): add a ROWS += [...] block and its prep functions below this line --

# analytics (issue 8, ANALYTICS.md): learner figures are the caller's own (a key has none: 403);
# the event log answers the caller's own events, an org's only to its admins and keys; a cohort's
# board its members, mentors, the org's admins and keys; an org's board its members and keys.
ROWS += [
    Row("GET", "/api/v1/me/stats", users_only(200)),
    Row("GET", "/api/v1/me/heatmap", users_only(200)),
    Row("GET", "/api/v1/me/achievements", users_only(200)),
    Row("GET", "/api/v1/me/report", users_only(200)),
    Row("GET", "/api/v1/me/progress", users_only(200)),
    Row("GET", "/api/v1/me/report?user_id={learner}",
        deny(learner=200, mentor=200, admin_a=200, admin_b=404, key_a=403, key_b=403)),
    Row("GET", "/api/v1/me/analytics-settings", users_only(200)),
    Row("PUT", "/api/v1/me/analytics-settings", users_only(200), body={"timezone": "UTC"}),
    Row("GET", "/api/v1/events", signed_in(200)),
    Row("GET", "/api/v1/events?org_id={A}", in_org_a(403, 403, 200, 200)),
    Row("GET", "/api/v1/cohorts/{A1}/leaderboard", in_org_a(200, 200, 200, 200)),
    Row("GET", "/api/v1/cohorts/{B1}/leaderboard",
        deny(learner=404, mentor=404, admin_a=404, admin_b=200, key_a=404, key_b=200)),
    Row("GET", "/api/v1/orgs/{A}/leaderboard", in_org_a(200, 200, 200, 200)),
    Row("GET", "/api/v1/orgs/{A}/xapi", in_org_a(403, 403, 200, 200)),
    Row("GET", "/api/v1/cohorts/{A1}/metrics", in_org_a(403, 200, 200, 200)),
    Row("GET", "/api/v1/orgs/{A}/activity", in_org_a(403, 403, 200, 200)),
    # without org_id only a member of exactly one org is answered; by this row every user has
    # also created an org of their own (POST /api/v1/orgs above), so org_id is needed: 400
    Row("GET", "/api/v1/me/league", users_only(400)),
    Row("GET", "/api/v1/me/league?org_id={A}",
        deny(learner=200, mentor=200, admin_a=200, admin_b=404, key_a=403, key_b=403)),
]


# -- rows of issue 6 point 5 (practice sessions): add a ROWS += [...] block below this line --
def _practice_deck(w, caller):
    """A fresh deck with one new card of the caller (when the caller is a user)."""
    deck = unique("pdeck")
    if caller in USERS:
        ok(w.t, "POST", "/api/v1/cards", w.tokens[caller],
           {"front": "der Hund", "back": "the dog", "deck": deck}, expect=(201,))
    return {"deck": deck}


def _practice_session(w, caller):
    """A practice session of the learner: nobody else may know it exists (404)."""
    deck = _practice_deck(w, "learner")["deck"]
    s = ok(w.t, "POST", "/api/v1/practice/sessions", w.tokens["learner"],
           {"type": "flashcards", "deck": deck}, expect=(201,))
    return {"id": s["id"], "q": s["question"]["id"]}


ROWS += [
    Row("POST", "/api/v1/practice/sessions", users_only(201),
        body=lambda c: {"type": "flashcards", "deck": c["deck"]}, prep=_practice_deck),
    Row("GET", "/api/v1/practice/sessions/{id}", users_only(404) | {"learner": 200},
        prep=_practice_session),
    Row("POST", "/api/v1/practice/sessions/{id}/answers", users_only(404) | {"learner": 200},
        body=lambda c: {"question_id": c["q"], "answer": "good"}, prep=_practice_session),
    Row("POST", "/api/v1/practice/sessions/{id}/finish", users_only(404) | {"learner": 200},
        prep=_practice_session),
]


# -- rows of issue 9 (trainer): a run belongs to its owner; their mentor, org admins and org
#    keys may see and evaluate it; only the owner and org admins may stop or resume it --
RUN = {"env": "CartPole-v1", "algo": "ppo", "total_steps": 128, "seed": 1,
       "hyperparameters": {"n_steps": 64, "n_envs": 2, "batch_size": 64, "n_epochs": 1,
                           "hidden": [8]}}


def _run_of_learner(w, until=None):
    tok = w.tokens["learner"]
    run = ok(w.t, "POST", "/api/v1/training/runs", tok, RUN, expect=(202,))
    end = time.monotonic() + 60
    while until and time.monotonic() < end:
        if ok(w.t, "GET", "/api/v1/training/runs/%s" % run["id"], tok)["status"] in until:
            break
        time.sleep(0.05)
    return {"R": run["id"]}


def _run(w, caller):
    return _run_of_learner(w)


def _stopped_run(w, caller):
    ctx = _run_of_learner(w)
    ok(w.t, "POST", "/api/v1/training/runs/%s/stop" % ctx["R"], w.tokens["learner"])
    return _wait_stopped(w, ctx)


def _wait_stopped(w, ctx):
    tok, end = w.tokens["learner"], time.monotonic() + 60
    while time.monotonic() < end:
        st = ok(w.t, "GET", "/api/v1/training/runs/%s" % ctx["R"], tok)["status"]
        if st in ("stopped", "done"):
            break
        time.sleep(0.05)
    if st == "done":            # it finished before the stop: nothing to resume, so make one
        return _stopped_run(w, None)
    return ctx


def _done_run(w, caller):
    return _run_of_learner(w, ("done",))


ROWS += [
    Row("POST", "/api/v1/training/runs", users_only(202), body=RUN),
    Row("GET", "/api/v1/training/runs", users_only(200)),
    Row("GET", "/api/v1/training/runs/{R}", in_org_a(200, 200, 200, 200), prep=_run),
    Row("POST", "/api/v1/training/runs/{R}/stop", in_org_a(200, 403, 200, 403), prep=_run),
    Row("POST", "/api/v1/training/runs/{R}/resume", in_org_a(202, 403, 202, 403),
        prep=_stopped_run),
    Row("POST", "/api/v1/training/runs/{R}/evaluate", in_org_a(200, 200, 200, 200),
        body={"episodes": 1}, prep=_done_run),
]


def run_row(w, row, caller):
    ctx = dict(w.ids, emails=w.emails)
    if row.prep:
        ctx.update(row.prep(w, caller))
    body = row.body(ctx) if callable(row.body) else row.body
    path = row.path.format(**ctx)
    token = w.token_for(caller, fresh=row.fresh)
    return call(w.t, row.method, path, token, body)


def test_access_table(tutord_factory):
    # the catalog rows build a course per cell with admin_a's token: no per-token limit here
    w = build_world(tutord_factory, TUTORD_RATE_PER_TOKEN="1000000", TUTORD_RATE_BURST="1000000",
                    TUTORD_TRAIN_USER_RUNS="1000", TUTORD_TRAIN_ORG_RUNS="1000")
    failures = []
    for row in ROWS:
        for caller in CALLERS:
            want = row.expect[caller]
            s, h, b = run_row(w, row, caller)
            if s != want:
                failures.append("%-45s %-9s want %d got %d %s" % (row, caller, want, s,
                                                                  json.dumps(b)[:160]))
                continue
            if s >= 400:
                assert set(b) == {"error"} and b["error"]["code"], (row, caller, b)
            if s == 401:
                assert h.get("www-authenticate", "").startswith("Bearer"), (row, caller, h)
    assert not failures, "%d of %d cells differ:\n%s" % (
        len(failures), len(ROWS) * len(CALLERS), "\n".join(failures))
    # the table covers every identity route of the OpenAPI description
    s, _, doc = call(w.t, "GET", "/api/v1/openapi.json")
    # placeholders are compared by position only: a row's {C} covers the described {id}
    shape = lambda path: re.sub(r"\{[^}]*\}", "{}", path)
    described = {(m.upper(), shape(p)) for p, item in doc["paths"].items() for m in item
                 if p.startswith("/api/v1/") and "_call" not in p and p != "/api/v1/openapi.json"}
    covered = {(r.method, shape(r.path)) for r in ROWS}
    covered.add(("GET", shape("/api/v1/services/{service}/ping")))
    covered.add(("POST", "/api/v1/auth/google"))        # test_google_is_public
    missing = sorted(described - covered)
    assert not missing, "routes without a row in ROWS: %s" % missing


def test_google_ignores_the_token(tutord_factory):
    """Sign-in routes authenticate by their body: any token, good or bad, changes nothing."""
    w = build_world(tutord_factory)
    answers = {c: run_row(w, Row("POST", "/api/v1/auth/google", None,
                                 body={"id_token": "not-a-google-token"}), c)[0] for c in CALLERS}
    assert len(set(answers.values())) == 1, answers
    # without TUTORD_GOOGLE_JWKS the route answers as not configured; never a 5xx but 503
    assert answers["anon"] in (400, 401, 404, 503), answers


def test_revoked_token_is_refused_on_the_next_request(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET)
    w = World(t)
    w.register("solo")
    tok = w.tokens["solo"]
    other = w.login("solo")["token"]            # a second session of the same user
    assert call(t, "GET", "/api/v1/me", tok)[0] == 200
    assert call(t, "POST", "/api/v1/auth/logout", tok)[0] == 204
    s, h, b = call(t, "GET", "/api/v1/me", tok)
    assert s == 401 and b["error"]["code"] == "unauthorized", b
    assert call(t, "GET", "/api/v1/me", other)[0] == 200     # only that session ended


def test_bad_tokens_are_unauthorized(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET)
    w = World(t)
    w.register("u")
    good = w.tokens["u"]
    claims = jwt_claims(good)
    bad = {
        "garbage": "not-a-token",
        "alg none": jwt_sign(claims, header={"alg": "none", "typ": "JWT"}).rsplit(".", 1)[0] + ".",
        "other secret": jwt_sign(claims, secret="some-other-secret-0123456789abcdef0123"),
        "unknown key": "tdk_abcdefgh_" + "A" * 43,
        "refresh token as access": w.login("u")["refresh_token"],
        "empty after Bearer": " ",
    }
    for name, tok in bad.items():
        s, h, b = call(t, "GET", "/api/v1/me", headers={"Authorization": "Bearer " + tok})
        assert s == 401, (name, s, b)
        assert b["error"]["code"] == "unauthorized"
    # a non-Bearer scheme is no token at all: anonymous, so 401 on a protected route too
    s, _, _ = call(t, "GET", "/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert s == 401
    assert call(t, "GET", "/api/v1/me", good)[0] == 200


def test_client_supplied_auth_is_never_forwarded(tutord_factory):
    """The fault route forwards a JSON body as is; an auth map inside it is just data."""
    t = tutord_factory(TUTORD_SECRET=SECRET)
    spoof = {"kind": "system"}
    s, _, b = call(t, "POST", "/api/v1/_call/identity/me", body={"auth": spoof, "body": {}})
    assert s == 401, b
    s, _, b = call(t, "GET", "/api/v1/me?auth=system&kind=system")
    assert s == 401, b


def test_rate_limit_per_token(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET, TUTORD_RATE_PER_TOKEN=2, TUTORD_RATE_BURST=5)
    w = World(t)
    w.register("busy")
    w.register("calm")
    statuses = [call(t, "GET", "/api/v1/me", w.tokens["busy"]) for _ in range(12)]
    codes = [s for s, _, _ in statuses]
    assert codes[:5] == [200] * 5, codes
    limited = [(s, h, b) for s, h, b in statuses if s == 429]
    assert limited, codes
    s, h, b = limited[0]
    assert b["error"]["code"] == "rate_limited"
    assert int(h["retry-after"]) >= 1
    # another token, and anonymous callers, are not affected
    assert call(t, "GET", "/api/v1/me", w.tokens["calm"])[0] == 200
    assert call(t, "GET", "/api/v1/services/identity/ping")[0] == 200
    # the bucket refills
    time.sleep(1.2)
    assert call(t, "GET", "/api/v1/me", w.tokens["busy"])[0] == 200


def test_no_content_has_no_body(tutord_factory):
    t = tutord_factory(TUTORD_SECRET=SECRET)
    w = World(t)
    w.register("bye")
    host, port = t.http.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("POST", "/api/v1/auth/logout",
                     headers={"Authorization": "Bearer " + w.tokens["bye"]})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        assert resp.status == 204 and data == b"", (resp.status, data)
        assert "content-type" not in hdrs and "content-length" not in hdrs, hdrs
        # the same connection goes on (keep-alive)
        conn.request("GET", "/health")
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        resp.read()
    finally:
        conn.close()


def test_identity_down_is_unavailable(tutord_factory):
    t = tutord_factory(wait_s=3, TUTORD_SECRET=SECRET, TUTORD_ACTORS="broker,web,catalog")
    s, h, b = call(t, "GET", "/api/v1/me", "some-token")
    assert s == 503 and b["error"]["code"] == "unavailable", b
    assert "retry-after" in h
    # without a token a protected route is refused by the bridge itself
    assert call(t, "GET", "/api/v1/me")[0] == 401


def test_login_limit_sets_retry_after(tutord_factory):
    """identity's 429 carries retry_after; the bridge turns it into the Retry-After header."""
    t = tutord_factory(TUTORD_SECRET=SECRET, TUTORD_LOGIN_MAX_PER_ACCOUNT=2,
                       TUTORD_LOGIN_WINDOW_S=600)
    w = World(t)
    w.register("target")
    bad = {"email": w.emails["target"], "password": "wrong password!"}
    codes = [call(t, "POST", "/api/v1/auth/login", body=bad)[0] for _ in range(2)]
    assert codes == [401, 401], codes
    s, h, b = call(t, "POST", "/api/v1/auth/login", body=bad)
    assert s == 429 and b["error"]["code"] == "rate_limited", (s, b)
    assert 1 <= int(h["retry-after"]) <= 600, h
