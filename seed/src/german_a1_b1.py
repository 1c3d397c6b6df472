#!/usr/bin/python3
"""Generates seed/german-a1-b1.json, the course "German for English speakers (A1–B1)".

Run: /usr/bin/python3 seed/src/german_a1_b1.py  (then commit this folder and the JSON together).

The content lives in the tables beside this script: german_grammar_a1/a2/b1.py (grammar topics
with their exercises), german_vocabulary.py (vocabulary by theme) and german_conversations.py
(conversation contexts for the AI tutor); german_lib.py turns them into catalog items
(actors/catalog/CATALOG.md §1). This script only arranges them into modules and lessons.
Slugs are the upsert keys: keep them stable (renaming one creates a new item).
"""

import json
import os
import sys

sys.dont_write_bytecode = True          # no __pycache__ in seed/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import german_conversations as conv                      # noqa: E402
import german_grammar_a1 as a1                           # noqa: E402
import german_grammar_a2 as a2                           # noqa: E402
import german_grammar_b1 as b1                           # noqa: E402
from german_lib import dedent, lesson, module, vocabulary_items   # noqa: E402
from german_vocabulary import THEMES                     # noqa: E402

OUTPUT = "german-a1-b1.json"

DESCRIPTION = """\
German from the very beginning to confident everyday use (levels A1, A2 and B1 of the Common
European Framework), explained in English.

Each level is a module with three kinds of lessons:

- **Grammar**: one topic per item — a clear explanation with tables and examples, then
  exercises (multiple choice and fill-in-the-gap) with feedback.
- **Vocabulary**: words by theme, each with its article and plural, a translation and an
  example sentence.
- **Conversations**: realistic situations (a café, the doctor's, a job interview …) to practise
  speaking with the AI tutor, who plays the other person.

Typing tip: if your keyboard has no umlauts, write ae, oe, ue and ss (*fuer*, *heisst*):
the exercises accept both spellings.
"""

WELCOME = {
    "slug": "welcome", "kind": "material", "title": "How this course works",
    "content": {"blocks": [{"type": "markdown", "text": dedent("""
        # Welcome to German!

        This course takes you from your first *Hallo* to level **B1**: you can then handle
        most everyday situations, talk about your experiences and plans, and give your
        opinion.

        **How to use it**

        1. Work through the grammar topics in order. Read the explanation, say the examples
           out loud, then do the exercises. Every wrong answer comes with an explanation.
        2. Learn the vocabulary of each theme. Always learn a noun **with its article and
           plural**: *der Tisch, die Tische* — the article is part of the word.
        3. Use the conversation contexts to practise speaking with the AI tutor. Don't worry
           about mistakes: the tutor stays in role and helps you when you get stuck.

        **Three things that make German different from English**

        - Every noun has a gender (*der, die, das*) and is written with a capital letter.
        - The conjugated verb is always the second element of a statement (*Heute **lerne**
          ich Deutsch.*) and goes to the end in subordinate clauses (*…, weil ich Deutsch
          **lerne**.*).
        - Articles change with the case (*der Mann → den Mann → dem Mann*): the case shows who
          does what to whom.

        Viel Erfolg! (Good luck!)
    """)}]}}

