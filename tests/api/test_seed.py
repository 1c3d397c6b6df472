"""The seed courses under seed/: well-formed, and every exercise's reference solution really passes.

Why: seed content is what real learners meet first. An exercise whose reference solution fails
its own tests (or whose starter code already passes) is a broken lesson, and a malformed record
only shows up when `tutorctl seed` rejects it. So every exercise of every seed file is graded
here by the real grader of a running tutord, and the files are checked against the content
model of actors/catalog/CATALOG.md §1 and the seed format of §4 and seed/README.md.
"""

import glob
import json
import os
import re
import time

import pytest

from conftest import SOURCE_DIR

SEED_DIR = os.path.join(SOURCE_DIR, "seed")
SYSTEM = json.dumps({"kind": "system", "user": "seed-check"})
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ITEM_KINDS = {"material", "exercise", "question", "vocabulary", "grammar"}
QUESTION_TYPES = {"single", "multiple", "short", "numeric", "subjective"}
RECORD_FIELDS = {"service", "type", "body", "auth", "comment"}
BATCH = 20                  # the grader's batch limit (actors/grader/grader.c MAX_BATCH)


def seed_files():
    return sorted(glob.glob(os.path.join(SEED_DIR, "**", "*.json"), recursive=True))


def load_records(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return doc["messages"] if isinstance(doc, dict) else doc


def courses():
    """(file name, course body) of every course.upsert record in seed/."""
    found = []
    for path in seed_files():
        for rec in load_records(path):
            if rec.get("service") == "catalog" and rec.get("type") == "course.upsert":
                found.append((os.path.relpath(path, SEED_DIR), rec["body"]))
    return found


def course(slug):
    matches = [body for _, body in courses() if body.get("slug") == slug]
    assert len(matches) == 1, "expected exactly one seed course %r, found %d" % (slug, len(matches))
    return matches[0]


def items_of(body):
    """(module, lesson, item) for every item of a course, in order."""
    return [(m, l, it) for m in body.get("modules", []) for l in m.get("lessons", [])
            for it in l.get("items", [])]


def exercises():
    """(id, item) for every exercise of every seed course."""
    return [("%s/%s/%s/%s" % (body["slug"], m["slug"], l["slug"], it["slug"]), it)
            for _, body in courses() for m, l, it in items_of(body) if it["kind"] == "exercise"]


# -- structure -----------------------------------------------------------------------------------

def test_seed_files_follow_the_record_format():
    files = seed_files()
    names = {os.path.relpath(p, SEED_DIR) for p in files}
    assert {"python-intro.json", "rl-primer.json"} <= names, names
    for path in files:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if isinstance(doc, dict):
            assert set(doc) <= {"description", "messages"}, (path, set(doc))
        records = load_records(path)
        assert isinstance(records, list) and records, path
        for n, rec in enumerate(records, 1):
            assert isinstance(rec, dict) and set(rec) <= RECORD_FIELDS, (path, n)
            assert isinstance(rec.get("service"), str) and isinstance(rec.get("type"), str), (path, n)


def check_question(where, c):
    qtype = c.get("type")
    assert qtype in QUESTION_TYPES, (where, qtype)
    assert isinstance(c.get("prompt"), str) and c["prompt"].strip(), where
    answer = c.get("answer")
    if qtype in ("single", "multiple"):
        choices = c.get("choices")
        assert isinstance(choices, list) and len(choices) >= 2, where
        assert all(isinstance(x, str) and x.strip() for x in choices), where
        assert len(set(choices)) == len(choices), (where, "duplicate choices")
        if qtype == "single":
            assert isinstance(answer, int) and not isinstance(answer, bool), where
            assert 0 <= answer < len(choices), (where, "answer index out of range", answer)
        else:
            assert isinstance(answer, list) and answer, where
            assert all(isinstance(a, int) and not isinstance(a, bool) and 0 <= a < len(choices)
                       for a in answer), (where, "answer index out of range", answer)
            assert len(set(answer)) == len(answer), where
    elif qtype == "short":
        assert isinstance(answer, list) and answer and all(isinstance(a, str) and a for a in answer), where
    elif qtype == "numeric":
        assert isinstance(answer, (int, float)) and not isinstance(answer, bool), where
        tol = c.get("tolerance", 0)
        assert isinstance(tol, (int, float)) and tol >= 0, where
    else:
        card = c.get("scorecard")
        assert isinstance(card, list) and card, where
    assert isinstance(c.get("explanation", ""), str), where


def check_exercise(where, c):
    assert c.get("language") in ("python", "c"), where
    for key in ("instructions", "starter_code", "solution"):
        assert isinstance(c.get(key), str) and c[key].strip(), (where, key)
    tests = c.get("tests")
    assert isinstance(tests, list) and 2 <= len(tests) <= 5, (where, "2 to 5 tests")
    names = [t.get("name") for t in tests]
    assert all(isinstance(n, str) and n for n in names) and len(set(names)) == len(names), \
        (where, "every test needs a unique name", names)
    for t in tests:
        kind = t.get("kind", "io")
        assert kind in ("io", "prints", "function", "class"), (where, kind)
        if kind == "io":
            assert isinstance(t.get("expected_stdout"), str), (where, t["name"])
            assert t.get("match", "exact") in ("exact", "trim", "ignore_case", "regex", "number"), where
    hints = c.get("hints")
    assert isinstance(hints, list) and 1 <= len(hints) <= 3, (where, "1 to 3 hints")
    assert all(isinstance(h, str) and h.strip() for h in hints), where
    assert isinstance(c.get("exam", False), bool), where


def check_course(fname, body):
    where = "%s: course %s" % (fname, body.get("slug"))
    assert re.fullmatch(r"[a-z0-9-]{3,64}", body.get("slug", "")) and SLUG.match(body["slug"]), where
    assert 1 <= len(body.get("title", "")) <= 200, where
    assert len(body.get("description", "")) <= 20000, where
    assert body.get("language") == "en", where
    assert body.get("status") in ("draft", "published") and body.get("visibility") in ("public", "org"), where
    assert "org_slug" in body, where
    modules = body.get("modules")
    assert isinstance(modules, list) and modules, where

    def unique_slugs(children, parent):
        slugs = [ch.get("slug", "") for ch in children]
        bad = [s for s in slugs if not SLUG.match(s) or len(s) > 64]
        assert not bad, (parent, "slugs must be kebab-case", bad)
        dup = sorted({s for s in slugs if slugs.count(s) > 1})
        assert not dup, (parent, "duplicate slugs", dup)
    unique_slugs(modules, where)
    for m in modules:
        assert m.get("title") and isinstance(m.get("lessons"), list) and m["lessons"], (where, m.get("slug"))
        unique_slugs(m["lessons"], "%s/%s" % (where, m["slug"]))
        for l in m["lessons"]:
            assert l.get("title") and isinstance(l.get("items"), list) and l["items"], (where, l.get("slug"))
            unique_slugs(l["items"], "%s/%s/%s" % (where, m["slug"], l["slug"]))
    # item slugs are also unique across the whole course, so a slug alone names an item
    unique_slugs([it for _, _, it in items_of(body)], where + " (all items)")
    for m, l, it in items_of(body):
        iwhere = "%s/%s/%s/%s" % (where, m["slug"], l["slug"], it["slug"])
        assert it.get("kind") in ITEM_KINDS, (iwhere, it.get("kind"))
        assert it.get("title"), iwhere
        c = it.get("content")
        assert isinstance(c, dict), iwhere
        if it["kind"] == "material":
            blocks = c.get("blocks")
            assert isinstance(blocks, list) and blocks, iwhere
            assert all(b.get("type") == "markdown" and b.get("text", "").strip() for b in blocks), iwhere
        elif it["kind"] == "exercise":
            check_exercise(iwhere, c)
        elif it["kind"] == "question":
            check_question(iwhere, c)


def test_every_seed_course_is_well_formed():
    found = courses()
    assert found
    seen = set()
    for fname, body in found:
        key = (body.get("org_slug"), body.get("slug"))
        assert key not in seen, ("two seed courses share a slug", key)
        seen.add(key)
        check_course(fname, body)


def test_python_intro_has_what_a_beginner_needs():
    body = course("python-intro")
    assert body["title"] == "Introduction to Python"
    assert body["visibility"] == "public" and body["status"] == "published" and body["org_slug"] is None
    assert len(body["modules"]) >= 6
    items = [it for _, _, it in items_of(body)]
    exs = [it for it in items if it["kind"] == "exercise"]
    assert len(exs) >= 40, len(exs)
    assert all(it["content"]["language"] == "python" for it in exs)
    for m in body["modules"]:     # every module teaches and practises
        kinds = {it["kind"] for l in m["lessons"] for it in l["items"]}
        assert {"material", "exercise"} <= kinds, (m["slug"], kinds)
    tests = [t for it in exs for t in it["content"]["tests"]]
    kinds = [t.get("kind", "io") for t in tests]
    assert kinds.count("io") > len(tests) / 2, "mostly io tests"
    assert {"function", "class", "prints"} <= set(kinds), set(kinds)
    assert any(t.get("hidden") for t in tests)
    assert len({t.get("match", "exact") for t in tests if t.get("kind", "io") == "io"}) >= 4
    qtypes = {it["content"]["type"] for it in items if it["kind"] == "question"}
    assert {"single", "multiple", "short", "numeric"} <= qtypes, qtypes


def test_rl_primer_has_material_and_quizzes():
    body = course("rl-primer")
    assert body["visibility"] == "public" and body["status"] == "published"
    assert len(body["modules"]) >= 3
    items = [it for _, _, it in items_of(body)]
    assert sum(it["kind"] == "material" for it in items) >= 3
    assert sum(it["kind"] == "question" for it in items) >= 15
    for m in body["modules"]:
        kinds = {it["kind"] for l in m["lessons"] for it in l["items"]}
        assert {"material", "question"} <= kinds, (m["slug"], kinds)


# -- grading ----------------------------------------------------------------------------------------

def grade_call(t, verb, body, timeout_ms=60000):
    res = t.tutorctl("call", "--timeout", str(timeout_ms), "--auth", SYSTEM, "grade", verb,
                     json.dumps(body), timeout=timeout_ms / 1000 + 30)
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def grade_all(t, submissions, deadline_s=240):
    """Grade every submission (batches of BATCH, then polling); their final results, in order."""
    ids = []
    for start in range(0, len(submissions), BATCH):
        reply = grade_call(t, "batch", {"body": {"submissions": submissions[start:start + BATCH]}})
        assert reply["status"] == 202, reply
        for n, item in enumerate(reply["body"]["items"]):
            assert "id" in item, ("submission %d was refused" % (start + n), item)
            ids.append(item["id"])
    results = {}
    end = time.monotonic() + deadline_s
    for sid in ids:                             # the queue is oldest first: wait in that order
        while True:
            reply = grade_call(t, "get", {"id": sid})
            if reply["status"] == 200 and reply["body"].get("status") == "done":
                results[sid] = reply["body"]
                break
            assert time.monotonic() < end, "grading did not finish in %ss" % deadline_s
            time.sleep(0.2)
    return [results[sid] for sid in ids]


def failures(result):
    return [(x.get("name"), x.get("verdict"), x.get("message") or x.get("stderr", "")[-300:])
            for x in result.get("tests", []) if x.get("verdict") != "accepted"]


def test_every_reference_solution_passes_and_no_starter_does(tutord):
    exs = exercises()
    assert len(exs) >= 40
    subs = []
    for _, it in exs:
        c = it["content"]
        subs.append({"language": c["language"], "code": c["solution"], "tests": c["tests"]})
        subs.append({"language": c["language"], "code": c["starter_code"], "tests": c["tests"]})
    results = grade_all(tutord, subs)
    bad_solutions, passing_starters = [], []
    for i, (where, it) in enumerate(exs):
        solution, starter = results[2 * i], results[2 * i + 1]
        ran = solution.get("tests", [])
        if (solution["verdict"] != "accepted" or solution.get("score") != 100
                or len(ran) != len(it["content"]["tests"])
                or any(x.get("verdict") != "accepted" for x in ran)):
            bad_solutions.append((where, solution["verdict"], failures(solution)))
        # A starter is a starting point, not the answer: it must fail at least one test.
        if starter["verdict"] == "accepted":
            passing_starters.append(where)
    assert not bad_solutions, "reference solutions that fail their own tests:\n%s" % "\n".join(
        map(repr, bad_solutions))
    assert not passing_starters, "starter code that already passes every test: %s" % passing_starters


def test_one_solution_through_submit_wait(tutord):
    """The single-submission path learners use: submit with wait=true answers the final verdict."""
    where, it = exercises()[0]
    c = it["content"]
    reply = grade_call(tutord, "submit", {"wait": "true", "body": {
        "language": c["language"], "code": c["solution"], "tests": c["tests"]}})
    assert reply["status"] == 200, reply
    assert reply["body"]["verdict"] == "accepted", (where, failures(reply["body"]))


# -- loading through tutorctl seed ------------------------------------------------------------------

SYSTEM_ONLY = json.dumps({"kind": "system"})


def catalog_call(t, verb, body):
    # the body on stdin: a whole course can be larger than one command-line argument may be
    res = t.tutorctl("call", "--timeout", "30000", "--auth", SYSTEM_ONLY, "catalog", verb, "-",
                     input=json.dumps(body), timeout=60)
    assert res.stdout, res.stderr
    return json.loads(res.stdout)


def course_ids(t):
    """slug -> id of every course the system caller sees (org_slug null: the tutord org)."""
    ids, cursor = {}, None
    for _ in range(100):
        body = {"limit": "100"}
        if cursor:
            body["cursor"] = cursor
        reply = catalog_call(t, "course.list", body)
        assert reply["status"] == 200, reply
        for c in reply["body"]["items"]:
            ids[c["slug"]] = c["id"]
        cursor = reply["body"].get("next_cursor")
        if not cursor:
            return ids
    raise AssertionError("course.list never ended")


def trees(t, slugs):
    ids = course_ids(t)
    out = {}
    for slug in slugs:
        assert slug in ids, ("seeded course missing from course.list", slug, sorted(ids))
        reply = catalog_call(t, "course.get", {"id": ids[slug]})
        assert reply["status"] == 200, reply
        out[slug] = reply["body"]
    return out


def seed(t, *paths):
    return t.tutorctl("seed", "--timeout", "60000", "--auth", SYSTEM_ONLY, *paths, timeout=120)


def test_seed_loads_twice_and_reports_bad_records(tutord, tmp_path):
    found = courses()
    slugs = [body["slug"] for _, body in found]
    n = sum(len(load_records(p)) for p in seed_files())

    first = seed(tutord, SEED_DIR)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "seed: %d loaded, 0 failed" % n in first.stdout, first.stdout + first.stderr
    before = trees(tutord, slugs)
    for fname, body in found:          # what was sent is what is stored
        tree = before[body["slug"]]
        assert tree["title"] == body["title"] and tree["status"] == body["status"], fname
        assert [m["slug"] for m in tree["modules"]] == [m["slug"] for m in body["modules"]], fname
        stored = {it["slug"]: it for m in tree["modules"] for l in m["lessons"] for it in l["items"]}
        for _, _, it in items_of(body):
            assert stored[it["slug"]]["kind"] == it["kind"], (fname, it["slug"])
            assert stored[it["slug"]]["content"] == it["content"], (fname, it["slug"])

    second = seed(tutord, SEED_DIR)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "seed: %d loaded, 0 failed" % n in second.stdout, second.stdout
    assert trees(tutord, slugs) == before, "a second seed run changed the stored courses"
    again = catalog_call(tutord, "course.upsert", found[0][1])   # and upsert says so itself
    assert again["status"] == 200 and again["body"]["created"] is False, again
    assert trees(tutord, slugs) == before

    # One bad record among good ones: the others load; the bad one is named with its reason.
    good = load_records(os.path.join(SEED_DIR, "rl-primer.json"))[0]
    broken = json.loads(json.dumps(good))
    broken["body"]["modules"][0]["lessons"][0]["items"][0]["kind"] = "hologram"
    extra = {"service": "catalog", "type": "course.upsert", "body": {
        "org_slug": None, "slug": "seed-check-extra", "title": "Seed check", "language": "en",
        "visibility": "public", "status": "draft",
        "modules": [{"slug": "only-module", "title": "Only module", "lessons": [
            {"slug": "only-lesson", "title": "Only lesson", "items": [
                {"slug": "only-item", "kind": "material", "title": "Only item",
                 "content": {"blocks": [{"type": "markdown", "text": "Hello."}]}}]}]}]}}
    bad_file = tmp_path / "corrupt.json"
    bad_file.write_text(json.dumps({"messages": [good, broken, extra]}))
    third = seed(tutord, str(tmp_path))
    assert third.returncode == 1, third.stdout + third.stderr
    assert "seed: 2 loaded, 1 failed" in third.stdout, third.stdout + third.stderr
    report = [line for line in third.stderr.splitlines() if "record 2:" in line]
    assert len(report) == 1 and report[0].startswith(str(bad_file) + ": record 2: "), third.stderr
    assert "kind" in report[0], ("the reason names the bad field", report[0])
    assert "record 1:" not in third.stderr and "record 3:" not in third.stderr, third.stderr
    assert "seed-check-extra" in course_ids(tutord)
    assert trees(tutord, slugs) == before, "the bad record changed a course"


# -- grading by item_id (issue 5): what a learner's client sends -----------------------------------

def test_seeded_items_grade_by_item_id(tutord):
    """Once python-intro is loaded, every exercise's reference solution passes its tests sent as
    {item_id, code} (the grader takes language and tests, hidden ones included, from the catalog),
    the starter code does not, and every question's own key is graded right."""
    loaded = seed(tutord, os.path.join(SEED_DIR, "python-intro.json"))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    tree = trees(tutord, ["python-intro"])["python-intro"]
    stored = [it for m in tree["modules"] for l in m["lessons"] for it in l["items"]]
    exs = [it for it in stored if it["kind"] == "exercise"]
    qs = [it for it in stored if it["kind"] == "question"]
    # guard the content this test relies on: it must keep grading something real
    assert len(exs) >= 40 and len(qs) >= 10, (len(exs), len(qs))
    assert sum(1 for it in exs for t in it["content"]["tests"] if t.get("hidden")) >= 20
    assert all(it["content"].get("solution") for it in exs)
    subs = []
    for it in exs:
        subs.append({"item_id": it["id"], "code": it["content"]["solution"]})
        subs.append({"item_id": it["id"], "code": it["content"]["starter_code"] or "pass"})
    results = grade_all(tutord, subs)
    bad, passing_starters = [], []
    for i, it in enumerate(exs):
        solution, starter = results[2 * i], results[2 * i + 1]
        assert solution["item_id"] == it["id"] and solution["kind"] == "exercise"
        if (solution["verdict"] != "accepted" or solution.get("passed") is not True
                or len(solution.get("tests", [])) != len(it["content"]["tests"])):
            bad.append((it["slug"], solution["verdict"], failures(solution)))
        if starter["verdict"] == "accepted":
            passing_starters.append(it["slug"])
        hidden = [t for t in solution.get("tests", []) if t.get("hidden")]
        assert all("stdout" not in t and "expected_stdout" not in t for t in hidden), it["slug"]
    assert not bad, "reference solutions failing by item_id:\n%s" % "\n".join(map(repr, bad))
    assert not passing_starters, passing_starters
    for it in qs:
        c = it["content"]
        if c["type"] == "subjective":
            continue
        answer = c["answer"][0] if c["type"] == "short" else c["answer"]
        reply = grade_call(tutord, "submit", {"body": {"item_id": it["id"], "answer": answer}})
        assert reply["status"] == 202, (it["slug"], reply)
        body = reply["body"]
        assert body["status"] == "done" and body["passed"] is True, (it["slug"], body)
