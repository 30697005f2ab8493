"""The generative model's pick among the classifier's candidates (opt-in: DELIB_ROUTING_USE_MODEL;
unmeasured, no model here), through the governed model call: pseudonymised, audited, within the quota."""

import logging

from django.conf import settings

from apps.ai.calls import governed_call, is_generative, parse_json
from apps.ai.errors import InferenceFailure, QuotaExceeded
from apps.tenants.context import current_authority_id
from apps.tenants.models import Authority

from .. import nomenclature

logger = logging.getLogger(__name__)
MODEL_CANDIDATES = 5  # the model picks among the classifier's 5 best: 5-fold CV top-3 is ~80 %, top-5 higher
MODEL_TASK = "matiere"  # audited as « Suggestion de matière »; routed as "deliberation-routing" (apps.py)
MODEL_TEXT_CHARS = 2000
MODEL_WAIT_SECONDS = 10  # a suggestion is worth less than a blocked page: the classifier's order is kept


def model_enabled() -> bool:
    return settings.DELIB_ROUTING_USE_MODEL and is_generative()


def choose_with_model(objet: str, text: str, candidates: list[dict], *, authority_id: int | None = None) -> str | None:
    """The code the model picks among the candidates; None (keep the classifier's order) when the
    model is unavailable, the quota is used, or it answers anything but one of the candidates."""
    codes = [c["code"] for c in candidates]
    authority_id = authority_id or current_authority_id()
    if len(codes) < 2 or authority_id is None:
        return None
    schema = {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}, "required": ["code"]}
    context = {
        "act": f"Objet : {objet.strip()}\n{(text or '').strip()[:MODEL_TEXT_CHARS]}".strip(),
        "candidates": [{"code": code, "label": nomenclature.label_path(code)} for code in codes],
    }
    try:
        reply = governed_call(
            Authority.objects.get(pk=authority_id),
            MODEL_TASK,
            "matiere",
            context,
            schema=schema,
            max_tokens=20,
            temperature=0.1,
            wait_seconds=MODEL_WAIT_SECONDS,
            inputs={"objet": objet[:500], "candidates": codes},
        )
    except (QuotaExceeded, InferenceFailure) as exc:  # the classifier's answer stands
        logger.warning("Routing model unavailable, keeping the classifier's order: %r", exc)
        return None
    code = model_code(reply.data)
    if code not in codes:
        logger.warning(
            "Routing model answered %r, not one of %s: keeping the classifier's order", reply.raw[:200], codes
        )
        return None
    return code


def model_code(data) -> str | None:
    """The "code" of the model's JSON object, if a string: as a number, 7.10 would read 7.1."""
    value = data.get("code") if isinstance(data, dict) else None
    return value.strip() if isinstance(value, str) else None


def parse_model_code(answer: str) -> str | None:
    return model_code(parse_json(answer))