# (level, module slug, title, description, grammar lessons [(slug, title, topics)], conversations)
LEVELS = [
    ("A1", "level-a1", "A1 — Beginner",
     "Introduce yourself, order food, shop, ask the way and talk about your day: present tense, articles, "
     "the accusative, questions, modal and separable verbs, numbers and time.",
     [("grammar-first-sentences", "Grammar: first sentences",
       [a1.PRONOUNS, a1.PRESENT_REGULAR, a1.SEIN_HABEN]),
      ("grammar-nouns-and-articles", "Grammar: nouns, articles and the accusative",
       [a1.GENDER, a1.PLURAL, a1.ACCUSATIVE, a1.NEGATION, a1.POSSESSIVES, a1.ACC_PRONOUNS]),
      ("grammar-questions-and-word-order", "Grammar: questions and word order",
       [a1.W_QUESTIONS, a1.YES_NO, a1.VERB_SECOND]),
      ("grammar-more-verbs", "Grammar: more verbs",
       [a1.STEM_CHANGE, a1.MODALS, a1.SEPARABLE, a1.IMPERATIVE, a1.GERN]),
      ("grammar-numbers-and-time", "Grammar: numbers and time",
       [a1.ES_GIBT_NUMBERS, a1.TIME, a1.TIME_PREPOSITIONS])],
     conv.A1),
    ("A2", "level-a2", "A2 — Elementary",
     "Talk about the past, health, work and travel; give reasons and compare: the perfect tense, the dative, "
     "prepositions, reflexive verbs, subordinate clauses and adjective endings.",
     [("grammar-talking-about-the-past", "Grammar: talking about the past",
       [a2.PERFECT_HABEN, a2.PERFECT_SEIN, a2.PARTICIPLES_PREFIX, a2.PRAETERITUM_SEIN, a2.MODALS_PAST]),
      ("grammar-the-dative", "Grammar: the dative",
       [a2.DATIVE, a2.DATIVE_VERBS, a2.DATIVE_PRONOUNS]),
      ("grammar-prepositions", "Grammar: prepositions",
       [a2.DATIVE_PREPOSITIONS, a2.ACCUSATIVE_PREPOSITIONS, a2.TWO_WAY]),
      ("grammar-connecting-sentences", "Grammar: reflexive verbs and connecting sentences",
       [a2.REFLEXIVE, a2.WEIL_DASS, a2.COORDINATING]),
      ("grammar-describing-and-comparing", "Grammar: describing and comparing",
       [a2.COMPARISON, a2.ADJ_DEFINITE, a2.ADJ_INDEFINITE, a2.DATES])],
     conv.A2),
    ("B1", "level-b1", "B1 — Intermediate",
     "Tell stories, express wishes and opinions, discuss and argue: the simple past, subjunctive II, passive, "
     "relative clauses, the genitive, infinitive constructions and complex sentences.",
     [("grammar-telling-stories", "Grammar: telling stories",
       [b1.PRAETERITUM, b1.PLUPERFECT, b1.ALS_WENN, b1.TEMPORAL]),
      ("grammar-wishes-plans-and-processes", "Grammar: wishes, plans and processes",
       [b1.KONJUNKTIV, b1.FUTURE, b1.PASSIVE, b1.LASSEN]),
      ("grammar-complex-sentences", "Grammar: complex sentences",
       [b1.RELATIVE, b1.INDIRECT_QUESTIONS, b1.ZU_INFINITIVE, b1.CONCESSIVE, b1.TWO_PART]),
      ("grammar-cases-and-prepositions", "Grammar: cases and prepositional verbs",
       [b1.GENITIVE, b1.N_DECLENSION, b1.VERBS_PREPOSITIONS, b1.DA_WO])],
     conv.B1),
]


def build_course():
    modules = []
    for level, mslug, title, description, grammar_lessons, conversations in LEVELS:
        lessons = []
        if level == "A1":
            lessons.append(lesson("start-here", "Start here", [WELCOME]))
        for lslug, ltitle, topics in grammar_lessons:
            assert all(t["content"]["level"] == level for t in topics), lslug
            lessons.append(lesson(lslug, ltitle, topics))
        for tlevel, tslug, ttitle, table in THEMES:
            if tlevel == level:
                lessons.append(lesson("vocabulary-" + tslug, "Vocabulary: " + ttitle,
                                      vocabulary_items(table)))
        lessons.append(lesson("conversations", "Conversations", conversations,
                              "Situations to practise speaking with the AI tutor."))
        modules.append(module(mslug, title, description, lessons))
    return {"org_slug": None, "slug": "german-a1-b1",
            "title": "German for English speakers (A1–B1)", "description": DESCRIPTION,
            "language": "en", "visibility": "public", "status": "published", "modules": modules}


def main():
    course = build_course()
    items = [it for m in course["modules"] for l in m["lessons"] for it in l["items"]]
    slugs = [it["slug"] for it in items]
    dup = sorted({s for s in slugs if slugs.count(s) > 1})
    assert not dup, ("duplicate item slugs", dup)
    words = [it["content"]["word"] for it in items if it["kind"] == "vocabulary"]
    dup = sorted({w for w in words if words.count(w) > 1})
    assert not dup, ("duplicate vocabulary", dup)
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), OUTPUT)
    doc = {"description": "German for English speakers, A1-B1: generated by seed/src/german_a1_b1.py -- edit the tables there, then run it",
           "messages": [{"service": "catalog", "type": "course.upsert", "body": course}]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    grammar = [it for it in items if it["kind"] == "grammar"]
    print("%s: %d grammar topics (%d exercises), %d vocabulary entries, %d conversation contexts"
          % (path, len(grammar), sum(len(g["content"]["exercises"]) for g in grammar), len(words),
             sum(1 for it in items if "conversation" in it["content"])))


if __name__ == "__main__":
    main()
