"""An agent's decisions on matières: confirm one, or accept every safe suggestion at once."""

import logging

from .. import nomenclature
from ..models import Deliberation
from .selectors import safe_pending
from .suggestions import SAFE_SCORE, RoutingError, top_suggestion
from .training import level2

logger = logging.getLogger(__name__)


def confirm_matiere(*, deliberation: Deliberation, code: str, user=None) -> Deliberation:
    """Set the deliberation's matière to a level-2 code chosen by an agent and forget the suggestions."""
    code = (code or "").strip()
    if level2(code) != code:
        raise RoutingError(
            f"« {code} » n'est pas une matière de niveau 2 de la nomenclature @ctes (par exemple 7.5 Subventions)."
            if code
            else "Choisissez une matière."
        )
    deliberation.matiere_code = code
    deliberation.matiere_nom = nomenclature.label_path(code)
    deliberation.matiere_confirmed = True
    deliberation.matiere_suggestions = []
    deliberation.save(
        update_fields=["matiere_code", "matiere_nom", "matiere_confirmed", "matiere_suggestions", "updated_at"]
    )
    logger.info("Matière %s confirmed on deliberation %s by user %s", code, deliberation.pk, getattr(user, "pk", None))
    return deliberation


def accept_safe_suggestions(*, user=None, threshold: float = SAFE_SCORE) -> int:
    """Confirm every pending top suggestion scoring at least `threshold`; returns how many."""
    accepted = 0
    for deliberation in safe_pending(threshold):
        confirm_matiere(deliberation=deliberation, code=top_suggestion(deliberation)["code"], user=user)
        accepted += 1
    return accepted
