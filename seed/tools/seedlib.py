"""Small helpers shared by the seed generators in this folder (see seed/tools/README.md).

They build catalog records (actors/catalog/CATALOG.md §1 and §4) from plain Python data, so a
course is written as readable code and the JSON under seed/ is generated from it.
"""

import json
import os
import textwrap


def dedent(text):
    return textwrap.dedent(text).strip("\n") + "\n"


def material(slug, title, text):
    return {"slug": slug, "kind": "material", "title": title,
            "content": {"blocks": [{"type": "markdown", "text": dedent(text)}]}}


def exercise(slug, title, instructions, starter, tests, hints, solution, exam=False):
    return {"slug": slug, "kind": "exercise", "title": title,
            "content": {"language": "python", "instructions": dedent(instructions),
                        "starter_code": dedent(starter), "tests": tests, "hints": hints,
                        "solution": dedent(solution), "exam": exam}}


def question(slug, title, qtype, prompt, answer, choices=None, explanation="", tolerance=None):
    content = {"type": qtype, "prompt": dedent(prompt).rstrip("\n"), "answer": answer,
               "explanation": explanation}
    if choices is not None:
        content["choices"] = choices
    if tolerance is not None:
        content["tolerance"] = tolerance
    return {"slug": slug, "kind": "question", "title": title, "content": content}


def io(name, stdin, expected, match="trim", hidden=False, tolerance=None):
    t = {"name": name, "stdin": stdin, "expected_stdout": expected, "match": match}
    if hidden:
        t["hidden"] = True
    if tolerance is not None:
        t["tolerance"] = tolerance
    return t


def fn(name, function, args, expected, hidden=False, kwargs=None, expected_type=None,
       tolerance=None):
    t = {"name": name, "kind": "function", "function": function, "args": args,
         "expected_return": expected}
    if kwargs:
        t["kwargs"] = kwargs
    if expected_type:
        t["expected_type"] = expected_type
    if hidden:
        t["hidden"] = True
    if tolerance is not None:
        t["tolerance"] = tolerance
    return t


def lesson(slug, title, items, description=""):
    return {"slug": slug, "title": title, "description": description, "items": items}


def module(slug, title, description, lessons):
    return {"slug": slug, "title": title, "description": description, "lessons": lessons}


def write_seed(filename, course, description):
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(os.path.dirname(here), filename)
    doc = {"description": description,
           "messages": [{"service": "catalog", "type": "course.upsert", "body": course}]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return path
