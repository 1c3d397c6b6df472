"""Per-item limits and the failing tests' names in grade.result, through a real tutord.

Why: an exercise may need more (or less) than the default box (CPU 2 s, wall 5 s, 256 MiB, ...):
the item's `limits` decide, never above the configured maxima, and a learner's inline
submission may not raise them. Error patterns (the analytics actor) need to know which tests
fail: grade.result carries `failed_tests`, hidden tests by name only.
"""

import json
import time

import msgpack
import zmq

from test_access import SECRET, build_world, call, ok, unique


def course_with(w, exercises):
    """A published public course of org A with one exercise item per entry of exercises."""
    tok = w.tokens["admin_a"]
    c = ok(w.t, "POST", "/api/v1/orgs/%s/courses" % w.ids["A"], tok,
           {"slug": unique("gl"), "title": "Limits", "visibility": "public"}, expect=(201,))
    m = ok(w.t, "POST", "/api/v1/courses/%s/modules" % c["id"], tok, {"slug": "mod", "title": "M"})
    l = ok(w.t, "POST", "/api/v1/modules/%s/lessons" % m["id"], tok, {"slug": "les", "title": "L"})
    items = {}
    for name, content in exercises.items():
        items[name] = ok(w.t, "POST", "/api/v1/lessons/%s/items" % l["id"], tok,
                         {"slug": name, "kind": "exercise", "title": name, "content": content},
                         expect=(201,))["id"]
    ok(w.t, "POST", "/api/v1/courses/%s/publish" % c["id"], tok, expect=(200,))
    return items


def exercise(limits=None, tests=None):
    content = {"language": "python", "instructions": "Run.",
               "tests": tests or [{"name": "runs", "stdin": "", "expected_stdout": "done\n"}]}
    if limits is not None:
        content["limits"] = limits
    return content


def submit(w, body, who="learner"):
    s, _, b = call(w.t, "POST", "/api/v1/submissions?wait=true", w.tokens[who], body)
    return s, b


SLEEP_2S = "import time\ntime.sleep(2)\nprint('done')\n"
ALLOC_64M = "b = bytearray(64 * 1024 * 1024)\nfor i in range(0, len(b), 4096):\n    b[i] = 1\nprint('done')\n"


def test_item_limits_replace_the_defaults(tutord_factory):
    w = build_world(tutord_factory)
    items = course_with(w, {
        "wall1": exercise({"wall_ms": 1000}),
        "mem32": exercise({"memory_mb": 32}),
        "plain": exercise(),
        "roomy": exercise({"wall_ms": 20000, "memory_mb": 1024}),
    })
    # a 1 s wall limit ends a 2 s sleep as the wall-clock verdict
    s, r = submit(w, {"item_id": items["wall1"], "code": SLEEP_2S})
    assert s == 200 and r["verdict"] == "time_limit", r
    assert "wall" in r["tests"][0].get("message", ""), r["tests"][0]
    assert r["tests"][0]["wall_ms"] < 1900, r["tests"][0]
    assert r["limits"]["wall_ms"] == 1000 and r["limits"]["memory_mb"] == 256, r["limits"]
    # the default 5 s lets it finish
    s, r = submit(w, {"item_id": items["plain"], "code": SLEEP_2S})
    assert s == 200 and r["verdict"] == "accepted", r
    assert r["limits"] == {"cpu_ms": 2000, "wall_ms": 5000, "memory_mb": 256, "processes": 64,
                           "output_kb": 64, "file_kb": 1024}, r["limits"]
    # memory_mb 32 ends a 64 MB allocation; the default 256 MiB does not
    s, r = submit(w, {"item_id": items["mem32"], "code": ALLOC_64M})
    assert s == 200 and r["verdict"] == "memory_limit", r
    s, r = submit(w, {"item_id": items["plain"], "code": ALLOC_64M})
    assert s == 200 and r["verdict"] == "accepted", r
    s, r = submit(w, {"item_id": items["roomy"], "code": SLEEP_2S})
    assert s == 200 and r["verdict"] == "accepted", r
    assert r["limits"]["wall_ms"] == 20000, r["limits"]
    # The maxima are lowered afterwards (the catalog now refuses such items, the ones stored
    # before stay): the grader never goes above them. Same database, same secret: the world's
    # tokens and items are valid on the second server; the first is stopped so that only the
    # second's grader claims submissions.
    w.t.stop()
    t2 = tutord_factory(TUTORD_SECRET=SECRET, TUTORD_GRADER_MAX_WALL_MS="1500")
    s, _, r = call(t2, "POST", "/api/v1/submissions?wait=true", w.tokens["learner"],
                   {"item_id": items["roomy"], "code": SLEEP_2S})
    assert s == 200 and r["verdict"] == "time_limit", r
    assert r["limits"]["wall_ms"] == 1500 and r["limits"]["memory_mb"] == 1024, r["limits"]
    # the defaults too (5 s) are brought down to the maximum
    s, _, r = call(t2, "POST", "/api/v1/submissions?wait=true", w.tokens["learner"],
                   {"item_id": items["plain"], "code": SLEEP_2S})
    assert s == 200 and r["verdict"] == "time_limit" and r["limits"]["wall_ms"] == 1500, r


