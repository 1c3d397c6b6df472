"""The baseline of issue 4's benchmark: GET /api/v1/courses/{id} written the way the systems
tutord replaces write it -- FastAPI + uvicorn + psycopg2, from Debian's packages.

Why: the issue measures tutord's catalog against this, in the same run, on the same PostgreSQL
and the same rows (tools/bench/bench_catalog.sh starts both). It reads the catalog's own tables
like a typical Python service does: one psycopg2 connection per worker process, one query per
level of the tree (course, modules, lessons, items), the tree assembled in Python, the learner
view built by deleting the answers, and JSON from FastAPI. It checks that a bearer token is
present but does not verify it (tutord verifies every token against its sessions table), so the
comparison favours the baseline.

Run: TUTORD_DB="host=... dbname=... user=..." uvicorn catalog_app:app --workers 2
"""

import os

import psycopg2
import psycopg2.extras
from fastapi import FastAPI, Header, HTTPException

app = FastAPI()
_conn = None


def conn():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg2.connect(os.environ["TUTORD_DB"])
        _conn.autocommit = True
    return _conn


def learner_item(item):
    content = item.get("content") or {}
    if item["kind"] == "exercise":
        content.pop("solution", None)
        for t in content.get("tests") or []:
            if isinstance(t, dict) and t.get("hidden"):
                for k in [k for k in t if k.startswith("expected")]:
                    del t[k]
    elif item["kind"] == "question":
        content.pop("answer", None)
        content.pop("tolerance", None)
    elif item["kind"] == "grammar":
        for q in content.get("exercises") or []:
            if isinstance(q, dict):
                q.pop("answer", None)
                q.pop("tolerance", None)
    return item


@app.get("/api/v1/courses/{course_id}")
def get_course(course_id: str, authorization: str = Header(None)):
    if not authorization or not authorization.startswith("Bearer "):
        raise HTTPException(status_code=401, detail="sign in")
    cur = conn().cursor(cursor_factory=psycopg2.extras.RealDictCursor)
    cur.execute("SELECT id::text, org_id, slug, title, description, language, status, visibility,"
                " publish_at, created_at, updated_at FROM catalog_courses WHERE id = %s"
                " AND (status = 'published' OR publish_at <= now ())", (course_id,))
    course = cur.fetchone()
    if not course or course["visibility"] != "public":
        raise HTTPException(status_code=404, detail="there is no such course")
    cur.execute("SELECT id::text, slug, title, description, position FROM catalog_modules"
                " WHERE course_id = %s ORDER BY position", (course_id,))
    modules = cur.fetchall()
    cur.execute("SELECT l.id::text, l.module_id::text, l.slug, l.title, l.description, l.position"
                " FROM catalog_lessons l JOIN catalog_modules m ON m.id = l.module_id"
                " WHERE m.course_id = %s ORDER BY l.position", (course_id,))
    lessons = cur.fetchall()
    cur.execute("SELECT i.id::text, i.lesson_id::text, i.slug, i.kind, i.title, i.position,"
                " i.content, i.updated_at FROM catalog_items i"
                " JOIN catalog_lessons l ON l.id = i.lesson_id"
                " JOIN catalog_modules m ON m.id = l.module_id"
                " WHERE m.course_id = %s ORDER BY i.position", (course_id,))
    items = cur.fetchall()
    cur.close()
    by_lesson = {}
    for it in items:
        by_lesson.setdefault(it["lesson_id"], []).append(learner_item(dict(it)))
    by_module = {}
    for l in lessons:
        l = dict(l)
        l["items"] = by_lesson.get(l["id"], [])
        by_module.setdefault(l.pop("module_id"), []).append(l)
    course = dict(course)
    course["modules"] = [dict(m, lessons=by_module.get(m["id"], [])) for m in modules]
    return course
