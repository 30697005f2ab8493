"""The fake inference server speaks TGI's wire protocol, checked with raw HTTP (what a real client parses)."""

import json
import threading
import time

import httpx
from huggingface_hub import InferenceClient

from .support import ANSWER


def _post(fake, path, body, **kwargs):
    return httpx.post(fake.url + path, json=body, timeout=5, **kwargs)


def test_chat_stream_is_sse_ending_with_done_written_with_a_space(fake):
    body = {
        "model": "tgi",
        "messages": [{"role": "user", "content": "Bonjour"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = _post(fake, "/v1/chat/completions", body)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.endswith("data: [DONE]\n\n")
    lines = [line for line in response.text.split("\n") if line]
    assert all(line.startswith("data: ") for line in lines)
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert "".join(chunk["choices"][0]["delta"]["content"] for chunk in chunks) == ANSWER
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks][-2:] == [None, "stop"]
    assert chunks[-1]["usage"] == {
        "prompt_tokens": 1,
        "completion_tokens": len(chunks),
        "total_tokens": 1 + len(chunks),
    }
    assert all(chunk["usage"] is None for chunk in chunks[:-1])


def test_chat_completion_carries_usage(fake):
    response = _post(fake, "/v1/chat/completions", {"messages": [{"role": "user", "content": "un deux trois"}]})
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"]["content"] == ANSWER
    assert data["usage"]["prompt_tokens"] == 3


def test_tgi_root_route_answers_a_list_and_generate_a_dict(fake):
    body = {"inputs": "Bonjour", "parameters": {"max_new_tokens": 3, "details": True}}
    root, generate = _post(fake, "/", body).json(), _post(fake, "/generate", body).json()
    assert isinstance(root, list) and root[0] == generate
    assert generate["details"]["finish_reason"] == "length" and generate["details"]["generated_tokens"] == 3


def test_text_generation_stream_is_parsed_by_huggingface_hub(fake):
    client = InferenceClient(base_url=fake.url, api_key="none")
    tokens = list(client.text_generation("Bonjour", max_new_tokens=50, stream=True))
    assert "".join(tokens) == ANSWER
    assert fake.requests[-1].path == "/" and fake.requests[-1].json["stream"] is True
    raw = _post(fake, "/generate_stream", {"inputs": "Bonjour"}).text
    last = json.loads(raw.strip().split("\n")[-1].removeprefix("data: "))
    assert last["generated_text"] == ANSWER and last["details"]["finish_reason"] == "stop"


def test_info_and_health_answer_like_tgi(fake):
    info = httpx.get(fake.url + "/info").json()
    assert {"model_id", "max_concurrent_requests", "max_input_tokens", "max_total_tokens", "version"} <= set(info)
    assert httpx.get(fake.url + "/health").status_code == 200


def test_fake_serves_tei_rerank(fake):
    scores = _post(fake, "/rerank", {"query": "cantine scolaire", "texts": ["la cantine", "le cimetière"]}).json()
    assert scores[0] == {"index": 0, "score": 0.5}


def test_beyond_max_concurrent_the_fake_answers_429_overloaded(fake):
    fake.max_concurrent, fake.latency = 1, 0.3
    body = {"messages": [{"role": "user", "content": "Bonjour"}]}
    slow = threading.Thread(target=_post, args=(fake, "/v1/chat/completions", body))
    slow.start()
    while fake.max_seen_concurrency < 1:
        time.sleep(0.005)
    response = _post(fake, "/v1/chat/completions", body)
    slow.join()
    assert response.status_code == 429
    assert response.json() == {"error": "Model is overloaded", "error_type": "overloaded"}


def test_echo_answers_the_whole_prompt(fake):
    fake.echo = True
    body = {"messages": [{"role": "system", "content": "Consigne"}, {"role": "user", "content": "Question"}]}
    assert _post(fake, "/v1/chat/completions", body).json()["choices"][0]["message"]["content"] == "Consigne\nQuestion"


def test_scripted_answers_are_used_in_order_then_the_last_repeats(fake):
    fake.answer = ["un", "deux"]
    body = {"messages": [{"role": "user", "content": "?"}]}
    answers = [_post(fake, "/v1/chat/completions", body).json()["choices"][0]["message"]["content"] for _ in range(3)]
    assert answers == ["un", "deux", "deux"]


def test_requests_are_recorded_with_their_authorization(fake):
    _post(fake, "/generate", {"inputs": "x"}, headers={"Authorization": "Bearer k"})
    assert fake.requests[-1] == ("/generate", {"inputs": "x"}, "Bearer k")
