"""Every product code path that calls the model, one per registered model task, goes through the
governed call: under its quota the authority's audit log gets a row with the tokens the server
reported (also counted in the month's usage); over its quota — reached after the request was
accepted, while the work runs — the model is never reached and the product says so or falls back.

A model task registered without a driver here fails `test_every_registered_task_has_a_product_path`."""

import hashlib

import pytest

from apps.ai import registry, usage
from apps.ai.models import Generation
from apps.assistant import services
from apps.deliberations.minutes import generative
from apps.deliberations.minutes.text import assemble
from apps.deliberations.routing.model_choice import choose_with_model
from apps.documents.models import Collection, Document
from apps.inbox import services as inbox_services
from apps.tenants.context import tenant_context

from ..assistant.support import CANTINE, index_texts

pytestmark = pytest.mark.django_db
Outcome = Generation.Outcome
MINUTES = (
    "Séance du conseil municipal du 4 juillet 2017.\n\n1. Subvention au comité des fêtes\n"
    "Le conseil municipal attribue une subvention de 3 500 euros. Adopté à l'unanimité."
)
DRIVERS = {}


def driver(task: str, audited_as: str | None = None):
    """Registers the product path of `task`: fn(authority, user, run_on_commit, spend) -> outcome, where
    `spend()` exhausts the quota once the request is accepted, before the work runs (or never)."""

    def decorate(fn):
        DRIVERS[task] = (fn, audited_as or task)
        return fn

    return decorate


def exhaust(authority):
    """Another piece of work spends the month's quota (as every call does: audit row, then usage)."""
    authority.settings = {"assistant": {"monthly_token_quota": 100}}
    authority.save()
    with tenant_context(authority.pk):
        Generation.objects.create(authority=authority, task="summary", prompt_tokens=100, outcome=Outcome.DONE)
    usage.add(authority.pk, 100)


def document(authority, title: str, text: str) -> Document:
    with tenant_context(authority.pk):
        collection = Collection.objects.get_or_create(authority=authority, name="Actes")[0]
        return Document.objects.create(
            authority=authority,
            collection=collection,
            title=title,
            original_filename=f"{title}.txt",
            content_hash=hashlib.sha256(text.encode()).hexdigest(),
            state=Document.State.INDEXED,
            pages=[{"number": 1, "text": text}],
            page_count=1,
        )


def run_generation(authority, run_on_commit, spend, request) -> str:
    """The request as a page or the API makes it; the worker's run once it commits (eager Celery)."""
    with run_on_commit(), tenant_context(authority.pk):
        generation = request()
        spend()
    with tenant_context(authority.pk):
        return Generation.objects.get(pk=generation.pk).outcome


def tool_driver(task: str, inputs):
    def run(authority, user, run_on_commit, spend):
        return run_generation(
            authority,
            run_on_commit,
            spend,
            lambda: services.request_tool(authority=authority, user=user, task=task, inputs=inputs(authority)),
        )

    return run


for _task, _inputs in {
    "summary": lambda a: {"text": CANTINE},
    "key_points": lambda a: {"text": CANTINE},
    "plain_language": lambda a: {"text": CANTINE},
    "spelling": lambda a: {"text": "Le consei a voter."},
    "minutes": lambda a: {"notes": "Ouverture à 20 h. Budget adopté."},
    "email": lambda a: {"instructions": "Confirmer la réservation de la salle."},
    "compare": lambda a: {
        "documents": [
            document(a, "Tarifs 2023", CANTINE).pk,
            document(a, "Tarifs 2024", CANTINE.replace("3,20", "3,40")).pk,
        ]
    },
}.items():
    driver(_task)(tool_driver(_task, _inputs))


@driver("answer")
def ask_question(authority, user, run_on_commit, spend):
    index_texts(authority, {"cantine-2023.txt": CANTINE}, run_on_commit)
    return run_generation(
        authority,
        run_on_commit,
        spend,
        lambda: services.ask_question(
            authority=authority, user=user, question="Quel est le prix du repas à la cantine ?"
        ),
    )


