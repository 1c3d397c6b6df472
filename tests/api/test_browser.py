"""The browser client (bridges/client) in Debian's headless Chromium, driven like a learner.

Why: the bridge serves the client and streams grading, tutor and training updates to it; only a
real browser shows that those pieces meet — a page that signs in, opens the WebSocket with the
token, subscribes, and turns events into what the learner sees. tests/browser/client_test.js does
the clicking (playwright-core from npm, installed by tools/check into tests/browser/node_modules);
this file starts tutord, seeds the Python course, makes a course whose title is HTML, and runs it.

A missing Chromium or node_modules fails the test (tools/check installs both); it never skips.
"""
import json
import os
import subprocess
import uuid

from conftest import SOURCE_DIR

BROWSER_DIR = os.path.join(SOURCE_DIR, "tests", "browser")
SYSTEM = json.dumps({"kind": "system"})


def call(t, method, path, token=None, body=None):
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    status, _, data = t.request(method, path, body, headers, timeout=30)
    return status, (json.loads(data) if data else None)


def first_exercise(t):
    """Title, reference solution and test count of the first exercise of python-intro, in tree
    order, as the system sees it (the learner's page never gets the solution)."""
    res = t.tutorctl("call", "--timeout", "30000", "--auth", SYSTEM, "catalog", "course.list", "-",
                     input=json.dumps({"limit": "100"}), timeout=60)
    listed = json.loads(res.stdout)["body"]["items"]
    cid = next(c["id"] for c in listed if c["slug"] == "python-intro")
    res = t.tutorctl("call", "--timeout", "30000", "--auth", SYSTEM, "catalog", "course.get", "-",
                     input=json.dumps({"id": cid}), timeout=60)
    tree = json.loads(res.stdout)["body"]
    for m in tree["modules"]:
        for lesson in m["lessons"]:
            for it in lesson["items"]:
                if it["kind"] == "exercise" and not it["content"].get("exam"):
                    c = it["content"]
                    return {"title": it["title"], "solution": c["solution"], "tests": len(c["tests"])}
    raise AssertionError("python-intro has no exercise")


def evil_course(t):
    """A public course in a new org whose title is an HTML element with a script in it."""
    email = "author-%s@example.org" % uuid.uuid4().hex[:10]
    s, reg = call(t, "POST", "/api/v1/auth/register", body={
        "email": email, "password": "correct horse battery", "name": "Author"})
    assert s == 201, reg
    tok = reg["token"]
    s, org = call(t, "POST", "/api/v1/orgs", tok, {"slug": "o" + uuid.uuid4().hex[:10], "name": "Evil"})
    assert s == 201, org
    title = '<img src=x onerror="window.__xss=1">'
    s, course = call(t, "POST", "/api/v1/orgs/%s/courses" % org["id"], tok,
                     {"slug": "evil", "title": title, "visibility": "public"})
    assert s == 201, course
    s, pub = call(t, "POST", "/api/v1/courses/%s/publish" % course["id"], tok, {})
    assert s == 200, pub
    return title


def test_a_learner_uses_the_browser_client(tutord, tmp_path):
    assert os.access("/usr/bin/chromium", os.X_OK), "Debian's chromium is missing: tools/check installs it"
    assert os.path.isdir(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")), \
        "tests/browser/node_modules is missing: tools/check runs npm ci there"
    loaded = tutord.tutorctl("seed", "--timeout", "60000", "--auth", SYSTEM,
                             os.path.join(SOURCE_DIR, "seed", "python-intro.json"), timeout=120)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    args = {"base": tutord.base_url, "exercise": first_exercise(tutord),
            "evil_title": evil_course(tutord), "train_steps": 8192}
    env = dict(os.environ, TMPDIR=str(tmp_path))
    res = subprocess.run(["node", os.path.join(BROWSER_DIR, "client_test.js"), json.dumps(args)],
                         cwd=BROWSER_DIR, env=env, capture_output=True, text=True, timeout=600)
    print(res.stdout)
    assert res.returncode == 0, "browser test failed:\n%s\n%s\n--- tutord log ---\n%s" % (
        res.stdout, res.stderr, tutord.log_tail())
    # every step ran, and the page's own requests left the server healthy
    assert res.stdout.count(" ms") == 11, res.stdout
    assert tutord.get("/health")[0] == 200
