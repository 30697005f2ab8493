"""Text generation for Registre: one gateway (`generate`) to the inference servers, and its errors;
configured by the INFERENCE_* settings (routes, limits, retries, circuit breakers)."""

from .errors import InferenceBusy, InferenceError, InferenceNotConfigured, InferenceUnavailable
from .gateway import Completion, generate, is_configured

__all__ = ["Completion", "InferenceBusy", "InferenceError", "InferenceNotConfigured", "InferenceUnavailable",
           "generate", "is_configured"]
