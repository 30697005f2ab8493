"""Retrieval confidence: high when the passages hold the question's words, low when they cannot
answer it, so that the assistant abstains before calling a model."""

from datetime import date

import pytest

from apps.assistant.confidence import ABSTAIN_BELOW, assess_retrieval, retrieval_confidence
from apps.documents import embeddings
from apps.documents.models import Document
from apps.documents.search import search
from apps.documents.services import add_uploads
from apps.tenants.context import tenant_context
from tests.documents.support import AVRANCHES, excerpt

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not AVRANCHES.is_dir(), reason="shared data (Avranches minutes) not available"),
]

# Two real minutes, cut short: the local CPU embedder indexes about a passage a second.
MINUTES = {"avranches_CM15.12.14_-_PV.txt": date(2015, 12, 14), "avranches_CM04.07.2017_-_PV.txt": date(2017, 7, 4)}


@pytest.fixture
def minutes(authority, django_capture_on_commit_callbacks):
    for name, session in MINUTES.items():
        with django_capture_on_commit_callbacks(execute=True), tenant_context(authority.pk):
            outcomes = add_uploads(
                authority=authority, files=[excerpt(AVRANCHES / name)], kind=Document.Kind.PROCES_VERBAL, date=session
            )
        assert not outcomes[0].error, outcomes
    with tenant_context(authority.pk):
        assert set(Document.objects.values_list("state", flat=True)) == {"indexed"}
    return authority


def confidence(authority, question):
    with tenant_context(authority.pk):
        hits = search(authority_id=authority.pk, query=question, limit=6, with_facets=False).hits
        return retrieval_confidence(authority_id=authority.pk, query=question, hits=hits)


def test_answerable_question_scores_above_the_threshold_and_off_topic_ones_below(minutes):
    answerable = [
        "Combien coûtent les travaux de sécurisation de l'entrée du collège de la Chaussonnière ?",
        "Combien de délégués suppléants la ville doit-elle élire pour les élections sénatoriales ?",
    ]
    off_topic = [
        "Combien de panneaux photovoltaïques ont été posés sur les toits des écoles ?",
        "Quel est le prix d'une entrée enfant à la piscine municipale ?",
    ]
    scores = {question: confidence(minutes, question) for question in answerable + off_topic}
    assert all(0 <= score <= 1 for score in scores.values())
    assert all(scores[q] >= ABSTAIN_BELOW for q in answerable), scores
    assert all(scores[q] < ABSTAIN_BELOW for q in off_topic), scores


def test_a_year_that_no_passage_or_session_date_carries_lowers_the_score(minutes):
    asked_for_its_year = confidence(minutes, "Combien de délégués suppléants pour les élections sénatoriales de 2017 ?")
    asked_for_another = confidence(minutes, "Combien de délégués suppléants pour les élections sénatoriales de 2021 ?")
    assert asked_for_its_year >= ABSTAIN_BELOW > asked_for_another


def test_no_hits_or_no_meaningful_word_gives_zero(authority):
    with tenant_context(authority.pk):
        assert retrieval_confidence(authority_id=authority.pk, query="piscine municipale", hits=[]) == 0.0


def test_stop_words_only_give_zero_and_the_assessment_names_the_missing_words(minutes, monkeypatch):
    with tenant_context(minutes.pk):
        hits = search(authority_id=minutes.pk, query="tarifs de la piscine municipale", limit=6).hits
        # Offline by construction: the score reads the index, it never embeds the question again.
        monkeypatch.setattr(embeddings, "get_embedder", lambda: pytest.fail("confidence called the embedder"))
        assert retrieval_confidence(authority_id=minutes.pk, query="Qu'est-ce que c'est ?", hits=hits) == 0.0
        assessment = assess_retrieval(authority_id=minutes.pk, query="tarifs de la piscine municipale", hits=hits)
    assert assessment.score < ABSTAIN_BELOW
    assert "piscin" in assessment.missing and assessment.best_chunk_id in {hit.chunk_id for hit in hits}
