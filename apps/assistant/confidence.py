"""How likely the retrieved passages are to hold the answer: a score in [0, 1], computed right after
search() and before any model is called, so that the assistant can abstain when it is low.

The score is lexical on purpose. On the Avranches bench (bench/abstention), the e5 cosine of the
best passage barely separates answerable from unanswerable questions (ROC AUC 0.73; 0.84-0.94
for the first, 0.81-0.91 for the second), adding it to the coverage below moved the AUC by less
than 0.005, and it would cost a second query embedding (~30-50 ms on the CPU embedder). What
does separate them is whether the question's *rare* words are in the passages: a question on the
swimming pool, the tourist tax or 2021 brings a word the minutes never (or hardly ever) use.

    coverage(passage) = Σ idf(words of the question found in the passage) / Σ idf(words of the question)
    score             = max over the first PASSAGES_CONSIDERED hits of coverage × year factor

Words are the question's lexemes under the same French configuration as the index (stop-words
removed, accents ignored, Snowball stemming), so "Délibérations" meets "deliberation", and long
ones match by their first PREFIX_CHARS letters, so "installées" meets "installation"; idf is
BM25's, counted over the authority's passages, so "conseil" or the town's name weigh almost
nothing. A year the question names (2019) is a constraint, not a topic: a passage that neither
mentions it nor comes from a document dated that year has its coverage multiplied by
MISSING_YEAR_FACTOR. Two SQL statements, no embedder call: a few milliseconds beside the search.
"""

import math
import re
from dataclasses import dataclass, field

from django.db import connection

from apps.documents.models import FULLTEXT_CONFIG
from apps.documents.query_text import normalise_query
from apps.documents.search import Hit

# Below this score the assistant answers « Je ne trouve pas cette information dans vos documents »
# without calling a model. Chosen on bench/abstention (its README has the sweep and the
# cross-validated figures): the highest threshold, on a 0.05 grid, that still lets through at
# least 90 % of the answerable questions. A wrong abstention is a dead end for the user, while a
# question let through wrongly still meets the model, which is told to answer only from its
# sources; so this gate removes the clear cases cheaply rather than all of them.
ABSTAIN_BELOW = 0.5

# The assistant gives the model the first few hits; the answer need only be in one of them (it is
# often the second, beside its exposé). 1, 2, 3 or 5 passages: AUC 0.916, 0.925, 0.926, 0.922.
PASSAGES_CONSIDERED = 3

# A passage that does not carry the year the question asks about most likely answers for another
# year (tax rates of 2016 for a question on 2019). Halving keeps a strong passage above zero.
MISSING_YEAR_FACTOR = 0.5
_YEAR = re.compile(r"(?:18|19|20)\d\d")

# Snowball's French stems still differ across a word's family (« installe », « install »,
# « installat »); six letters of a longer stem meet the family. On the bench, whole stems gave an
# AUC of 0.932 and prefixes of 4, 5, 6, 7 letters 0.927, 0.948, 0.942, 0.936: six is the middle of
# the good range (four starts merging unrelated words, « conseil » and « conserv »).
PREFIX_CHARS = 6

# Lexemes PostgreSQL's French stop-list lets through (accents are removed before it looks,
# so "été" or "les" survive) and auxiliaries that carry no topic in a question.
STOP_LEXEMES = frozenset(
    {
        "a",
        "le",
        "la",
        "ete",
        "etre",
        "avoir",
        "il",
        "elle",
        "t",
        "fait",
        "fair",
        "doit",
        "peut",
        "peuvent",
        "sera",
        "seront",
        "avait",
        "leur",
        "plus",
        "moin",
        "tout",
        "tous",
        "entre",
        "sous",
        "depuis",
        "lor",
        "cet",
        "ce",
        "mis",
    }
)


@dataclass(frozen=True)
class QueryWord:
    lexeme: str
    weight: float  # BM25 idf over the authority's passages
    found_in: frozenset[int] = field(default_factory=frozenset)  # chunk ids, among the hits, holding it


@dataclass(frozen=True)
class Assessment:
    """The score with what it rests on: which words, how rare, which passage lacked which."""

    score: float
    words: tuple[QueryWord, ...] = ()
    best_chunk_id: int | None = None
    missing: tuple[str, ...] = ()  # the question's words absent from the best passage


