"""Query-count guards on the list pages and list APIs outside the deliberations app: each costs the same
number of queries for 2 rows as for 12, so a query per row (an N+1) fails here with the queries listed.

Every request pays a fixed prelude before the view runs (PRELUDE below); each count is written as that
prelude plus what the view itself reads, so a change in one place shows where it happened.
"""

import hashlib

import pytest

from apps.accounts.services import create_api_key
from apps.ai.models import Conversation, Generation
from apps.documents.models import Chunk, Collection, Document
from apps.jobs.models import Job
from apps.tenants.context import tenant_context
from apps.tenants.models import Membership

from .factories import JobFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
Role = Membership.Role

FEW, MANY = 2, 12
for_few_or_many_rows = pytest.mark.parametrize("rows", [FEW, MANY])

# Before any view: the session, the user, the tenant transaction (a savepoint inside the test's transaction)
# with its settings, the user's memberships with their authorities, the settings of the chosen authority;
# after it, the outer settings restored and the savepoint released.
PRELUDE = 8


@pytest.fixture(autouse=True)
def quick_passwords(settings):
    """The rows' authors are real users: hashing their passwords the production way would take most of the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def administrator(authority, member):
    return member(authority, role=Role.ADMINISTRATOR)


@pytest.fixture
def page_client(administrator, client_for):
    return client_for(administrator)


@pytest.fixture
def api_client(administrator, api_client_for):
    return api_client_for(administrator)


@pytest.fixture
def costs(django_assert_num_queries):
    """costs(queries, client, url, shows) -> the response to GET url, which must load, show `shows`, and
    run exactly `queries` queries; when it does not, the failure lists them (whatever the verbosity)."""

    def get(queries, client, url, shows):
        try:
            with django_assert_num_queries(queries) as captured:
                response = client.get(url)
                assert response.status_code == 200, response
                assert shows in body(response)
        except pytest.fail.Exception:
            pass
        else:
            return response
        listing = "\n\n".join(f"{n}. {query['sql']}" for n, query in enumerate(captured.captured_queries, 1))
        pytest.fail(f"GET {url}: {len(captured)} queries instead of {queries}:\n\n{listing}", pytrace=False)

    return get


def body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode()


# --- rows ------------------------------------------------------------------------------------------


def add_documents(authority, rows):
    """`rows` documents being indexed, each with its job (the table shows its progress)."""
    with tenant_context(authority.pk):
        collection = Collection.objects.create(authority=authority, name="Actes")
        for n in range(1, rows + 1):
            job = Job.objects.create(
                authority=authority, kind="documents.index", state=Job.State.RUNNING, progress=40, message=f"Page {n}"
            )
            Document.objects.create(
                authority=authority,
                collection=collection,
                title=f"Délibération n° {n}",
                original_filename=f"deliberation-{n}.txt",
                content_hash=hashlib.sha256(str(n).encode()).hexdigest(),
                state=Document.State.PROCESSING,
                job=job,
            )


def add_passages(authority, rows):
    """One indexed document of `rows` passages, each about the canteen."""
    with tenant_context(authority.pk):
        collection = Collection.objects.create(authority=authority, name="Actes")
        document = Document.objects.create(
            authority=authority,
            collection=collection,
            title="Tarifs de la cantine",
            original_filename="tarifs.txt",
            content_hash="0" * 64,
            state=Document.State.INDEXED,
            page_count=2,
            pages=[{"number": 1, "text": "Tarifs de la cantine."}, {"number": 2, "text": "Tarifs de la cantine."}],
        )
        for n in range(1, rows + 1):
            Chunk.objects.create(
                authority=authority,
                document=document,
                collection=collection,
                position=n,
                pages=[1, 2],
                heading=f"Point {n}",
                token_count=12,
                text=f"Le tarif de la cantine scolaire est fixé à {n} euros par repas.",
            )
    return document


def add_collections(authority, rows):
    with tenant_context(authority.pk):
        for n in range(1, rows + 1):
            Collection.objects.create(authority=authority, name=f"Collection n° {n}")


def add_members(authority, rows):
    return [MembershipFactory(authority=authority, role=Role.AGENT).user for _ in range(rows)]


def add_api_keys(authority, rows):
    """Each key created by another person (the page names who)."""
    with tenant_context(authority.pk):
        for n in range(1, rows + 1):
            create_api_key(authority=authority, name=f"Clé n° {n}", scope="read", created_by=UserFactory())


def add_jobs(authority, rows):
    """Each job started by another person (the table names who); returns the newest."""
    return [JobFactory(authority=authority, created_by=UserFactory()) for _ in range(rows)][-1]


def add_conversations(authority, user, rows):
    with tenant_context(authority.pk):
        for n in range(1, rows + 1):
            Conversation.objects.create(authority=authority, user=user, title=f"Conversation n° {n}")


def add_turns(authority, user, rows):
    """A conversation of `rows` answered questions, each citing a source."""
    with tenant_context(authority.pk):
        conversation = Conversation.objects.create(authority=authority, user=user, title="Cantine")
        for n in range(1, rows + 1):
            Generation.objects.create(
                authority=authority,
                user=user,
                conversation=conversation,
                task=Generation.Task.ANSWER,
                outcome=Generation.Outcome.DONE,
                input={"question": f"Question n° {n} ?"},
                output="Réponse [1].",
                sources=[{"n": 1, "document_id": 1, "title": "Tarifs", "page": 1, "heading": "", "text": "Texte."}],
                result={"cited": [{"n": 1, "quote": "Texte."}]},
            )
    return conversation


def add_generations(authority, rows, *, user=None):
    """Writing-tool results, each asked by `user` or else by another person (the audit log names who)."""
    with tenant_context(authority.pk):
        return [
            Generation.objects.create(
                authority=authority,
                user=user or UserFactory(),
                task=Generation.Task.SUMMARY,
                outcome=Generation.Outcome.DONE,
                output=f"Résumé n° {n}.",
                prompt_tokens=n,
            )
            for n in range(1, rows + 1)
        ]


# --- pages -----------------------------------------------------------------------------------------


@for_few_or_many_rows
def test_the_dashboard_costs_the_same_queries_for_2_or_12_jobs(rows, authority, page_client, costs):
    newest = add_jobs(authority, rows)
    costs(PRELUDE + 1, page_client, "/", f"n° {newest.pk}")  # the recent jobs with who started them


@for_few_or_many_rows
def test_the_documents_page_costs_the_same_queries_for_2_or_12_documents(rows, authority, page_client, costs):
    add_documents(authority, rows)
    # count, page of documents with their collection and job, the upload form's collections
    costs(PRELUDE + 3, page_client, "/documents/", f"Délibération n° {rows}<")


@for_few_or_many_rows
def test_the_search_page_costs_the_same_queries_for_2_or_12_passages(rows, authority, page_client, costs):
    add_passages(authority, rows)
    # full-text candidates, the authority's size (which vector scan), vector candidates, the hits with their
    # documents and collections, the pages of passages spanning two pages, the filters' collections
    page = costs(PRELUDE + 6, page_client, "/recherche/?q=tarif+cantine", "Tarifs de la cantine")
    assert body(page).count('class="hit"') == rows


@for_few_or_many_rows
def test_the_passages_of_a_document_cost_the_same_queries_for_2_or_12_passages(rows, authority, page_client, costs):
    document = add_passages(authority, rows)
    # the document with its collection, job and author, its passages, the other documents to compare it with
    page = costs(PRELUDE + 3, page_client, f"/documents/{document.pk}/?passages=1", f"Point {rows}<")
    assert body(page).count('class="chunk"') == rows


@for_few_or_many_rows
def test_the_collections_page_costs_the_same_queries_for_2_or_12_collections(rows, authority, page_client, costs):
    add_collections(authority, rows)
    costs(PRELUDE + 1, page_client, "/parametres/collections/", f"Collection n° {rows}<")


@for_few_or_many_rows
def test_the_members_page_costs_the_same_queries_for_2_or_12_members(rows, authority, page_client, costs):
    newest = add_members(authority, rows)[-1]
    costs(PRELUDE + 1, page_client, "/parametres/membres/", newest.email)  # memberships with their users


@for_few_or_many_rows
def test_the_api_keys_page_costs_the_same_queries_for_2_or_12_keys(rows, authority, page_client, costs):
    add_api_keys(authority, rows)
    costs(PRELUDE + 1, page_client, "/parametres/cles-api/", f"Clé n° {rows}<")  # keys with who created them


@for_few_or_many_rows
def test_the_jobs_page_costs_the_same_queries_for_2_or_12_jobs(rows, authority, page_client, costs):
    newest = add_jobs(authority, rows)
    costs(PRELUDE + 1, page_client, "/travaux/", f"n° {newest.pk}")  # jobs with who started them


@for_few_or_many_rows
def test_the_assistant_page_costs_the_same_queries_for_2_or_12_conversations(
    rows, authority, administrator, page_client, costs
):
    add_conversations(authority, administrator, rows)
    # the conversations, the question form's collections
    costs(PRELUDE + 2, page_client, "/assistant/", f"Conversation n° {rows}<")


@for_few_or_many_rows
def test_a_conversation_costs_the_same_queries_for_2_or_12_turns(rows, authority, administrator, page_client, costs):
    conversation = add_turns(authority, administrator, rows)
    # the conversations, this one, its turns, the question form's collections
    costs(PRELUDE + 4, page_client, f"/assistant/?conversation={conversation.pk}", f"Question n° {rows} ?")


@for_few_or_many_rows
def test_the_writing_page_costs_the_same_queries_for_2_or_12_recent_results(
    rows, authority, administrator, page_client, costs
):
    newest = add_generations(authority, rows, user=administrator)[-1]
    costs(PRELUDE + 1, page_client, "/assistant/redaction/", f"Résumé n° {newest.pk}<")  # the recent results


@for_few_or_many_rows
def test_the_audit_log_costs_the_same_queries_for_2_or_12_generations(rows, authority, page_client, costs):
    newest = add_generations(authority, rows)[-1]
    # count, page of generations with who asked, the month's tokens, the month's requests
    costs(PRELUDE + 4, page_client, "/assistant/journal/", str(newest.user))


@for_few_or_many_rows
def test_the_audit_export_costs_the_same_queries_for_2_or_12_generations(rows, authority, page_client, costs):
    newest = add_generations(authority, rows)[-1]
    costs(PRELUDE + 1, page_client, "/assistant/journal/?format=csv", newest.user.email)  # generations with users


# --- APIs ------------------------------------------------------------------------------------------
# A list costs its count and its page.


def listed(response, rows, field, value):
    results = response.json()
    assert results["count"] == rows
    assert value in [item[field] for item in results["results"]]


@for_few_or_many_rows
def test_the_documents_api_costs_the_same_queries_for_2_or_12_documents(rows, authority, api_client, costs):
    add_documents(authority, rows)
    response = costs(PRELUDE + 2, api_client, "/api/v1/documents/", "results")  # with their jobs' progress
    listed(response, rows, "title", f"Délibération n° {rows}")


@for_few_or_many_rows
def test_the_collections_api_costs_the_same_queries_for_2_or_12_collections(rows, authority, api_client, costs):
    add_collections(authority, rows)
    response = costs(PRELUDE + 2, api_client, "/api/v1/collections/", "results")
    listed(response, rows, "name", f"Collection n° {rows}")


@for_few_or_many_rows
def test_the_jobs_api_costs_the_same_queries_for_2_or_12_jobs(rows, authority, api_client, costs):
    newest = add_jobs(authority, rows)
    response = costs(PRELUDE + 2, api_client, "/api/v1/jobs/", "results")
    listed(response, rows, "id", newest.pk)


@for_few_or_many_rows
def test_the_members_api_costs_the_same_queries_for_2_or_12_members(rows, authority, api_client, costs):
    newest = add_members(authority, rows)[-1]
    response = costs(PRELUDE + 2, api_client, "/api/v1/members/", "results")  # with their users
    listed(response, rows + 1, "email", newest.email)  # and the administrator asking


@for_few_or_many_rows
def test_the_api_keys_api_costs_the_same_queries_for_2_or_12_keys(rows, authority, api_client, costs):
    add_api_keys(authority, rows)
    response = costs(PRELUDE + 2, api_client, "/api/v1/api-keys/", "results")
    listed(response, rows, "name", f"Clé n° {rows}")


@for_few_or_many_rows
def test_the_generations_api_costs_the_same_queries_for_2_or_12_generations(rows, authority, api_client, costs):
    newest = add_generations(authority, rows)[-1]
    response = costs(PRELUDE + 2, api_client, "/api/v1/assistant/generations/", "results")
    listed(response, rows, "id", newest.pk)


@for_few_or_many_rows
def test_the_audit_export_api_costs_the_same_queries_for_2_or_12_generations(rows, authority, api_client, costs):
    newest = add_generations(authority, rows)[-1]
    costs(PRELUDE + 1, api_client, "/api/v1/assistant/audit.csv", newest.user.email)  # generations with users


@for_few_or_many_rows
def test_the_passages_api_costs_the_same_queries_for_2_or_12_passages(rows, authority, api_client, costs):
    document = add_passages(authority, rows)
    # the document, its passages (not paginated)
    response = costs(PRELUDE + 2, api_client, f"/api/v1/documents/{document.pk}/chunks/", f"Point {rows}")
    assert len(response.json()) == rows


@for_few_or_many_rows
def test_the_search_api_costs_the_same_queries_for_2_or_12_passages(rows, authority, api_client, costs):
    add_passages(authority, rows)
    # as the search page, without its form's collections
    response = costs(PRELUDE + 5, api_client, "/api/v1/search/?q=tarif+cantine&limit=50", "hits")
    assert len(response.json()["hits"]) == rows
