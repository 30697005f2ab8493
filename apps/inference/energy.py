"""Energy and carbon estimate of one generation, from its token counts: an order of magnitude shown
to users and administrators, not a measurement."""

from django.conf import settings

# Reading the prompt (prefill) runs in parallel on the GPU and costs far less per token than
# writing the answer, one token at a time; a prompt token is counted as a tenth of an output token.
PROMPT_TOKEN_WEIGHT = 0.1

# Defaults (settings, see the README):
# - INFERENCE_WH_PER_1K_TOKENS = 1.0 Wh per 1,000 output tokens. Order of magnitude of the EcoLogits
#   method (ecologits.ai, "LLM inference" methodology: GPU energy per output token as a function of
#   the model's active parameters, plus the server's share and the data centre's PUE) for a ~8B dense
#   model on one recent GPU, which gives 1-3 Wh per 1,000 tokens at low batch sizes; continuous
#   batching (TGI, vLLM) lowers it. Measure on your own server (GPU power x time / tokens) and set it.
# - INFERENCE_GRID_GCO2_PER_KWH = 56 g CO2e per kWh: French average electricity mix (consumption),
#   ADEME Base Empreinte. Set the grid of the data centre when it is elsewhere.


def estimate(prompt_tokens: int, completion_tokens: int) -> tuple[float, float]:
    """(energy in Wh, emissions in g CO2e) of one generation."""
    weighted_tokens = completion_tokens + PROMPT_TOKEN_WEIGHT * prompt_tokens
    energy_wh = weighted_tokens / 1000 * settings.INFERENCE_WH_PER_1K_TOKENS
    co2_g = energy_wh / 1000 * settings.INFERENCE_GRID_GCO2_PER_KWH
    return energy_wh, co2_g
