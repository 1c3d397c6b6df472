"""Generation jobs (issue 7 point 6, LLM.md §8) against a scripted fake upstream (fake_llm.py).

Why: a generation job is long, made of many model calls and catalog writes, and must survive a
model that answers nonsense, a solution that fails its own tests, a cancel and a killed server.
Each test gives its org its own model name (the fake's script key) and scripts exactly what the
model answers: a grammar job producing N draft items (after one invalid answer); a code exercise
whose first reference solution fails its tests in the grader and the second passes (only the
second is kept); invalid JSON retried, then the piece failed; tutord SIGKILLed mid-job and the job
finished once by the next server; the offline provider (vocabulary exercises from the entries
themselves, anything else refused at once); cancel; access (a learner, another org's admin, a
key); bad input on every parameter. Every server is stopped with the sanitizer check.
"""

import itertools
import json
import signal
import time
import types

import msgpack
import pytest
import zmq

import conftest
from fake_llm import FakeLLM, openai_stream

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

GEN_ENV = {"TUTORD_LLM_FIRST_TOKEN_TIMEOUT_MS": "20000", "TUTORD_LLM_TOTAL_TIMEOUT_MS": "30000",
           "TUTORD_LLM_BACKOFF_MS": "50", "TUTORD_LLM_BACKOFF_MAX_MS": "100",
           "TUTORD_LLM_GRADE_MS": "0", "TUTORD_LLM_GEN_LEASE_MS": "1500", "TUTORD_LLM_GEN_ORG_JOBS": "2",
           "TUTORD_SECRET": "gen-test-secret-0123456789abcdef-0123456789"}


def unique(prefix):
    return "%s-%d-%d" % (prefix, int(time.time() * 1000) % 10 ** 8, next(_seq))


@pytest.fixture(scope="module")
def fake():
    f = FakeLLM().start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def env(_tmp_root, _migrated, fake):
    t = conftest.Tutord(_tmp_root, GEN_ENV).start()
    ctx = zmq.Context()
    yield types.SimpleNamespace(t=t, fake=fake, zmq=ctx)
    ctx.term()
    t.stop(check=True)


def call(t, method, path, token=None, body=None):
    hdrs = {"Authorization": "Bearer " + token} if token else {}
    status, h, data = t.request(method, path, body=body, headers=hdrs)
    parsed = json.loads(data) if data and h.get("content-type", "").startswith("application/json") else None
    return status, parsed


def ok(t, method, path, token=None, body=None, expect=(200, 201, 202, 204)):
    s, b = call(t, method, path, token, body)
    assert s in expect, (method, path, s, b)
    return b


def register(t, who):
    email = "%s@example.org" % unique(who)
    b = ok(t, "POST", "/api/v1/auth/register", body={"email": email, "password": PASSWORD, "name": who})
    return b["token"], b["user"]["id"], email


def login(t, email):
    return ok(t, "POST", "/api/v1/auth/login", body={"email": email, "password": PASSWORD})["token"]