def test_inline_submissions_may_not_raise_limits(tutord_factory):
    w = build_world(tutord_factory)
    tests = [{"name": "runs", "expected_stdout": "done\n"}]
    for limits, field in [({"wall_ms": 6000}, "limits.wall_ms"),
                          ({"memory_mb": 512}, "limits.memory_mb"),
                          ({"processes": 65}, "limits.processes"),
                          ({"cpu_ms": 2001}, "limits.cpu_ms"),
                          ({"output_kb": 65}, "limits.output_kb"),
                          ({"file_kb": 1025}, "limits.file_kb"),
                          ("fast", "limits")]:
        s, b = submit(w, {"language": "python", "code": "print('done')", "tests": tests,
                          "limits": limits})
        assert s == 400 and b["error"]["field"] == field, (limits, s, b)
    # lowering is allowed and applies
    s, r = submit(w, {"language": "python", "code": SLEEP_2S, "tests": tests,
                      "limits": {"wall_ms": 1000}})
    assert s == 200 and r["verdict"] == "time_limit", r
    s, r = submit(w, {"language": "python", "code": "print('done')", "tests": tests,
                      "limits": {"wall_ms": 5000, "memory_mb": 256}})
    assert s == 200 and r["verdict"] == "accepted", r


def test_grade_result_names_the_failing_tests(tutord_factory):
    w = build_world(tutord_factory)
    many = [{"name": "t%02d" % i, "stdin": str(i), "expected_stdout": "%d\n" % (2 * i)}
            for i in range(25)]
    items = course_with(w, {
        "double": exercise(tests=[
            {"name": "small", "stdin": "2", "expected_stdout": "4\n"},
            {"name": "negative", "stdin": "-3", "expected_stdout": "-6\n"},
            {"name": "secret case", "stdin": "21", "expected_stdout": "42\n", "hidden": True}]),
        "many": exercise(tests=many),
    })
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"grade.result")
    sub.connect(w.t.events)
    time.sleep(0.5)
    # right for 2, wrong for -3 and for 21 (hidden): those two are named, in order
    code = "n = int(input())\nprint(4 if n == 2 else n)\n"
    _, a = submit(w, {"item_id": items["double"], "code": code})
    _, b = submit(w, {"item_id": items["double"], "code": "n = int(input())\nprint(2 * n)\n"})
    _, c = submit(w, {"item_id": items["many"], "code": "print(0)\n"})   # all but t00 fail
    _, q = submit(w, {"language": "python", "code": "print(", "tests": [
        {"name": "syntax", "expected_stdout": "x\n"}]})
    want = {a["id"], b["id"], c["id"], q["id"]}
    got = {}
    end = time.monotonic() + 20
    while time.monotonic() < end and len(got) < len(want):
        if sub.poll(500):
            _, data = sub.recv_multipart()
            ev = msgpack.unpackb(data, raw=False)
            if ev["data"].get("submission_id") in want:
                got[ev["data"]["submission_id"]] = ev["data"]
    sub.close(0)
    assert set(got) == want, got
    assert got[a["id"]]["failed_tests"] == ["negative", "secret case"], got[a["id"]]
    assert got[b["id"]]["failed_tests"] == [] and got[b["id"]]["passed"] is True
    assert got[c["id"]]["failed_tests"] == ["t%02d" % i for i in range(1, 21)], got[c["id"]]
    assert got[q["id"]]["failed_tests"] == ["syntax"], got[q["id"]]
    # a hidden test's data never travels with its name
    assert "21" not in json.dumps(got[a["id"]]["failed_tests"])
