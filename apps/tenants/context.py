"""The tenant context: which authority (and user) the current transaction may see.

PostgreSQL row-level security policies read three transaction-local settings written here; a
context variable mirrors them for the application-side scoping (TenantManager). Outside a
tenant context, tenant tables look empty, which is the safe failure mode.
"""

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.db import DEFAULT_DB_ALIAS, connections, transaction

SETTING_AUTHORITY = "registre.authority_id"
SETTING_USER = "registre.user_id"
SETTING_PLATFORM_STAFF = "registre.platform_staff"


@dataclass(frozen=True)
class TenantState:
    authority_id: int | None = None
    user_id: int | None = None
    platform_staff: bool = False


_state: ContextVar[TenantState | None] = ContextVar("registre_tenant_state", default=None)


def current_state() -> TenantState | None:
    return _state.get()


def current_authority_id() -> int | None:
    state = _state.get()
    return state.authority_id if state else None


def _write_settings(state: TenantState, using: str = DEFAULT_DB_ALIAS) -> None:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true), set_config(%s, %s, true)",
            [
                SETTING_AUTHORITY,
                str(state.authority_id or ""),
                SETTING_USER,
                str(state.user_id or ""),
                SETTING_PLATFORM_STAFF,
                "on" if state.platform_staff else "",
            ],
        )


@contextmanager
def tenant_context(authority_id: int | None = None, *, user_id: int | None = None, platform_staff: bool = False):
    """Run the block in a transaction that sees only `authority_id`'s rows.

    Nested in another transaction, this is a savepoint; leaving it normally restores the outer
    settings (a savepoint rolled back on error restores them by itself).
    """
    state = TenantState(authority_id=authority_id, user_id=user_id, platform_staff=platform_staff)
    nested = connections[DEFAULT_DB_ALIAS].in_atomic_block
    with transaction.atomic():
        previous = _state.get()
        token = _state.set(state)
        _write_settings(state)
        try:
            yield state
        finally:
            _state.reset(token)
        if nested:  # the enclosing transaction goes on: hand it back its own settings
            _write_settings(previous or TenantState())


def switch_authority(authority_id: int | None) -> None:
    """Point the enclosing tenant context at another authority (e.g. once an API key is known)."""
    state = _state.get()
    if state is None or not connections[DEFAULT_DB_ALIAS].in_atomic_block:
        raise RuntimeError("switch_authority() needs an enclosing tenant_context()")
    new_state = replace(state, authority_id=authority_id)
    _state.set(new_state)
    _write_settings(new_state)