def retrieval_confidence(*, authority_id: int, query: str, hits: list[Hit]) -> float:
    """In [0, 1]; below ABSTAIN_BELOW, abstain. Call inside the authority's tenant context."""
    return assess_retrieval(authority_id=authority_id, query=query, hits=hits).score


def assess_retrieval(*, authority_id: int, query: str, hits: list[Hit]) -> Assessment:
    considered = hits[:PASSAGES_CONSIDERED]
    text = normalise_query(query)
    if not considered or not text:
        return Assessment(score=0.0)
    words = query_words(authority_id=authority_id, text=text, chunk_ids=[hit.chunk_id for hit in considered])
    total = sum(word.weight for word in words)
    if not total:  # nothing but stop-words: nothing to check the passages against
        return Assessment(score=0.0, words=words)
    scored = [(_passage_score(hit, words, total), hit) for hit in considered]
    score, best = max(scored, key=lambda item: item[0])
    missing = tuple(w.lexeme for w in words if not _holds(best, w))
    return Assessment(
        score=round(min(max(score, 0.0), 1.0), 4), words=words, best_chunk_id=best.chunk_id, missing=missing
    )


def _passage_score(hit: Hit, words: tuple[QueryWord, ...], total: float) -> float:
    coverage = sum(word.weight for word in words if _holds(hit, word)) / total
    if any(_YEAR.fullmatch(word.lexeme) and not _holds(hit, word) for word in words):
        coverage *= MISSING_YEAR_FACTOR
    return coverage


def _holds(hit: Hit, word: QueryWord) -> bool:
    # A document's date stands for its passages: minutes say « 2017 » on the cover, not in each item.
    return hit.chunk_id in word.found_in or (
        _YEAR.fullmatch(word.lexeme) is not None and hit.date is not None and hit.date.year == int(word.lexeme)
    )


def query_words(*, authority_id: int, text: str, chunk_ids: list[int]) -> tuple[QueryWord, ...]:
    """The query's lexemes, each with its idf over the authority and the given chunks holding it.

    Hyphenated compounds are dropped: the parser also emits their parts (« emploie-t-elle » gives
    « emploi »), and the compound itself is never in a passage.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT DISTINCT word FROM unnest(tsvector_to_array(to_tsvector('{FULLTEXT_CONFIG}', %s))) AS word
            WHERE strpos(word, '-') = 0 AND word <> ALL(%s) ORDER BY word
            """,
            [text, sorted(STOP_LEXEMES)],
        )
        lexemes = [row[0] for row in cursor.fetchall()]
        if not lexemes:
            return ()
        # One pass over the authority's passages, each tsvector read (de-TOASTed) once by `|| ''`
        # and then matched against every word: ~6 ms for 1,000 passages, where a count per word
        # costs one full scan each (row-level security keeps @@ off the GIN index).
        match = "v @@ (quote_literal(%s) || %s)::tsquery"
        columns = ", ".join(
            f"count(*) FILTER (WHERE {match}), array_agg(id) FILTER (WHERE id = ANY(%s) AND {match})" for _ in lexemes
        )
        cursor.execute(
            f"""
            SELECT count(*), {columns}
            FROM (SELECT c.id, c.search_vector || ''::tsvector AS v FROM documents_chunk c
                  WHERE c.authority_id = %s OFFSET 0) AS passages
            """,
            [value for lexeme in lexemes for value in (*_term(lexeme), chunk_ids, *_term(lexeme))] + [authority_id],
        )
        passages, *counts = cursor.fetchone()
    return tuple(
        QueryWord(lexeme=lexeme, weight=_idf(passages, df), found_in=frozenset(found or ()))
        for lexeme, df, found in zip(lexemes, counts[::2], counts[1::2], strict=True)
    )


def _term(lexeme: str) -> tuple[str, str]:
    """The tsquery term for a lexeme, as (text, suffix): a prefix search for long alphabetic stems."""
    if lexeme.isalpha() and len(lexeme) > PREFIX_CHARS:
        return lexeme[:PREFIX_CHARS], ":*"
    return lexeme, ""


def _idf(passages: int, df: int) -> float:
    """BM25's idf, as in apps.documents.search: never negative, highest for a word no passage has."""
    return math.log(1 + (max(passages, df) - df + 0.5) / (df + 0.5))
