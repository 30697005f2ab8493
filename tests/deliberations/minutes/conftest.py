"""Fixtures of the extraction-from-minutes tests: no matière suggestions unless asked, a fake model answering JSON."""

import pytest


@pytest.fixture(autouse=True)
def no_matiere_suggestions(settings):
    """The routing's suggestions embed every objet (about a second each on CPU): off, except where a
    test is about them."""
    settings.MINUTES_MATIERE_SECONDS = 0


@pytest.fixture
def fake_llm(fake_llm, settings):
    """The suite's fake model (tests/conftest.py), answering JSON without any deliberation, no retry."""
    fake_llm.answer = '{"deliberations": []}'
    settings.INFERENCE_RETRIES = 0
    return fake_llm