def stream_of(obj, pieces=3):
    """The model's answer (a JSON value, or a text) as an OpenAI stream cut into pieces."""
    text = obj if isinstance(obj, str) else json.dumps(obj)
    step = max(1, len(text) // pieces)
    return {"events": openai_stream([text[i:i + step] for i in range(0, len(text), step)],
                                    prompt=50, completion=20)}


class Org:
    """An org with an admin, a mentor and a learner, its model pointed at the fake (or offline),
    and a draft course with one module and one lesson (grammar item G, vocabulary items)."""

    def __init__(self, t, fake, offline=False):
        self.t = t
        self.admin, self.admin_id, _ = register(t, "admin")
        self.id = ok(t, "POST", "/api/v1/orgs", self.admin,
                     {"name": "Gen org", "slug": unique("gen")})["id"]
        roles = {}
        for role in ("mentor", "learner"):
            _, uid, email = register(t, role)
            ok(t, "POST", "/api/v1/orgs/%s/members" % self.id, self.admin, {"email": email, "role": role})
            roles[role] = login(t, email)       # the token carries the memberships of its time
        self.mentor, self.learner = roles["mentor"], roles["learner"]
        self.model = unique("model")
        if not offline:
            ok(t, "PUT", "/api/v1/orgs/%s/llm" % self.id, self.admin,
               {"provider": "openai", "base_url": fake.url + "/v1", "model": self.model,
                "api_key": "sk-" + unique("k")})
        self.course = ok(t, "POST", "/api/v1/orgs/%s/courses" % self.id, self.admin,
                         {"slug": unique("course"), "title": "German A2", "language": "de"})["id"]
        m = ok(t, "POST", "/api/v1/courses/%s/modules" % self.course, self.admin,
               {"slug": "mod", "title": "Basics"})["id"]
        self.lesson = ok(t, "POST", "/api/v1/modules/%s/lessons" % m, self.admin,
                         {"slug": "les", "title": "Cases"})["id"]
        self.grammar = self.item("dativ", "grammar", "Der Dativ", {
            "level": "A2", "explanation": "The dative marks the indirect object: *dem Mann*."})
        for slug, word, tr, ex in [("word-1", "Haus", "house", "Das Haus ist alt."),
                                   ("word-2", "Baum", "tree", "Der Baum ist grün.")]:
            self.item(slug, "vocabulary", word, {"word": word, "article": "das" if word == "Haus" else "der",
                                                 "translation": tr, "example": ex,
                                                 "example_translation": "(%s)" % tr})

    def item(self, slug, kind, title, content):
        return ok(self.t, "POST", "/api/v1/lessons/%s/items" % self.lesson, self.admin,
                  {"slug": slug, "kind": kind, "title": title, "content": content})["id"]

    def lesson_items(self):
        tree = ok(self.t, "GET", "/api/v1/courses/%s" % self.course, self.admin)
        for m in tree["modules"]:
            for l in m["lessons"]:
                if l["id"] == self.lesson:
                    return l["items"]
        raise AssertionError("lesson missing")

    def generated(self):
        return [i for i in self.lesson_items() if i["slug"].startswith("gen-")]

    def job(self, token=None, expect=(202,), **body):
        b = {"org_id": self.id, "course_id": self.course}
        b.update(body)
        return ok(self.t, "POST", "/api/v1/generation/jobs", token or self.admin, b, expect=expect)


class Events:
    """llm.job_* events from the event plane."""

    def __init__(self, t, ctx, topics=(b"llm.job",)):
        self.sock = ctx.socket(zmq.SUB)
        for topic in topics:
            self.sock.setsockopt(zmq.SUBSCRIBE, topic)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(t.events)
        self.seen = []
        time.sleep(0.3)             # the slow joiner

    def close(self):
        self.sock.close()

    def of(self, job_id, until_done=True, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            mine = [e for e in self.seen if e["data"].get("job_id") == job_id]
            if not until_done or any(e["type"] == "llm.job_done" for e in mine):
                if not until_done:
                    return mine
                time.sleep(0.3)     # anything after the end would be a bug: catch it too
                while self.sock.poll(100):
                    self.seen.append(msgpack.unpackb(self.sock.recv_multipart()[-1], raw=False))
                return [e for e in self.seen if e["data"].get("job_id") == job_id]
            if self.sock.poll(200):
                self.seen.append(msgpack.unpackb(self.sock.recv_multipart()[-1], raw=False))
        raise AssertionError("no llm.job_done for %s within %ss; saw %r" % (job_id, timeout, self.seen))


def wait_job(t, token, job_id, states=("done", "failed", "cancelled"), timeout=60, pred=None):
    end = time.monotonic() + timeout
    b = None
    while time.monotonic() < end:
        s, b = call(t, "GET", "/api/v1/generation/jobs/%s" % job_id, token)
        if s == 200 and (b["status"] in states if pred is None else pred(b)):
            return b
        time.sleep(0.1)
    raise AssertionError("job %s did not reach %s: %r" % (job_id, states, b))


def question(n):
    return {"type": "single", "prompt": "Ich gebe ___ Mann das Buch. (%d)" % n,
            "choices": ["der", "dem", "den"], "answer": 1, "explanation": "Dative: dem."}


# -- a grammar job: N draft items, an invalid answer asked again ----------------------------------

def test_grammar_job_makes_n_draft_items(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    fake.script(org.model, stream_of("Sure! Here is an exercise: not json at all"),
                stream_of(question(1)), stream_of("```json\n%s\n```" % json.dumps(question(2))),
                stream_of(question(3)))
    ev = Events(t, env.zmq, topics=(b"llm.job", b"llm.usage"))
    try:
        job = org.job(kind="grammar_exercises", target_id=org.grammar, count=3, level="A2",
                      token=org.mentor)
        assert job["status"] == "queued" and job["progress"] == {"done": 0, "total": 3}, job
        assert job["kind"] == "grammar_exercises" and job["offline"] is False
        events = ev.of(job["id"])
    finally:
        ev.close()
    done = wait_job(t, org.admin, job["id"])
    assert done["status"] == "done" and done["progress"] == {"done": 3, "total": 3}, done
    assert len(done["results"]) == 3 and done["errors"] == [], done
    made = org.generated()
    assert len(made) == 3, made
    assert sorted(i["id"] for i in made) == sorted(r["item_id"] for r in done["results"])
    # each result says what made it: the model and the prompt file's version
    assert {r["made_by"] for r in done["results"]} == {"%s, gen_grammar, version 1" % org.model}
    for i in made:
        assert i["kind"] == "question" and i["content"]["answer"] == 1
        assert i["content"]["choices"] == ["der", "dem", "den"]
        assert i["title"].startswith("Der Dativ: exercise")
    # drafts: the course is still a draft, so the learner cannot see them
    s, _ = call(t, "GET", "/api/v1/items/%s" % made[0]["id"], org.learner)
    assert s == 404
    # four requests: the invalid answer was asked again with the reason; no repeats asked for
    reqs = fake.requests_for(org.model)
    assert len(reqs) == 4, reqs
    system = reqs[0]["body"]["messages"][0]["content"]
    assert "Der Dativ" in system and "dem Mann" in system
    second = reqs[1]["body"]["messages"][-1]["content"]
    assert "refused" in second and "JSON" in second, second
    third = reqs[2]["body"]["messages"][-1]["content"]
    assert "exercise 2 of 3" in third and "(1)" in third, third
    # events: one progress per piece, in order, then one done; the creator and org named
    progress = [e for e in events if e["type"] == "llm.job_progress"]
    assert [e["data"]["done"] for e in progress] == [1, 2, 3], events
    assert all(e["data"]["piece"]["ok"] for e in progress)
    finals = [e for e in events if e["type"] == "llm.job_done"]
    assert len(finals) == 1 and finals[0]["data"]["status"] == "done" and finals[0]["data"]["kept"] == 3
    assert all(e["org"] == org.id and e["subject"] == job["id"] for e in events)
    # the usage was accounted to the org
    usage = ok(t, "GET", "/api/v1/orgs/%s/usage" % org.id, org.admin)
    assert usage["totals"]["prompt_tokens"] == 4 * 50, usage
    # one llm.usage per model call (the refused answer too), the job's creator named: the same
    # count and tokens as the usage table
    calls = [e for e in events if e["type"] == "llm.usage"]
    assert len(calls) == 4 == usage["totals"]["requests"], calls
    for e in calls:
        d = e["data"]
        assert e["user"] == done["created_by"] and e["org"] == org.id and e["subject"] == job["id"]
        assert (d["purpose"], d["provider"], d["model"], d["ok"], d["job_id"]) == \
            ("generation", "openai", org.model, True, job["id"]), d
        assert "session_id" not in d and "error" not in d
    assert sum(e["data"]["prompt_tokens"] for e in calls) == usage["totals"]["prompt_tokens"]
    assert sum(e["data"]["completion_tokens"] for e in calls) == usage["totals"]["completion_tokens"]


def test_invalid_json_is_retried_then_the_piece_fails(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    bad = dict(question(1), answer=7)           # JSON, but not a valid exercise
    fake.script(org.model, stream_of("{\"type\": \"single\", "), stream_of(bad), stream_of("[1, 2]"))
    job = org.job(kind="grammar_exercises", target_id=org.grammar, count=1)
    done = wait_job(t, org.admin, job["id"])
    assert done["status"] == "failed", done
    assert done["results"] == [] and len(done["errors"]) == 1, done
    err = done["errors"][0]
    assert err["index"] == 0 and err["attempts"] == 3
    assert "no valid answer in 3 tries" in err["reason"] and "JSON" in err["reason"], err
    assert "no piece" in done["error"]
    assert len(fake.requests_for(org.model)) == 3
    second = fake.requests_for(org.model)[2]["body"]["messages"][-1]["content"]
    assert "index of the right choice" in second, second      # the schema's reason, sent back
    assert org.generated() == []                               # nothing half-checked was stored


def test_upstream_failures_are_retried_as_attempts(env):
    """500 three times: the gateway's own retries (2) are spent, the piece's second attempt gets
    the valid answer; a quota error is never retried and ends the job with its reason."""
    t, fake = env.t, env.fake
    org = Org(t, fake)
    err = {"status": 500, "body": {"error": {"message": "overloaded"}}}
    fake.script(org.model, err, err, err, stream_of(question(1)))
    job = org.job(kind="grammar_exercises", target_id=org.grammar, count=1)
    done = wait_job(t, org.admin, job["id"])
    assert done["status"] == "done" and len(done["results"]) == 1, done
    assert len(fake.requests_for(org.model)) == 4
    quota = {"status": 429, "body": {"error": {"message": "You exceeded your current quota",
                                               "type": "insufficient_quota"}}}
    fake.script(org.model, quota)
    job = org.job(kind="grammar_exercises", target_id=org.grammar, count=2)
    done = wait_job(t, org.admin, job["id"])
    assert done["status"] == "failed" and "quota_exceeded" in done["error"], done
    assert len(fake.requests_for(org.model)) == 5


# -- code exercises: kept only when the reference solution passes its own tests --------------------

def code_exercise(solution):
    return {"title": "Double it", "instructions": "Read a whole number and print twice it.",
            "starter_code": "n = int(input())\n",
            "tests": [{"name": "two", "stdin": "2\n", "expected_stdout": "4\n"},
                      {"name": "zero", "stdin": "0\n", "expected_stdout": "0\n"}],
            "hints": ["Multiply by 2."], "solution": solution}


def test_code_exercise_kept_only_when_its_solution_passes(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    fake.script(org.model, stream_of(code_exercise("print(int(input()) * 3)")),
                stream_of(code_exercise("print(int(input()) * 2)")))
    job = org.job(kind="code_exercise", target_id=org.lesson, topic="doubling numbers")
    done = wait_job(t, org.admin, job["id"], timeout=90)
    assert done["status"] == "done", done
    assert len(done["results"]) == 1, done
    made = org.generated()
    assert len(made) == 1, made
    item = made[0]
    assert item["kind"] == "exercise" and item["title"] == "Double it"
    assert item["content"]["solution"] == "print(int(input()) * 2)"    # the second, not the first
    assert item["content"]["language"] == "python" and len(item["content"]["tests"]) == 2
    # the failed solution is reported, and the model was told why when asked again
    assert len(done["errors"]) == 1 and done["errors"][0]["regenerated"] is True, done
    assert "failed its own tests" in done["errors"][0]["reason"]
    reqs = fake.requests_for(org.model)
    assert len(reqs) == 2
    assert "failed its own tests" in reqs[1]["body"]["messages"][-1]["content"]


def test_code_exercise_reported_after_n_failing_solutions(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    fake.script(org.model, *[stream_of(code_exercise("print('no')")) for _ in range(3)])
    job = org.job(kind="code_exercise", target_id=org.lesson, topic="doubling", language="python")
    done = wait_job(t, org.admin, job["id"], timeout=90)
    assert done["status"] == "failed" and done["results"] == [], done
    assert "no reference solution passed its own tests in 3 tries" in done["errors"][-1]["reason"]
    assert org.generated() == []


# -- course outlines -> modules -> lessons --------------------------------------------------------

def test_course_outline_makes_modules_and_lessons(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    outline = {"modules": [
        {"title": "Greetings", "description": "Saying hello.",
         "lessons": [{"title": "Hallo", "description": "Hi."}, {"title": "Tschüss", "description": "Bye."}]},
        {"title": "Numbers", "description": "1 to 100.",
         "lessons": [{"title": "Eins bis zehn", "description": "Counting."}]}]}
    fake.script(org.model, stream_of(outline, pieces=5))
    job = org.job(kind="course_outline", topic="German for travellers", modules=2,
                  lessons_per_module=2)
    assert job["target_id"] == org.course
    done = wait_job(t, org.admin, job["id"])
    assert done["status"] == "done", done
    tree = ok(t, "GET", "/api/v1/courses/%s" % org.course, org.admin)
    gen = [m for m in tree["modules"] if m["slug"].startswith("gen-")]
    assert [m["title"] for m in gen] == ["Greetings", "Numbers"]
    assert [l["title"] for l in gen[0]["lessons"]] == ["Hallo", "Tschüss"]
    assert [l["title"] for l in gen[1]["lessons"]] == ["Eins bis zehn"]
    r = done["results"][0]["modules"]
    assert [m["module_id"] for m in r] == [m["id"] for m in gen]
    # an outline over the asked size is refused, not cut
    fake.script(org.model, *[stream_of({"modules": outline["modules"] * 2}) for _ in range(3)])
    job = org.job(kind="course_outline", topic="more", modules=2)
    done = wait_job(t, org.admin, job["id"])
    assert done["status"] == "failed" and "1 to 2 modules" in done["errors"][0]["reason"], done


# -- the offline provider -------------------------------------------------------------------------

def test_offline_vocabulary_from_the_entries_and_other_kinds_refused(env):
    t, fake = env.t, env.fake
    org = Org(t, fake, offline=True)
    job = org.job(kind="vocabulary_exercises", target_id=org.lesson)
    assert job["offline"] is True and job["progress"]["total"] == 4, job
    done = wait_job(t, org.admin, job["id"])
    assert done["status"] == "done" and len(done["results"]) == 4, done
    made = {i["title"]: i["content"] for i in org.generated()}
    assert all(title.startswith("[offline] ") for title in made), made
    prompts = sorted(c["prompt"] for c in made.values())
    assert "Fill in the gap: Das _____ ist alt. ((house))" in prompts, prompts
    assert 'Which word means "tree"?' in prompts, prompts
    for c in made.values():
        assert c["type"] == "short" and "no language model" in c["explanation"]
    cloze = [c for c in made.values() if c["prompt"].startswith("Fill in the gap: Das")][0]
    assert cloze["answer"] == ["Haus"]
    tree_q = [c for c in made.values() if c["prompt"] == 'Which word means "tree"?'][0]
    assert tree_q["answer"] == ["Baum", "der Baum"]
    # a learner can answer one once the course is published: a real, gradable question
    # kinds that need a model fail at once, clearly (no 202 that never ends)
    for kind, extra in [("grammar_exercises", {"target_id": org.grammar}),
                        ("code_exercise", {"target_id": org.lesson, "topic": "x"}),
                        ("course_outline", {"topic": "x"})]:
        s, b = call(t, "POST", "/api/v1/generation/jobs", org.admin,
                    dict({"kind": kind, "org_id": org.id, "course_id": org.course}, **extra))
        assert s == 503 and "offline" in b["error"]["message"], (kind, s, b)


# -- cancel ---------------------------------------------------------------------------------------

def test_cancel_stops_the_model_and_keeps_what_was_made(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    slow = dict(stream_of(question(2)), first_delay=15)
    fake.script(org.model, stream_of(question(1)), slow)
    aborts = len(fake.aborts)
    ev = Events(t, env.zmq)
    try:
        job = org.job(kind="grammar_exercises", target_id=org.grammar, count=3)
        wait_job(t, org.admin, job["id"], pred=lambda b: b["progress"]["done"] == 1)
        time.sleep(0.3)                                 # the second piece is with the model
        s, b = call(t, "POST", "/api/v1/generation/jobs/%s/cancel" % job["id"], org.mentor)
        assert s == 200 and b["status"] == "cancelled", (s, b)
        events = ev.of(job["id"])
    finally:
        ev.close()
    finals = [e for e in events if e["type"] == "llm.job_done"]
    assert len(finals) == 1 and finals[0]["data"]["status"] == "cancelled", events
    # the upstream call was aborted, nothing more is made, and the job stays cancelled
    assert conftest.wait_for(lambda: len(fake.aborts) > aborts, 5), fake.aborts
    time.sleep(1.0)
    after = wait_job(t, org.admin, job["id"])
    assert after["status"] == "cancelled" and after["progress"]["done"] == 1, after
    assert len(org.generated()) == 1
    assert len(fake.requests_for(org.model)) == 2
    s, b = call(t, "POST", "/api/v1/generation/jobs/%s/cancel" % job["id"], org.admin)
    assert s == 409 and b["error"]["code"] == "conflict"
    # the org's list shows it
    items = ok(t, "GET", "/api/v1/orgs/%s/generation/jobs?status=cancelled" % org.id, org.admin)["items"]
    assert [j["id"] for j in items] == [job["id"]]


def _job_of_a_mentor(t, fake, org):
    """A job of three pieces made by a new mentor of org, once its first piece is made while the
    second is with the model: (the mentor's user id, the job)."""
    _, uid, email = register(t, "creator")
    ok(t, "POST", "/api/v1/orgs/%s/members" % org.id, org.admin, {"email": email, "role": "mentor"})
    creator = login(t, email)
    fake.script(org.model, stream_of(question(1)), dict(stream_of(question(2)), first_delay=2),
                stream_of(question(3)))
    job = org.job(token=creator, kind="grammar_exercises", target_id=org.grammar, count=3)
    wait_job(t, org.admin, job["id"], pred=lambda b: b["progress"]["done"] == 1)
    return uid, job


def test_a_creator_demoted_mid_job_stops_it(env):
    """Each step acts with the creator's rights as identity has them then (auth.user), not as
    they were when the job was made: a mentor demoted to learner after the first piece has the
    next write refused, and the job ends failed with what was made kept."""
    t, fake = env.t, env.fake
    org = Org(t, fake)
    uid, job = _job_of_a_mentor(t, fake, org)
    ok(t, "PUT", "/api/v1/orgs/%s/members/%s" % (org.id, uid), org.admin, {"role": "learner"})
    end = wait_job(t, org.admin, job["id"])
    assert end["status"] == "failed" and "may no longer author" in end["error"], end
    assert end["progress"]["done"] == 1 and len(org.generated()) == 1, end


def test_a_creator_deleted_mid_job_ends_it(env):
    """The creator's account gone mid-job (its row deleted: identity's auth.user answers 404):
    the next step ends the job, failed, with what it made kept."""
    import os
    import subprocess
    t, fake = env.t, env.fake
    org = Org(t, fake)
    uid, job = _job_of_a_mentor(t, fake, org)
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", os.environ["TUTORD_TEST_DB"],
                          "-c", "DELETE FROM identity_users WHERE id = '%s'" % uid],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    end = wait_job(t, org.admin, job["id"])
    assert end["status"] == "failed" and end["error"] == "the creator's account is gone", end
    assert end["progress"]["done"] == 1 and len(org.generated()) == 1, end


def test_an_org_has_a_limit_of_jobs_in_flight(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    fake.script(org.model, *[dict(stream_of(question(i)), first_delay=10) for i in range(2)])
    jobs = [org.job(kind="grammar_exercises", target_id=org.grammar, count=1) for _ in range(2)]
    s, h, data = t.request("POST", "/api/v1/generation/jobs", body={
        "kind": "grammar_exercises", "org_id": org.id, "course_id": org.course,
        "target_id": org.grammar}, headers={"Authorization": "Bearer " + org.admin})
    b = json.loads(data)
    assert s == 429 and b["error"]["code"] == "rate_limited" and int(h["retry-after"]) > 0, (s, b)
    assert "2 generation jobs" in b["error"]["message"]
    for j in jobs:
        ok(t, "POST", "/api/v1/generation/jobs/%s/cancel" % j["id"], org.admin)
    fake.script(org.model, stream_of(question(3)))
    job = org.job(kind="grammar_exercises", target_id=org.grammar, count=1)
    assert wait_job(t, org.admin, job["id"])["status"] == "done"


# -- access ---------------------------------------------------------------------------------------

def test_learner_other_org_and_keys_refused(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    other = Org(t, fake)
    key = ok(t, "POST", "/api/v1/orgs/%s/api-keys" % org.id, org.admin, {"name": "k"})["key"]
    body = {"kind": "vocabulary_exercises", "org_id": org.id, "course_id": org.course,
            "target_id": org.lesson}
    for token, status in [(org.learner, 403), (other.admin, 404), (key, 403), (None, 401)]:
        s, b = call(t, "POST", "/api/v1/generation/jobs", token, body)
        assert s == status, (s, b)
    # another org's admin naming their own org: the course is not theirs
    s, b = call(t, "POST", "/api/v1/generation/jobs", other.admin, dict(body, org_id=other.id))
    assert s == 404 and b["error"]["field"] == "course_id", b
    fake.script(org.model, *[stream_of(question(i)) for i in range(4)])
    job = org.job(kind="vocabulary_exercises", target_id=org.lesson, count=1)
    for token in (org.learner, other.admin, key):
        for method, path in [("GET", ""), ("POST", "/cancel")]:
            s, b = call(t, method, "/api/v1/generation/jobs/%s%s" % (job["id"], path), token)
            assert s == 404, (method, path, s, b)
    s, _ = call(t, "GET", "/api/v1/orgs/%s/generation/jobs" % org.id, org.learner)
    assert s == 403
    s, _ = call(t, "GET", "/api/v1/orgs/%s/generation/jobs" % org.id, other.admin)
    assert s == 404
    mine = ok(t, "GET", "/api/v1/orgs/%s/generation/jobs" % org.id, org.mentor)["items"]
    assert [j["id"] for j in mine] == [job["id"]]
    # with a model, vocabulary exercises come from it (about the lesson's words), not offline
    done = wait_job(t, org.admin, job["id"])
    assert done["status"] == "done" and done["offline"] is False and len(done["results"]) == 1, done
    system = fake.requests_for(org.model)[0]["body"]["messages"][0]["content"]
    assert "das Haus = house" in system and "der Baum = tree" in system, system
    assert not org.generated()[0]["title"].startswith("[offline]")


# -- bad input ------------------------------------------------------------------------------------

def test_bad_input_names_the_field(env):
    t, fake = env.t, env.fake
    org = Org(t, fake)
    base = {"kind": "grammar_exercises", "org_id": org.id, "course_id": org.course,
            "target_id": org.grammar}
    cases = [
        ({"kind": "poems"}, "kind"), ({"kind": 3}, "kind"), ({"org_id": "x"}, "org_id"),
        ({"course_id": None}, "course_id"), ({"target_id": "nope"}, "target_id"),
        ({"count": 0}, "count"), ({"count": 21}, "count"), ({"count": "3"}, "count"),
        ({"level": "Z9"}, "level"), ({"topic": ""}, "topic"), ({"colour": "red"}, "colour"),
        ({"modules": 3}, "modules"),
        ({"kind": "code_exercise", "target_id": org.lesson}, "topic"),
        ({"kind": "code_exercise", "target_id": org.lesson, "topic": "x", "language": "cobol"}, "language"),
        ({"kind": "course_outline", "target_id": None, "topic": "x", "modules": 13}, "modules"),
        ({"kind": "course_outline", "target_id": None, "topic": "x", "lessons_per_module": 0},
         "lessons_per_module"),
    ]
    for change, field in cases:
        body = dict(base, **change)
        body = {k: v for k, v in body.items() if v is not None}
        s, b = call(t, "POST", "/api/v1/generation/jobs", org.admin, body)
        assert s == 400 and b["error"]["code"] == "invalid_input" and b["error"]["field"] == field, \
            (change, s, b)
    s, b = call(t, "POST", "/api/v1/generation/jobs", org.admin, [1, 2])
    assert s == 400
    # targets: not in the course (404), the wrong kind (400), a lesson without vocabulary (400)
    s, b = call(t, "POST", "/api/v1/generation/jobs", org.admin, dict(base, target_id=org.lesson))
    assert s == 404 and b["error"]["field"] == "target_id", b
    s, b = call(t, "POST", "/api/v1/generation/jobs", org.admin,
                dict(base, target_id=org.lesson_items()[1]["id"]))
    assert s == 400 and b["error"]["field"] == "target_id", b
    empty = Org(t, fake)
    ok(t, "DELETE", "/api/v1/items/%s" % empty.lesson_items()[1]["id"], empty.admin)
    ok(t, "DELETE", "/api/v1/items/%s" % empty.lesson_items()[1]["id"], empty.admin)
    s, b = call(t, "POST", "/api/v1/generation/jobs", empty.admin,
                {"kind": "vocabulary_exercises", "org_id": empty.id, "course_id": empty.course,
                 "target_id": empty.lesson})
    assert s == 400 and b["error"]["field"] == "target_id" and "vocabulary" in b["error"]["message"], b
    # a published course: generated content is a draft, so it is refused
    ok(t, "POST", "/api/v1/courses/%s/publish" % org.course, org.admin)
    s, b = call(t, "POST", "/api/v1/generation/jobs", org.admin, base)
    assert s == 409 and b["error"]["field"] == "course_id", b
    # unknown ids
    for path in ["/api/v1/generation/jobs/%s" % org.course, "/api/v1/generation/jobs/not-an-id"]:
        s, _ = call(t, "GET", path, org.admin)
        assert s == 404
    for q in ["status=nope", "limit=0", "limit=x"]:
        s, b = call(t, "GET", "/api/v1/orgs/%s/generation/jobs?%s" % (org.id, q), org.admin)
        assert s == 400, (q, s, b)


# -- a killed server: the job is resumed and finished once ----------------------------------------

def mid_job(t, fake):
    """A 3-piece job on server t whose first piece is made and whose second is with the (slow,
    30 s) model: (org, job)."""
    org = Org(t, fake)
    fake.script(org.model, stream_of(question(1)), dict(stream_of(question(2)), first_delay=30),
                stream_of(question(3)), stream_of(question(4)))
    job = org.job(kind="grammar_exercises", target_id=org.grammar, count=3)
    wait_job(t, org.admin, job["id"], pred=lambda b: b["progress"]["done"] == 1)
    time.sleep(0.3)
    return org, job


def test_killed_mid_job_resumes_and_finishes_once(tutord_factory, fake, env):
    first = tutord_factory(**GEN_ENV)
    org, job = mid_job(first, fake)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    first.check_exit = False
    second = tutord_factory(**GEN_ENV)
    org.t = second
    done = wait_job(second, org.admin, job["id"], timeout=60)
    assert done["status"] == "done" and done["progress"] == {"done": 3, "total": 3}, done
    assert [r["index"] for r in done["results"]] == [0, 1, 2]
    made = org.generated()
    assert len(made) == 3 and len({i["slug"] for i in made}) == 3, made
    assert sorted(i["content"]["prompt"][-3:] for i in made) == ["(1)", "(3)", "(4)"]
    # the module's server shares the database: either llm process may resume it -- once
    logs = [second.log_text(), env.t.log_text()]
    assert sum(l.count("generation job %s claimed" % job["id"]) for l in logs) == 1, logs[0][-3000:]
    assert sum(l.count("generation job %s done" % job["id"]) for l in logs) == 1


def clone_setup(org, fake):
    """A cancelled job of org (its row to clone) and a fresh id for the clone."""
    import uuid
    fake.script(org.model, dict(stream_of(question(9)), first_delay=10))
    first = org.job(kind="grammar_exercises", target_id=org.grammar, count=2)
    ok(org.t, "POST", "/api/v1/generation/jobs/%s/cancel" % first["id"], org.admin)
    return str(uuid.uuid4()), first["id"]


def clone_job(new, first):
    """Queue a copy of job first's row as new, as a dead process would leave it (queued)."""
    import os
    import subprocess
    sql = ("INSERT INTO llm_gen_jobs (id, org_id, created_by, auth, kind, course_id, target_id,"
           " params, context, offline, total) SELECT '%s', org_id, created_by, auth, kind,"
           " course_id, target_id, params, context, offline, total FROM llm_gen_jobs"
           " WHERE id = '%s'" % (new, first))
    res = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", os.environ["TUTORD_TEST_DB"],
                          "-c", sql], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr


def test_a_job_resumed_after_its_course_was_published_fails(env):
    """Generated content is a draft: a job resumed after its course went live writes nothing."""
    t, fake = env.t, env.fake
    org = Org(t, fake)
    new, first = clone_setup(org, fake)
    ok(t, "POST", "/api/v1/courses/%s/publish" % org.course, org.admin)
    clone_job(new, first)
    done = wait_job(t, org.admin, new)
    assert done["status"] == "failed" and "published meanwhile" in done["error"], done
    assert org.generated() == []


def test_a_piece_made_but_never_recorded_is_found_not_made_again(env):
    """A process that dies between the catalog's 201 and recording the piece: the next owner
    finds the item by its slug (gen-<job>-<n>) and records it instead of asking the model again.
    Made exactly so: a job row cloned in SQL (as a dead process would leave it, queued) whose
    first piece's item already exists in the lesson."""
    t, fake = env.t, env.fake
    org = Org(t, fake)
    new, first = clone_setup(org, fake)
    made = org.item("gen-%s-1" % new[:8], "question", "Made before the crash", question(1))
    fake.script(org.model, stream_of(question(2)))
    clone_job(new, first)
    before = len(fake.requests_for(org.model))
    done = wait_job(t, org.admin, new)
    assert done["status"] == "done" and len(done["results"]) == 2, done
    assert done["results"][0]["item_id"] == made and done["results"][0]["recovered"] is True
    assert len(fake.requests_for(org.model)) == before + 1          # only the second piece asked
    assert sorted(i["slug"] for i in org.generated()) == ["gen-%s-1" % new[:8], "gen-%s-2" % new[:8]]


def test_a_stopped_server_hands_its_jobs_over_at_once(tutord_factory, fake, env):
    """SIGTERM mid-job: the llm actor's fini releases its leases, so the next server resumes the
    job at once rather than after the lease (60 s here); the stream in flight is aborted."""
    slow_lease = dict(GEN_ENV, TUTORD_LLM_GEN_LEASE_MS="60000")
    first = tutord_factory(**slow_lease)
    org, job = mid_job(first, fake)
    first.stop(check=True)                   # a clean stop, sanitizers included
    second = tutord_factory(**slow_lease)
    org.t = second
    t0 = time.monotonic()
    done = wait_job(second, org.admin, job["id"], timeout=30)
    assert done["status"] == "done" and time.monotonic() - t0 < 20, done
    assert [r["index"] for r in done["results"]] == [0, 1, 2] and len(org.generated()) == 3
