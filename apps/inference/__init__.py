"""Text generation for Registre: one gateway (`generate`) to the inference servers, and its errors;
configured by the INFERENCE_* settings (routes, limits, retries, circuit breakers). Product code does
not call it: it goes through the model-call platform (apps.ai.calls.governed_call)."""

from .errors import InferenceBusy, InferenceError, InferenceFailure, InferenceNotConfigured, InferenceUnavailable
from .gateway import Completion, generate, is_configured

__all__ = [
    "Completion",
    "InferenceBusy",
    "InferenceError",
    "InferenceFailure",
    "InferenceNotConfigured",
    "InferenceUnavailable",
    "generate",
    "is_configured",
]
