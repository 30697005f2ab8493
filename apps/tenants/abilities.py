"""What each role may do, resource by resource: the one table that the API's permissions, the `abilities` of
every object the API returns, the page decorators and the pages' buttons all read.

Roles are a ladder (reader < agent < administrator); an API key acts as a reader (scope read) or an agent
(scope write). An object may narrow its abilities further (`get_abilities(user, role)` on its model: a
generation is readable by its author or an administrator, only a failed job is retried…).
"""

from .models import Membership

Role = Membership.Role
READER, AGENT, ADMINISTRATOR = Role.READER, Role.AGENT, Role.ADMINISTRATOR
RANK = {READER: 1, AGENT: 2, ADMINISTRATOR: 3}

# resource → action → the least role the action needs. Actions are named as the API names them (DRF
# viewset actions such as `list` or `reindex`, or the name an APIView declares); pages use the same names.
ABILITIES: dict[str, dict[str, str]] = {
    "authority": {"retrieve": READER, "update": ADMINISTRATOR},
    "members": {
        "list": ADMINISTRATOR,
        "retrieve": ADMINISTRATOR,
        "create": ADMINISTRATOR,
        "update": ADMINISTRATOR,
        "destroy": ADMINISTRATOR,
    },
    "api_keys": {"list": ADMINISTRATOR, "retrieve": ADMINISTRATOR, "create": ADMINISTRATOR, "destroy": ADMINISTRATOR},
    "collections": {
        "list": READER,
        "retrieve": READER,
        "create": ADMINISTRATOR,
        "update": ADMINISTRATOR,
        "destroy": ADMINISTRATOR,
    },
    "documents": {
        "list": READER,
        "retrieve": READER,
        "pages": READER,
        "download": READER,
        "search": READER,
        "create": AGENT,
        "update": AGENT,
        "destroy": AGENT,
        "reindex": AGENT,
        "chunks": ADMINISTRATOR,
    },  # the indexed passages
    "jobs": {"list": READER, "retrieve": READER, "retry": AGENT, "diagnostic": AGENT},
    "assistant": {"ask": READER, "tools": AGENT, "audit": ADMINISTRATOR},
    "generations": {"list": READER, "retrieve": READER, "stream": READER, "feedback": READER},
    "deliberations": {
        "list": READER,
        "retrieve": READER,
        "export": READER,
        "similar": READER,
        "create": AGENT,
        "update": AGENT,
        "destroy": AGENT,
        "publish": AGENT,
        "unpublish": AGENT,
        "compare": AGENT,
    },
    "sessions": {"list": READER, "retrieve": READER, "create": AGENT, "update": AGENT, "destroy": AGENT},
    "imports": {"list": READER, "retrieve": READER, "create": AGENT},
    # Reading a session's proposals is open to readers; the review page and its forms are the agents'.
    "minutes": {"list": READER, "review": AGENT, "create": AGENT, "accept": AGENT, "reject": AGENT},
    # `suggest` stores nothing (readers may try it); `list` is the page of suggestions waiting for an agent.
    "routing": {"suggest": READER, "list": AGENT, "confirm": AGENT, "classify": AGENT},
    # Citizens' messages carry personal data: agents and administrators only, readers never see them.
    "messages": {
        "list": AGENT,
        "retrieve": AGENT,
        "create": AGENT,  # the API of an existing contact form or e-mail gateway (a write key)
        "assign": AGENT,
        "draft": AGENT,
        "reply": AGENT,  # « Valider et envoyer »: a page only, never the API
        "rate": AGENT,
        "close": AGENT,
        "dashboard": AGENT,
        "settings": ADMINISTRATOR,
    },
}
# Other names DRF gives an action that the table names once.
ALIASES = {"partial_update": "update"}


def role_allows(role: str | None, required: str) -> bool:
    return role is not None and RANK.get(role, 0) >= RANK[required]


def least_role(resource: str, action: str) -> str:
    """The least role `action` on `resource` needs; KeyError for a name the table does not know."""
    return ABILITIES[resource][ALIASES.get(action, action)]


def can(role: str | None, resource: str, action: str) -> bool:
    return role_allows(role, least_role(resource, action))


def get_abilities(role: str | None, resource: str) -> dict[str, bool]:
    """{action: allowed} on `resource` for `role` (None: no role, nothing allowed)."""
    return {action: role_allows(role, required) for action, required in ABILITIES[resource].items()}


def all_abilities(role: str | None) -> dict[str, dict[str, bool]]:
    """Every resource's abilities for `role`, as the pages read them: `abilities.documents.reindex`."""
    return {resource: get_abilities(role, resource) for resource in ABILITIES}
