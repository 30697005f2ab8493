"""Routes come from settings in a predictable order; the energy estimate is proportional to the tokens."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.inference import energy, is_configured
from apps.inference.routing import routes_for


def test_routes_naming_the_task_come_first_then_the_catch_all_fallbacks(settings):
    settings.INFERENCE_URL = "http://large:80"
    settings.INFERENCE_API_KEY = "large-key"
    settings.INFERENCE_ROUTES = [
        {"name": "backup", "url": "http://backup:80", "tasks": ["*"]},
        {"name": "small", "url": "http://small:80", "model": "small-model", "tasks": ["classify", "rewrite"]},
    ]
    assert [r.name for r in routes_for("classify")] == ["small", "default", "backup"]
    assert [r.name for r in routes_for("answer")] == ["default", "backup"]
    default, small = routes_for("answer")[0], routes_for("classify")[0]
    assert (default.url, default.model, default.api_key) == ("http://large:80", "tgi", "large-key")
    assert (small.model, small.api_key) == ("small-model", "")  # a route never inherits another server's key


def test_inference_routes_alone_configure_generation(settings):
    settings.INFERENCE_ROUTES = [{"name": "only", "url": "http://only:80"}]
    assert is_configured() and [r.name for r in routes_for("answer")] == ["only"]


@pytest.mark.parametrize(
    "routes",
    [
        {"name": "x", "url": "http://x", "api_key": "secret-key"},  # not a list
        [{"name": "x", "api_key": "secret-key"}],  # no url
        [{"name": "a", "url": "http://a"}, {"name": "a", "url": "http://b", "api_key": "secret-key"}],
    ],
)
def test_invalid_inference_routes_are_refused_without_echoing_keys(settings, routes):
    settings.INFERENCE_ROUTES = routes
    with pytest.raises(ImproperlyConfigured) as raised:
        routes_for("answer")
    assert "secret-key" not in str(raised.value)


def test_energy_is_proportional_to_tokens_and_output_tokens_dominate(settings):
    settings.INFERENCE_WH_PER_1K_TOKENS = 2.0
    settings.INFERENCE_GRID_GCO2_PER_KWH = 50
    wh_1k, co2_1k = energy.estimate(0, 1000)
    assert (wh_1k, co2_1k) == (2.0, 0.1)
    assert energy.estimate(0, 3000) == (pytest.approx(3 * wh_1k), pytest.approx(3 * co2_1k))
    assert energy.estimate(1000, 0)[0] < wh_1k / 5  # reading a prompt costs far less than writing
    assert energy.estimate(0, 0) == (0.0, 0.0)
