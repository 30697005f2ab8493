"""The generative model's pick among the classifier's candidates (DELIB_ROUTING_USE_MODEL), against the
fake TGI server on loopback: a valid pick moves first, anything else leaves the classifier's order."""

import json
import re

import pytest

from apps.deliberations import nomenclature
from apps.deliberations.routing.model_choice import MODEL_CANDIDATES, parse_model_code
from apps.deliberations.routing.suggestions import SUGGESTIONS, suggest_matieres
from apps.tenants.context import tenant_context
from tests.fake_inference import FakeInference

from .support import add_rows, level2_codes, rows_fixture

pytestmark = pytest.mark.django_db
rows = rows_fixture(train_size=12, test_size=2)
CANDIDATE_LINE = re.compile(r"^- (\d+\.\d+) : ", re.MULTILINE)


def candidates_in(messages) -> list[str]:
    user = next(m["content"] for m in messages if m["role"] == "user")
    return CANDIDATE_LINE.findall(user)


@pytest.fixture
def labelled(authority, rows):
    add_rows(authority, rows[0])
    return authority


@pytest.fixture
def held_out(rows):
    return rows[1]


@pytest.fixture
def model_server(settings, isolated_inference_keys):
    """A fake model that picks the last candidate it is offered (never the classifier's first)."""
    with FakeInference(answer=lambda messages: json.dumps({"code": candidates_in(messages)[-1]})) as fake:
        settings.INFERENCE_URL = fake.url
        settings.INFERENCE_ROUTES = []
        settings.INFERENCE_RETRIES = 0
        settings.INFERENCE_TIMEOUT_SECONDS = 5
        settings.DELIB_ROUTING_USE_MODEL = True
        yield fake


def suggest(authority, objet, **kwargs):
    return suggest_matieres(authority_id=authority.pk, objet=objet, **kwargs)


def test_the_models_pick_among_the_classifiers_five_best_comes_first(labelled, held_out, model_server):
    objet = held_out[0]["objet"]
    five_best = level2_codes(suggest(labelled, objet, use_model=False, k=MODEL_CANDIDATES))
    suggestions = suggest(labelled, objet)
    assert level2_codes(suggestions) == [five_best[-1], *five_best[: SUGGESTIONS - 1]]
    assert suggestions[0]["source"] == "model" and all(s["source"] == "classifier" for s in suggestions[1:])
    assert [s["level"] for s in suggestions] == [2] * SUGGESTIONS + [1] * SUGGESTIONS
    (request,) = model_server.generation_requests()
    assert candidates_in(request.json["messages"]) == five_best
    from apps.ai.models import Generation  # every model call is audited

    with tenant_context(labelled.pk):
        assert Generation.objects.get(task="matiere").input["candidates"] == five_best
    assert "Objet :" in request.json["messages"][1]["content"]


def test_an_answer_that_is_not_a_candidate_is_rejected_and_the_classifier_stands(labelled, held_out, model_server):
    objet = held_out[1]["objet"]
    expected = suggest(labelled, objet, use_model=False)
    candidates = level2_codes(suggest(labelled, objet, use_model=False, k=MODEL_CANDIDATES))
    outsider = next(m.code for m in nomenclature.all_matieres() if m.level == 2 and m.code not in candidates)
    answers = [json.dumps({"code": outsider}), '{"code": "9.99"}', "Je pense que c'est la 7.5.", ""]
    for answer in answers:
        model_server.answer = answer
        assert suggest(labelled, objet) == expected, answer
    assert len(model_server.generation_requests()) == len(answers)


def test_a_model_that_fails_leaves_the_classifiers_suggestions(labelled, held_out, model_server):
    objet = held_out[0]["objet"]
    expected = suggest(labelled, objet, use_model=False)
    model_server.fail_next(2, "503")
    assert suggest(labelled, objet) == expected


def test_without_the_setting_the_model_is_never_asked(labelled, held_out, model_server, settings):
    settings.DELIB_ROUTING_USE_MODEL = False
    suggest(labelled, held_out[0]["objet"])
    assert model_server.generation_requests() == []


def test_personal_names_are_masked_before_reaching_the_model(labelled, model_server):
    suggest(labelled, "Subvention à l'association de M. Jean-Pierre Kerouredan pour le festival")
    (request,) = model_server.generation_requests()
    prompt = json.dumps(request.json["messages"], ensure_ascii=False)
    assert "Kerouredan" not in prompt and "festival" in prompt


@pytest.mark.parametrize(
    "answer, code",
    [
        ('{"code": "7.5"}', "7.5"),
        ('Réponse : {"code": "3.1"}', "3.1"),
        ('{"code": 7.1}', None),
        ("7.5", None),
        ('{"matiere": "7.5"}', None),
        ("{not json}", None),
    ],
)
def test_the_models_answer_is_read_as_json_with_a_string_code_only(answer, code):
    """A JSON number is refused: 7.1 and 7.10 are the same number."""
    assert parse_model_code(answer) == code
