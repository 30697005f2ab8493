"""Role matrices of the API: a test declares, for one route and one HTTP method, the status each of the
seven callers gets; the decorator runs it once per caller and records the (route, method) it covers.

    @matrix.action("api:document-detail", "DELETE", reader=403, agent=204, administrator=204,
                   read_key=403, write_key=204, other_authority=404)
    def test_delete_document(caller, authority):
        document = make_document(authority)
        caller.call(document.pk)          # asserts the declared status (and the 401 challenge)
        assert exists(document) is not caller.allowed

The anonymous caller is not a parameter: it gets 401 with a `WWW-Authenticate: Bearer` challenge on
every route, and `Caller.call` checks both. "other_authority" is an administrator of another authority
acting on this authority's objects (404 on an object, only its own rows in a list).
"""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.urls import reverse

ANONYMOUS = "anonymous"
OTHER_AUTHORITY = "other_authority"
CALLERS = (ANONYMOUS, "reader", "agent", "administrator", "read_key", "write_key", OTHER_AUTHORITY)
# The role each caller holds in the authority it acts for (an API key acts as a reader or an agent).
ROLES = {
    "reader": "reader",
    "agent": "agent",
    "administrator": "administrator",
    "read_key": "reader",
    "write_key": "agent",
    OTHER_AUTHORITY: "administrator",
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Action:
    """What `method` on the route named `route` (e.g. "api:document-list") answers to each caller."""

    route: str
    method: str
    expected: dict

    @property
    def key(self) -> tuple[str, str]:
        return self.route, self.method


def action(
    route: str,
    method: str,
    *,
    reader: int,
    agent: int,
    administrator: int,
    read_key: int,
    write_key: int,
    other_authority: int,
):
    """Declares a matrix and parametrizes the decorated test over the seven callers (fixture `caller`)."""
    method = method.upper()
    assert method in METHODS, method
    assert route.startswith("api:"), route
    declared = Action(
        route,
        method,
        {
            ANONYMOUS: 401,
            "reader": reader,
            "agent": agent,
            "administrator": administrator,
            "read_key": read_key,
            "write_key": write_key,
            OTHER_AUTHORITY: other_authority,
        },
    )

    def decorate(test):
        params = [pytest.param((name, declared), id=name) for name in CALLERS]
        marked = pytest.mark.parametrize("caller", params, indirect=True)(test)
        marked.matrix_action = declared
        return marked

    return decorate


def declared_in(module) -> list[Action]:
    """The matrices a test module declares (each decorated test function carries its own)."""
    return [value.matrix_action for value in vars(module).values() if hasattr(value, "matrix_action")]


@dataclass
class Caller:
    """One of the seven callers, real: a signed-in member or a client sending a real API key."""

    name: str
    action: Action
    client: object  # rest_framework.test.APIClient
    authority: object  # the authority it acts for (None for anonymous)
    user: object  # the signed-in person, None for a key or anonymous

    @property
    def expected(self) -> int:
        return self.action.expected[self.name]

    @property
    def allowed(self) -> bool:
        return 200 <= self.expected < 300

    @property
    def stranger(self) -> bool:
        """Acts for another authority than the one the test's objects belong to."""
        return self.name == OTHER_AUTHORITY

    @property
    def role(self) -> str | None:
        return ROLES.get(self.name)

    def call(self, *args, data=None, query=None, format="json", **headers):
        """Sends the declared method to the declared route (URL arguments in `args`) and checks the
        declared status; refusals are JSON with a `detail`, anonymous gets the Bearer challenge."""
        url = reverse(self.action.route, args=args)
        if query:
            url = f"{url}?{urlencode(query, doseq=True)}"
        send = getattr(self.client, self.action.method.lower())
        body = {} if self.action.method == "GET" else {"data": data, "format": format}
        response = send(url, **body, **headers)
        shown = "<stream>" if response.streaming else response.content[:500]
        assert response.status_code == self.expected, (self.name, self.action, shown)
        if self.name == ANONYMOUS:
            assert response.get("WWW-Authenticate", "").startswith("Bearer"), response.headers
        if response.status_code >= 400:
            assert "detail" in json.loads(response.content), shown
        return response
