"""The governed model call, for every model task any app registered: an authority over its monthly
quota is refused before the model is reached, personal data never leaves, and every call is audited
with the tokens the server reported, which also count toward the month's usage."""

import pytest

from apps.ai import registry, usage
from apps.ai.calls import Record, governed_call, parse_json
from apps.ai.errors import QuotaExceeded
from apps.ai.models import Generation
from apps.tenants.context import tenant_context

pytestmark = pytest.mark.django_db

NAME = "Jean-Pierre Kerouredan"
# One context that gives every registered template something to render, a person's name in each part.
CONTEXT = {
    "text": f"{NAME} demande une place de stationnement.",
    "question": f"Où habite {NAME} ?",
    "notes": f"{NAME} ouvre la séance.",
    "agenda": "1. Budget",
    "instructions": f"Répondre à {NAME}.",
    "act": f"Objet : subvention à l'association présidée par {NAME}",
    "title": "Courrier",
    "part": 1,
    "parts": 1,
    "history": [{"question": f"Qui est {NAME} ?", "answer": "Un élu."}],
    "sources": [{"n": 1, "title": "PV", "page": 2, "text": f"{NAME} est élu adjoint."}],
    "documents": [
        {
            "label": label,
            "title": "Acte",
            "kind": "Délibération",
            "date": "01/02/2024",
            "text": f"{NAME} signe l'acte {label}.",
            "truncated": False,
        }
        for label in "AB"
    ],
    "partials": [f"{NAME} ouvre la séance."],
    "candidates": [{"code": "7.5", "label": "Finances locales"}],
}
CASES = [
    pytest.param(task.name, template, id=f"{task.name}-{template}")
    for task in registry.registered()
    for template in task.templates
]


def over_quota(authority, quota=100):
    """The month's audit log already holds the whole quota."""
    authority.settings = {"assistant": {"monthly_token_quota": quota}}
    authority.save()
    with tenant_context(authority.pk):
        Generation.objects.create(
            authority=authority, task="summary", prompt_tokens=quota, outcome=Generation.Outcome.DONE
        )
    usage.add(authority.pk, quota)


def test_the_platform_knows_the_tasks_of_every_app():
    names = {task.name for task in registry.registered()}
    assert {"answer", "rewrite", "summary", "compare", "spelling", "extraction", "matiere"} <= names
    assert names <= set(Generation.Task.values)  # each can be named in the journal


@pytest.mark.parametrize(("task", "template"), CASES)
def test_an_authority_over_its_quota_is_refused_before_the_model_is_reached(authority, fake_llm, task, template):
    over_quota(authority)
    with pytest.raises(QuotaExceeded) as refused:
        governed_call(authority, task, template, CONTEXT)
    assert "quota mensuel" in refused.value.user_message
    assert fake_llm.generation_requests() == []
    with tenant_context(authority.pk):
        assert Generation.objects.count() == 1  # no audit row for a call that never happened


@pytest.mark.parametrize(("task", "template"), CASES)
def test_every_call_is_audited_with_its_tokens_and_counted_in_the_month(authority, fake_llm, task, template):
    fake_llm.answer = lambda messages: f"Vu : [PERSONNE_1] ({len(messages)} messages)."
    reply = governed_call(authority, task, template, CONTEXT)
    (request,) = fake_llm.generation_requests()
    served = fake_llm.tokens_served()
    with tenant_context(authority.pk):
        row = Generation.objects.get()
    assert served > 0 and row.prompt_tokens + row.completion_tokens == served
    assert usage.tokens_this_month(authority.pk) == served
    assert (row.task, row.outcome, row.template) == (task, Generation.Outcome.DONE, f"{template}.v1")
    assert row.route == "default" and row.model == "fake/tgi-model" and row.pseudonymised >= 1
    assert NAME not in str(request.json["messages"]) and "[PERSONNE_1]" in str(request.json["messages"])
    assert reply.text.startswith(f"Vu : {NAME}") and row.output == reply.text


def test_the_calls_of_one_piece_of_work_share_their_row_and_their_placeholders(authority, fake_llm):
    record = Record(authority=authority, task="summary", inputs={"text": "…"})
    for part in (1, 2):
        governed_call(
            authority,
            "summary",
            "summary",
            {"text": f"{NAME}, partie {part}.", "part": part, "parts": 2},
            record=record,
        )
    record.finish(output="Résumé.")
    with tenant_context(authority.pk):
        row = Generation.objects.get()
    prompts = [str(r.json["messages"]) for r in fake_llm.generation_requests()]
    assert all("[PERSONNE_1]" in prompt for prompt in prompts) and row.pseudonymised == 1
    assert row.template == "summary.v1" and row.prompt_tokens + row.completion_tokens == fake_llm.tokens_served()
    assert (row.output, row.outcome) == ("Résumé.", Generation.Outcome.DONE)


def test_a_failed_call_is_audited_with_the_reason_and_spends_nothing(authority, fake_llm):
    fake_llm.fail_next(4, "503")
    with pytest.raises(Exception) as failure:
        governed_call(authority, "email", "email", {"instructions": "Confirmer le rendez-vous."})
    assert failure.value.retryable is True
    with tenant_context(authority.pk):
        row = Generation.objects.get()
    assert row.outcome == Generation.Outcome.FAILED and "indisponible" in row.error
    assert row.total_tokens == 0 and usage.tokens_this_month(authority.pk) == 0


def test_a_task_or_template_nobody_registered_is_a_programming_error(authority, fake_llm):
    with pytest.raises(LookupError):
        governed_call(authority, "horoscope", "answer", {})
    with pytest.raises(LookupError):
        governed_call(authority, "matiere", "answer", {})
    assert fake_llm.generation_requests() == []


def test_a_schema_reply_gives_its_json_with_personal_data_restored(authority, fake_llm):
    fake_llm.answer = 'Voici : {"deliberations": [{"objet": "Indemnité de [PERSONNE_1]", "decision": "Adoptée"}]}'
    reply = governed_call(
        authority, "extraction", "extract_deliberations", {"text": f"Indemnité de {NAME}."}, schema={"type": "object"}
    )
    assert reply.data == {"deliberations": [{"objet": f"Indemnité de {NAME}", "decision": "Adoptée"}]}
    assert fake_llm.generation_requests()[0].json["temperature"] == 0.2


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ('{"code": "7.5"}', {"code": "7.5"}),
        ('```json\n{"a": [1, 2]}\n```', {"a": [1, 2]}),
        ('Réponse : {"code": "3.1"} voilà', {"code": "3.1"}),
        ("[PERSONNE_1] dit [1, 2]", [1, 2]),
        ("7.5", 7.5),
        ("Voici les délibérations : 1. ONF", None),
        ("{not json}", None),
        ("", None),
    ],
)
def test_the_json_of_a_reply_is_the_whole_reply_or_the_first_value_written_in_it(answer, value):
    assert parse_json(answer) == value
