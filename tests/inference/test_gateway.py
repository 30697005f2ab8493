"""The gateway generates through huggingface_hub's InferenceClient against a fake TGI on loopback."""

import re

import pytest
from huggingface_hub import constants

from apps.inference import (
    Completion,
    InferenceNotConfigured,
    generate,
    is_configured,
)

from .support import ANSWER

TOKENS = re.findall(r"\S+\s*|\s+", ANSWER)


def test_answer_comes_with_the_server_token_usage(fake, messages):
    completion = generate(messages, task="answer")
    assert isinstance(completion, Completion)
    assert completion.text == ANSWER
    assert (completion.route, completion.model, completion.finish_reason) == ("default", fake.model_id, "stop")
    prompt_words = sum(len(m["content"].split()) for m in messages)
    assert (completion.prompt_tokens, completion.completion_tokens) == (prompt_words, len(TOKENS))
    assert completion.tokens_estimated is False
    assert completion.energy_wh > 0 and completion.co2_g > 0 and completion.latency_ms >= 0
    body = fake.requests[-1].json
    assert fake.requests[-1].path == "/v1/chat/completions"
    assert (body["model"], body["max_tokens"], body["temperature"], body["stream"]) == ("tgi", 800, 0.2, False)


def test_streamed_deltas_join_to_the_answer_and_usage_comes_from_the_last_chunk(fake, messages):
    deltas = []
    completion = generate(messages, task="answer", on_delta=deltas.append)
    assert deltas == TOKENS
    assert "".join(deltas) == completion.text == ANSWER
    assert completion.completion_tokens == len(TOKENS) and completion.tokens_estimated is False
    body = fake.requests[-1].json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("streaming", [False, True])
def test_tokens_are_estimated_when_the_server_sends_no_usage(fake, messages, streaming):
    fake.send_usage = False
    completion = generate(messages, task="answer", on_delta=(lambda _: None) if streaming else None)
    assert completion.tokens_estimated is True
    assert completion.completion_tokens == -(-len(ANSWER) // 4)
    assert completion.prompt_tokens > 0


def test_answer_cut_by_max_tokens_reports_length(fake, messages):
    completion = generate(messages, task="answer", max_tokens=3)
    assert completion.finish_reason == "length" and completion.text == "".join(TOKENS[:3])


@pytest.mark.parametrize("streaming", [False, True])
def test_hf_token_in_environment_never_reaches_the_server(fake, messages, monkeypatch, settings, streaming):
    monkeypatch.setenv("HF_TOKEN", "hf_must_never_leave_this_machine")
    on_delta = (lambda _: None) if streaming else None
    generate(messages, task="answer", on_delta=on_delta)
    settings.INFERENCE_API_KEY = "registre-tgi-key"
    generate(messages, task="answer", on_delta=on_delta)
    assert [r.authorization for r in fake.requests] == ["Bearer none", "Bearer registre-tgi-key"]


def test_json_schema_is_sent_as_grammar_only_to_routes_that_declare_it(fake, messages, settings):
    schema = {"type": "object", "properties": {"categorie": {"type": "string"}}}
    generate(messages, task="classify", json_schema=schema)
    assert "response_format" not in fake.requests[-1].json
    settings.INFERENCE_URL = ""
    settings.INFERENCE_ROUTES = [{"name": "tgi", "url": fake.url, "grammar": True}]
    generate(messages, task="classify", json_schema=schema)
    assert fake.requests[-1].json["response_format"] == {"type": "json", "value": schema}


def test_route_model_name_is_sent_in_the_request(fake, messages, settings):
    settings.INFERENCE_ROUTES = [{"name": "small", "url": fake.url, "model": "qwen-small", "tasks": ["classify"]}]
    assert generate(messages, task="classify").route == "small"
    assert fake.requests[-1].json["model"] == "qwen-small"


def test_without_inference_url_generation_is_not_configured(messages):
    assert is_configured() is False
    with pytest.raises(InferenceNotConfigured) as raised:
        generate(messages, task="answer")
    assert "INFERENCE_URL" in raised.value.user_message


def test_hf_hub_offline_mode_is_reported_as_a_configuration_problem(fake, messages, monkeypatch):
    # huggingface_hub refuses every request in offline mode, even to our own server.
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(InferenceNotConfigured) as raised:
        generate(messages, task="answer")
    assert "HF_HUB_OFFLINE" in str(raised.value)
    assert fake.requests == []
