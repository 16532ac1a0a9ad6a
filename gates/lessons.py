"""Lessons of killed pilots: found by the words of a search, or by a problem like a new pilot's.

PostgreSQL ranks with its full-text search (English stemming, so "invoices" finds
"invoice"); SQLite, the embedded default, falls back to matching words and their
first letters in Python, which is plenty for the few dozen pilots a portfolio kills.
"""

from __future__ import annotations

import re
from functools import reduce
from operator import or_

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from gates.models import Decision, GateReview
from portfolio.extensions import KilledPilotLesson
from portfolio.models import Pilot, Status

SEARCH_CONFIG = "english"
# Words that say nothing about a problem; the fallback ignores them (PostgreSQL has its own list).
STOP_WORDS = frozenset(
    """
    a about after all also an and any are as at be because been before being but by can could did do does
    every for from had has have how if in into is it its more most no not of on once one only or other our
    out over same so some such than that the their them then there these they this those through to too
    under until up very was we were what when where which while who why will with would you your
    """.split()  # noqa: SIM905
)
# Two words match in the fallback when they share this many first letters ("invoice", "invoices").
STEM_LENGTH = 5
MAX_QUERY_WORDS = 40


def significant_words(text: str) -> list[str]:
    """The words of ``text`` worth matching, lower case, each once, in order."""
    seen: dict[str, None] = {}
    for word in re.findall(r"[^\W_]+", text.lower()):
        if len(word) >= 3 and word not in STOP_WORDS and not word.isdigit():
            seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_WORDS]


def kill_lessons_match(word: str) -> Q:
    """A condition on Pilot: one of its kill reviews mentions ``word`` in its rationale or lessons."""
    kills = GateReview.objects.filter(pilot=OuterRef("pk"), decision=Decision.KILL)
    mentioned = Q(rationale__icontains=word) | Q(lessons__icontains=word)
    if connection.vendor == "postgresql":
        stemmed = (
            kills.annotate(document=SearchVector("rationale", "lessons", config=SEARCH_CONFIG))
            .filter(Q(document=SearchQuery(word, config=SEARCH_CONFIG)) | mentioned)
            .values("pk")
        )
        return Q(Exists(stemmed))
    return Q(Exists(kills.filter(mentioned).values("pk")))


def similar_killed_pilots(problem_text: str, limit: int = 5) -> list[KilledPilotLesson]:
    """Killed pilots whose problem statement resembles ``problem_text``, best match first, with their lessons."""
    words = significant_words(problem_text)
    if not words or limit <= 0:
        return []
    killed = Pilot.objects.filter(status=Status.KILLED)
    if connection.vendor == "postgresql":
        query = reduce(or_, (SearchQuery(word, config=SEARCH_CONFIG) for word in words))
        vector = SearchVector("problem", weight="A", config=SEARCH_CONFIG) + SearchVector(
            "name", weight="B", config=SEARCH_CONFIG
        )
        ranked = (
            killed.annotate(document=vector, rank=SearchRank(vector, query))
            .filter(document=query)
            .order_by("-rank", "name", "id")
            .values_list("id", flat=True)[:limit]
        )
        pilot_ids = list(ranked)
    else:
        pilot_ids = _fallback_ranking(killed.values_list("id", "name", "problem"), words, limit)
    return _with_lessons(pilot_ids)


def _stem(word: str) -> str:
    return word[:STEM_LENGTH]


def _fallback_ranking(rows: object, words: list[str], limit: int) -> list[int]:
    wanted = {_stem(word) for word in words}
    scored = []
    for pilot_id, name, problem in rows:  # type: ignore[attr-defined]
        problem_stems = {_stem(word) for word in significant_words(problem)}
        name_stems = {_stem(word) for word in significant_words(name)}
        # The problem statement counts double: it is what "similar" is about.
        score = 2 * len(wanted & problem_stems) + len(wanted & name_stems)
        if score:
            scored.append((-score, name, pilot_id))
    return [pilot_id for _, _, pilot_id in sorted(scored)[:limit]]


def _with_lessons(pilot_ids: list[int]) -> list[KilledPilotLesson]:
    """The pilots in the order given, each with its latest kill review (two queries)."""
    if not pilot_ids:
        return []
    pilots = Pilot.objects.in_bulk(pilot_ids)
    kills: dict[int, GateReview] = {}
    for review in (
        GateReview.objects.filter(pilot_id__in=pilot_ids, decision=Decision.KILL)
        .select_related("decided_by")
        .order_by("decided_on", "id")
    ):
        kills[review.pilot_id] = review
    lessons = []
    for pilot_id in pilot_ids:
        pilot = pilots[pilot_id]
        review = kills.get(pilot_id)
        decided_by = review.decided_by if review else None
        lessons.append(
            KilledPilotLesson(
                pilot_key=pilot.key,
                pilot_name=pilot.name,
                problem=pilot.problem,
                killed_on=review.decided_on if review else None,
                decided_by=(decided_by.get_full_name() or decided_by.get_username()) if decided_by else "",
                rationale=review.rationale if review else "",
                lessons=review.lessons if review else "",
            )
        )
    return lessons
