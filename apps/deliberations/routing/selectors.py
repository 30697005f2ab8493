"""Reads of the routing: deliberations waiting for a matière, and those whose suggestion is safe."""

from ..models import Deliberation
from .suggestions import SAFE_SCORE


def pending():
    """Deliberations of the current authority waiting for an agent to confirm a suggested matière."""
    return (
        Deliberation.objects.filter(matiere_confirmed=False, matiere_code="")
        .exclude(matiere_suggestions=[])
        .order_by("-delib_date", "-pk")
    )


def safe_pending(threshold: float = SAFE_SCORE):
    """Pending deliberations whose best suggestion (stored first) scores at least `threshold`."""
    return pending().filter(matiere_suggestions__0__level=2, matiere_suggestions__0__score__gte=threshold)


def unclassified_ids() -> list[int]:
    """Current authority's deliberations without a matière nor a suggestion."""
    return list(
        Deliberation.objects.filter(matiere_code="", matiere_confirmed=False, matiere_suggestions=[]).values_list(
            "pk", flat=True
        )
    )