@driver("rewrite", audited_as="answer")
def ask_a_follow_up(authority, user, run_on_commit, spend):
    index_texts(authority, {"cantine-2023.txt": CANTINE}, run_on_commit)
    with tenant_context(authority.pk):
        first = services.ask_question(authority=authority, user=user, question="Quel est le prix de la cantine ?")
        Generation.objects.filter(pk=first.pk).update(outcome=Outcome.DONE, output="3,20 euros.")
    return run_generation(
        authority,
        run_on_commit,
        spend,
        lambda: services.ask_question(
            authority=authority, user=user, question="Et pour les autres enfants ?", conversation=first.conversation
        ),
    )


@driver("reply")
def draft_a_reply_to_a_citizen(authority, user, run_on_commit, spend):
    index_texts(authority, {"cantine-2023.txt": CANTINE}, run_on_commit)
    with tenant_context(authority.pk):
        message, _ = inbox_services.receive_message(
            authority=authority,
            sender_name="Karim Benali",
            sender_email="karim@exemple.fr",
            subject="Prix de la cantine",
            body="Quel est le prix du repas à la cantine ?",
        )
    return run_generation(
        authority,
        run_on_commit,
        spend,
        lambda: inbox_services.request_draft(message=message, user=user).generation,
    )


@driver("extraction")
def read_minutes(authority, user, run_on_commit, spend):
    spend()
    reading = generative.read_with_model(assemble(MINUTES), authority=authority)
    return "refused" if any("quota" in notice for notice in reading.notices) else "done"


@driver("matiere")
def choose_a_matiere(authority, user, run_on_commit, spend):
    spend()
    candidates = [{"code": "7.5"}, {"code": "7.10"}, {"code": "3.1"}]
    code = choose_with_model("Subvention au comité des fêtes", "", candidates, authority_id=authority.pk)
    return "refused" if code is None else "done"


def plausible_answer(messages) -> str:
    prompt = str(messages)
    if "JSON" in prompt:  # extraction and matière
        return '{"code": "7.5", "deliberations": []}'
    if "Dernière question" in prompt:  # a follow-up made standalone
        return "Quel est le prix du repas à la cantine pour les enfants des autres communes ?"
    return "Le repas coûte 3,20 euros [1]."


@pytest.fixture
def model_answers(fake_llm, settings):
    settings.DELIB_ROUTING_USE_MODEL = True
    fake_llm.answer = plausible_answer
    return fake_llm


def test_every_registered_task_has_a_product_path():
    assert set(DRIVERS) == {task.name for task in registry.registered()}


@pytest.mark.parametrize("task", sorted(DRIVERS))
def test_the_product_path_is_audited_with_the_tokens_it_spent(task, authority, member, run_on_commit, model_answers):
    run, audited_as = DRIVERS[task]
    assert run(authority, member(authority), run_on_commit, lambda: None) == Outcome.DONE
    with tenant_context(authority.pk):
        rows = list(Generation.objects.all())
    served = model_answers.tokens_served()
    assert served > 0 and sum(row.total_tokens for row in rows) == served
    assert usage.tokens_this_month(authority.pk) == served
    assert audited_as in {row.task for row in rows if row.total_tokens}
    if task != audited_as:  # a rewrite is audited on its answer's row
        assert any(row.template.startswith(f"{task}.v") for row in rows)


@pytest.mark.parametrize("task", sorted(DRIVERS))
def test_over_its_quota_the_product_path_never_reaches_the_model(task, authority, member, run_on_commit, model_answers):
    run, _ = DRIVERS[task]
    outcome = run(authority, member(authority), run_on_commit, lambda: exhaust(authority))
    assert outcome == Outcome.REFUSED
    assert model_answers.generation_requests() == []
