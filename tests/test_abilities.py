"""Abilities computed once (apps/tenants/abilities.py): the table of what each role may do, the `abilities`
every API object carries for its caller, the pages that read them, and guards that keep templates and API
views on that one table."""

import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.viewsets import ViewSetMixin

from apps.ai.models import Generation
from apps.jobs.models import Job
from apps.tenants.abilities import ABILITIES, all_abilities, can, get_abilities
from apps.tenants.models import Membership
from apps.tenants.permissions import AbilityPermission, IsIdentified
from tests.api.objects import make_document, make_generation, make_job
from tests.deliberations.register.support import add as add_deliberation

Role = Membership.Role
ROLES = (Role.READER, Role.AGENT, Role.ADMINISTRATOR)
TEMPLATES = Path(__file__).resolve().parents[1] / "frontend" / "templates"

# What each role gains on each resource, climbing the ladder: (reader, + agent, + administrator).
LADDER = {
    "authority": ({"retrieve"}, set(), {"update"}),
    "members": (set(), set(), {"list", "retrieve", "create", "update", "destroy"}),
    "api_keys": (set(), set(), {"list", "retrieve", "create", "destroy"}),
    "collections": ({"list", "retrieve"}, set(), {"create", "update", "destroy"}),
    "documents": (
        {"list", "retrieve", "pages", "download", "search"},
        {"create", "update", "destroy", "reindex"},
        {"chunks"},
    ),
    "jobs": ({"list", "retrieve"}, {"retry", "diagnostic"}, set()),
    "assistant": ({"ask"}, {"tools"}, {"audit"}),
    "generations": ({"list", "retrieve", "stream", "feedback"}, set(), set()),
    "deliberations": (
        {"list", "retrieve", "export", "similar"},
        {"create", "update", "destroy", "publish", "unpublish", "compare"},
        set(),
    ),
    "sessions": ({"list", "retrieve"}, {"create", "update", "destroy"}, set()),
    "imports": ({"list", "retrieve"}, {"create"}, set()),
    "minutes": ({"list"}, {"review", "create", "accept", "reject"}, set()),
    "routing": ({"suggest"}, {"list", "confirm", "classify"}, set()),
    "messages": (
        set(),
        {"list", "retrieve", "create", "assign", "draft", "reply", "rate", "close", "dashboard"},
        {"settings"},
    ),
}


def allowed(resource: str, role: str) -> set[str]:
    reader, agent, administrator = LADDER[resource]
    return {Role.READER: reader, Role.AGENT: reader | agent, Role.ADMINISTRATOR: reader | agent | administrator}[role]


def test_the_ladder_names_every_resource_and_action_of_the_table():
    assert set(LADDER) == set(ABILITIES)
    for resource, steps in LADDER.items():
        assert set().union(*steps) == set(ABILITIES[resource]), resource


@pytest.mark.parametrize("resource", sorted(LADDER))
@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_exactly_its_abilities_on_each_resource(resource, role):
    abilities = get_abilities(role, resource)
    assert {action for action, ok in abilities.items() if ok} == allowed(resource, role)


def test_no_role_no_ability_and_partial_update_is_update():
    assert not any(ok for resource in all_abilities(None).values() for ok in resource.values())
    assert can(Role.AGENT, "documents", "partial_update") and not can(Role.READER, "documents", "partial_update")
    with pytest.raises(KeyError):
        can(Role.ADMINISTRATOR, "documents", "teleport")


# --- the API: every object carries its caller's abilities ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.READER, Role.AGENT])
def test_a_document_carries_the_abilities_of_its_caller(authority, member, api_client_for, role):
    document = make_document(authority)
    client = api_client_for(member(authority, role=role))
    for body in (
        client.get(f"/api/v1/documents/{document.pk}/").json(),
        client.get("/api/v1/documents/").json()["results"][0],
    ):
        assert body["abilities"] == {action: action in allowed("documents", role) for action in ABILITIES["documents"]}
    assert body["abilities"]["update"] is (role == Role.AGENT) and body["abilities"]["chunks"] is False


@pytest.mark.django_db
def test_a_write_key_acts_as_an_agent_and_a_read_key_as_a_reader(authority, key_client):
    document = make_document(authority)
    for scope, role in (("read", Role.READER), ("write", Role.AGENT)):
        client, _ = key_client(authority, scope=scope)
        assert client.get(f"/api/v1/documents/{document.pk}/").json()["abilities"] == get_abilities(role, "documents")
        assert client.get("/api/v1/me/").json()["abilities"] == all_abilities(role)


@pytest.mark.django_db
def test_only_a_failed_job_offers_retry_and_only_to_agents(authority, member, api_client_for):
    failed, running = make_job(authority, state=Job.State.FAILED), make_job(authority, state=Job.State.RUNNING)
    agent, reader = (api_client_for(member(authority, role=role)) for role in (Role.AGENT, Role.READER))
    assert agent.get(f"/api/v1/jobs/{failed.pk}/").json()["abilities"]["retry"] is True
    assert agent.get(f"/api/v1/jobs/{running.pk}/").json()["abilities"]["retry"] is False
    assert reader.get(f"/api/v1/jobs/{failed.pk}/").json()["abilities"] == {
        "list": True,
        "retrieve": True,
        "retry": False,
        "diagnostic": False,
    }


