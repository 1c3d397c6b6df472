"""Helpers for the German A1-B1 seed generator (seed/src/german_a1_b1.py).

Why: the course is several hundred small records (grammar topics with exercises, vocabulary
entries, conversation contexts). Writing them as compact Python tables and turning them into the
catalog's item shapes here (actors/catalog/CATALOG.md §1) keeps the content readable for the
people who check the German, and keeps every item in exactly the same shape.
"""

import re
import textwrap

LEVELS = ("A1", "A2", "B1")
ARTICLES = {"der": "masculine", "die": "feminine", "das": "neuter"}
NO_PLURAL = "—"          # a noun with no plural (uncountable): CATALOG.md vocabulary `plural`


def dedent(text):
    return textwrap.dedent(text).strip("\n") + "\n"


def slugify(text):
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})
    s = re.sub(r"[^a-z0-9]+", "-", text.translate(table).lower()).strip("-")
    return s[:64].strip("-")


def ascii_spelling(text):
    """The spelling of a German answer on a keyboard without umlauts (ä -> ae, ß -> ss)."""
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
    return text.translate(table)


def accepted(answers):
    """Every accepted spelling of a short answer: the given ones, then their umlaut-free forms."""
    out = []
    for a in answers:
        for form in (a, ascii_spelling(a)):
            if form not in out:
                out.append(form)
    return out


# -- grammar exercises: question content objects (CATALOG.md §1 `question`) --------------------

def single(prompt, choices, answer, explanation):
    """One right choice; `answer` is the right choice's text (turned into its index here)."""
    assert answer in choices, (prompt, answer, choices)
    assert len(set(choices)) == len(choices), (prompt, choices)
    return {"type": "single", "prompt": prompt, "choices": list(choices),
            "answer": choices.index(answer), "explanation": explanation}


def multiple(prompt, choices, answers, explanation):
    """Several right choices, given by their texts."""
    assert all(a in choices for a in answers), (prompt, answers)
    assert len(set(choices)) == len(choices), (prompt, choices)
    return {"type": "multiple", "prompt": prompt, "choices": list(choices),
            "answer": sorted(choices.index(a) for a in answers), "explanation": explanation}


def short(prompt, answers, explanation):
    """A typed answer; `answers` are all accepted spellings (umlaut-free forms are added)."""
    if isinstance(answers, str):
        answers = [answers]
    answers = list(answers)
    if re.match(r"^(\([^)]*\)\s*)?___", prompt):
        # the gap opens the sentence: the capital is expected, a small letter is no German error
        answers += [a[0].lower() + a[1:] for a in answers]
    return {"type": "short", "prompt": prompt, "answer": accepted(answers),
            "explanation": explanation}


def grammar(slug, title, level, explanation, exercises):
    assert level in LEVELS, (slug, level)
    assert len(exercises) >= 4, (slug, "at least 4 exercises")
    return {"slug": "g-" + slug, "kind": "grammar", "title": title,
            "content": {"level": level, "explanation": dedent(explanation), "exercises": exercises}}


# -- vocabulary ---------------------------------------------------------------------------------

def vocabulary_items(table):
    """Vocabulary items from lines `word | plural | translation | example | example translation`.

    `word` of a noun starts with its article (`der Tisch`); its plural is the bare plural form
    (`Tische`), `-` for a noun without a plural, `pl` for a plural-only noun (`die Eltern`).
    Other words (verbs, adjectives, phrases) have no article and an empty plural column.
    """
    items = []
    for line in dedent(table).splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        assert len(parts) == 5, line
        word, plural, translation, example, example_en = parts
        content = {}
        first, _, rest = word.partition(" ")
        if first in ARTICLES and rest:
            content["word"] = rest
            content["article"] = first
            if plural == "pl":
                content["gender"] = "plural"
                content["plural"] = rest
            else:
                assert plural, (word, "a noun needs its plural, '-' or 'pl'")
                content["gender"] = ARTICLES[first]
                content["plural"] = NO_PLURAL if plural == "-" else plural
        else:
            assert not plural, (word, "only nouns have a plural")
            content["word"] = word
        content["translation"] = translation
        content["example"] = example
        content["example_translation"] = example_en
        title = ("%s %s" % (content["article"], content["word"])) if "article" in content else word
        items.append({"slug": "v-" + slugify(title), "kind": "vocabulary", "title": title,
                      "content": content})
    return items


# -- conversation contexts ----------------------------------------------------------------------

def conversation(slug, title, level, scenario, role, goals, text):
    assert level in LEVELS and goals
    return {"slug": "c-" + slug, "kind": "material", "title": title,
            "content": {"blocks": [{"type": "markdown", "text": dedent(text)}],
                        "conversation": {"scenario": scenario, "role": role, "goals": goals,
                                         "level": level}}}


def lesson(slug, title, items, description=""):
    return {"slug": slug, "title": title, "description": description, "items": items}


def module(slug, title, description, lessons):
    return {"slug": slug, "title": title, "description": description, "lessons": lessons}
