"""The demo organisation of seed/demo-org.json, loaded through identity's org.seed (issue 4 §6).

Why: `tools/up` seeds at every start, so the verb must be an idempotent upsert; it runs with the
system's trust, so it must never let a seed file take over an existing account, and only the
system may call it; and a bad description must be refused whole, naming the field, before
anything is written.
"""

import json
import os

from conftest import SOURCE_DIR
from test_access import call, ok, unique

SYSTEM = json.dumps({"kind": "system"})
DEMO = os.path.join(SOURCE_DIR, "seed", "demo-org.json")
PASSWORD = "tutord-demo-2026"


def org_seed(t, body):
    res = t.tutorctl("call", "--timeout", "60000", "--auth", SYSTEM, "identity", "org.seed", "-",
                     input=json.dumps(body), timeout=90)
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def login(t, email, password=PASSWORD):
    return call(t, "POST", "/api/v1/auth/login", body={"email": email, "password": password})


def test_demo_org_loads_twice_and_works(tutord):
    for _ in range(2):
        res = tutord.tutorctl("seed", "--timeout", "60000", DEMO, timeout=120)
        assert res.returncode == 0 and "1 loaded, 0 failed" in res.stdout + res.stderr, \
            res.stdout + res.stderr
    with open(DEMO) as f:
        body = json.load(f)["messages"][0]["body"]
    first = org_seed(tutord, body)
    again = org_seed(tutord, body)
    assert first["status"] == 200 and first["body"] == again["body"], (first, again)
    ids = first["body"]
    assert len(ids["users"]) == 5 and list(ids["cohorts"]) == ["Spring 2027"]
    # the mentor signs in and sees the cohort with its three learners
    s, _, b = login(tutord, "maria.mentor@demo-academy.example")
    assert s == 200, b
    mentor = b["token"]
    me = ok(tutord, "GET", "/api/v1/me", mentor)
    assert any(o["id"] == ids["org_id"] and o["role"] == "mentor" for o in me["orgs"]), me
    cohort = ok(tutord, "GET", "/api/v1/cohorts/%s" % ids["cohorts"]["Spring 2027"], mentor)
    learners = sorted(m["user_id"] for m in cohort["members"] if m["role"] == "learner")
    assert learners == sorted(ids["users"][e] for e in ids["users"] if "learner" in e), cohort
    # a learner signs in; the admin administers the org; nothing was duplicated by the reruns
    s, _, b = login(tutord, "leo.learner@demo-academy.example")
    assert s == 200, b
    s, _, b = login(tutord, "ada.admin@demo-academy.example")
    members = ok(tutord, "GET", "/api/v1/orgs/%s/members" % ids["org_id"], b["token"])
    assert len(members["items"] if "items" in members else members["members"]) == 5, members


def test_seed_never_takes_over_an_account(tutord):
    email = "%s@example.org" % unique("owner")
    ok(tutord, "POST", "/api/v1/auth/register",
       body={"email": email, "password": "the owner's own password", "name": "Owner"})
    reply = org_seed(tutord, {"slug": unique("takeover"), "name": "Sneaky", "members": [
        {"email": email.upper(), "name": "Renamed", "password": "attacker-password", "role": "admin"}]})
    assert reply["status"] == 200, reply
    assert login(tutord, email, "attacker-password")[0] == 401
    s, _, b = login(tutord, email, "the owner's own password")
    assert s == 200 and b["user"]["name"] == "Owner", b


def test_only_the_system_may_seed_and_bad_input_is_refused_whole(tutord):
    body = {"slug": unique("demo"), "name": "X", "members": []}
    tok = ok(tutord, "POST", "/api/v1/auth/register",
             body={"email": "%s@example.org" % unique("u"), "password": "password 123",
                   "name": "U"})["token"]
    s, _, b = call(tutord, "POST", "/api/v1/_call/identity/org.seed", tok, body)
    assert s == 403, (s, b)
    slug = unique("bad")
    learner = {"email": "%s@example.org" % unique("l"), "name": "L", "password": "long enough",
               "role": "learner"}
    bad = [
        ({"slug": "No Caps", "name": "X", "members": []}, "slug"),
        ({"slug": slug, "name": "", "members": []}, "name"),
        ({"slug": slug, "name": "X"}, "members"),
        ({"slug": slug, "name": "X", "members": [dict(learner, password="short")]}, "members[0]"),
        ({"slug": slug, "name": "X", "members": [dict(learner, role="owner")]}, "members[0]"),
        ({"slug": slug, "name": "X", "members": [dict(learner, email="nope")]}, "members[0]"),
        ({"slug": slug, "name": "X", "members": [learner],
          "cohorts": [{"name": "C", "members": [{"email": "stranger@example.org",
                                                  "role": "learner"}]}]}, "cohorts[0].members[0]"),
        ({"slug": slug, "name": "X", "members": [learner],
          "cohorts": [{"name": "C", "members": [{"email": learner["email"],
                                                  "role": "admin"}]}]}, "cohorts[0].members[0]"),
        ([1, 2], "body"),
    ]
    for body, field in bad:
        reply = org_seed(tutord, body)
        assert reply["status"] == 400 and reply["error"]["field"] == field, (body, reply)
    # nothing of the refused descriptions was written: the learner cannot sign in
    assert login(tutord, learner["email"], learner["password"])[0] == 401
    assert tutord.get("/health")[0] == 200