@pytest.mark.django_db
def test_a_draft_offers_publish_and_a_published_deliberation_offers_unpublish(authority, member, api_client_for):
    draft, published = (
        add_deliberation(authority, delib_id="2024-001"),
        add_deliberation(authority, delib_id="2024-002", published=True),
    )
    agent = api_client_for(member(authority, role=Role.AGENT))
    offers = {
        row["id"]: (row["abilities"]["publish"], row["abilities"]["unpublish"])
        for row in agent.get("/api/v1/deliberations/").json()["results"]
    }
    assert offers == {draft.pk: (True, False), published.pk: (False, True)}
    reader = api_client_for(member(authority, role=Role.READER))
    assert not any(
        reader.get(f"/api/v1/deliberations/{draft.pk}/").json()["abilities"][action]
        for action in ("update", "publish", "unpublish", "destroy")
    )


@pytest.mark.django_db
def test_a_generation_is_for_its_author_or_an_administrator(authority, member):
    author, colleague = member(authority, role=Role.READER), member(authority, role=Role.AGENT)
    generation = make_generation(authority, user=author)
    assert all(generation.get_abilities(user=author, role=Role.READER).values())
    assert not any(generation.get_abilities(user=colleague, role=Role.AGENT).values())
    assert all(generation.get_abilities(user=None, role=Role.ADMINISTRATOR).values())
    assert not any(generation.get_abilities(user=None, role=Role.AGENT).values())  # an API key's are its own
    by_key = make_generation(authority, user=None)
    assert all(Generation.get_abilities(by_key, user=None, role=Role.READER).values())


@pytest.mark.django_db
def test_every_listed_object_of_the_api_carries_abilities(authority, member, api_client_for):
    """One sample object per list route the API serves, read by an administrator."""
    admin = member(authority, role=Role.ADMINISTRATOR)
    make_document(authority), make_job(authority), make_generation(authority, user=admin)
    add_deliberation(authority, delib_id="2024-001")
    client = api_client_for(admin)
    client.post("/api/v1/deliberation-sessions/", {"date": "2024-03-04", "title": "Conseil"}, format="json")
    client.post("/api/v1/api-keys/", {"name": "Portail", "scope": "read"}, format="json")
    for url in (
        "/api/v1/documents/",
        "/api/v1/collections/",
        "/api/v1/jobs/",
        "/api/v1/members/",
        "/api/v1/api-keys/",
        "/api/v1/assistant/generations/",
        "/api/v1/deliberations/",
        "/api/v1/deliberation-sessions/",
    ):
        rows = client.get(url).json()["results"]
        assert rows and all(isinstance(row["abilities"], dict) and row["abilities"] for row in rows), url
    assert client.get("/api/v1/authority/").json()["abilities"] == {"retrieve": True, "update": True}


# --- the pages read the same table ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "buttons"),
    [
        (Role.READER, set()),
        (Role.AGENT, {"Indexer à nouveau", "Résumer"}),
        (Role.ADMINISTRATOR, {"Indexer à nouveau", "Résumer", "Voir les passages indexés"}),
    ],
)
def test_a_document_page_shows_the_buttons_of_the_role(authority, member, client_for, role, buttons):
    document = make_document(authority)
    page = client_for(member(authority, role=role)).get(f"/documents/{document.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for button in ("Indexer à nouveau", "Résumer", "Voir les passages indexés"):
        assert (button in text) is (button in buttons), button


ROLE_LITERAL = re.compile(r"""['"](reader|agent|administrator)['"]""")
TAG = re.compile(r"{%\s*(?:if|elif)\b(.*?)%}", re.S)


def _template_tags():
    for path in sorted(TEMPLATES.rglob("*.html")):
        for match in TAG.finditer(path.read_text()):
            yield path.relative_to(TEMPLATES), match.group(1)


def test_no_template_compares_a_role_directly():
    """Buttons follow `abilities.<resource>.<action>` (context processor), never the role itself."""
    offenders = [
        (str(path), condition.strip())
        for path, condition in _template_tags()
        if "current_membership.role" in condition
        or "request.role" in condition
        or (re.search(r"\brole\b", condition) and ROLE_LITERAL.search(condition))
    ]
    assert offenders == []


def test_every_ability_a_template_reads_exists():
    """A misspelt ability would be silently false in a template: each one must be in the table."""
    used = {
        (str(path), match)
        for path in TEMPLATES.rglob("*.html")
        for match in re.findall(r"\babilities\.(\w+\.\w+)", path.read_text())
    }
    assert used, "the templates read no ability"
    unknown = sorted(
        (path, name) for path, name in used if name.split(".")[1] not in ABILITIES.get(name.split(".")[0], {})
    )
    assert unknown == []


# --- the API views declare their ability ---------------------------------------------------------------------


def _api_views():
    def walk(resolver):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
                yield pattern.name, pattern.callback.cls

    _, resolver = get_resolver().namespace_dict["api"]
    return {name: cls for name, cls in walk(resolver) if name != "api-root"}


def test_every_api_view_declares_its_ability_or_is_the_callers_identity():
    undeclared = sorted(
        name
        for name, view in _api_views().items()
        if "get_permissions" not in vars(view)
        and not any(issubclass(p, (AbilityPermission, IsIdentified)) for p in view.permission_classes)
    )
    assert undeclared == []


def test_a_plain_api_view_names_its_action():
    """Only a viewset has an action of its own: `ability("documents")` on an APIView would let any member in."""
    unnamed = sorted(
        name
        for name, view in _api_views().items()
        if not issubclass(view, ViewSetMixin)
        for permission in view.permission_classes
        if issubclass(permission, AbilityPermission) and permission.action is None
    )
    assert unnamed == []
