"""What each role may do. One ladder: reader < agent < administrator."""

from .models import Membership

Role = Membership.Role
RANK = {Role.READER: 1, Role.AGENT: 2, Role.ADMINISTRATOR: 3}


def role_allows(role: str | None, required: str) -> bool:
    return role is not None and RANK.get(role, 0) >= RANK[required]
