"""Transient failures are retried with backoff, refusals are not, other routes take over, and a circuit
breaker keeps calls away from a route that keeps failing."""

import time

import pytest

from apps.inference import InferenceError, InferenceUnavailable, breaker, generate
from apps.inference.routing import routes_for
from apps.jobs.runner import is_transient

from ..fake_inference import FakeInference
from .support import ANSWER


@pytest.mark.parametrize("mode", ["429", "500", "502", "503", "504"])
def test_transient_http_errors_are_retried_until_success(fake, messages, mode):
    fake.fail_next(2, mode)
    assert generate(messages, task="answer").text == ANSWER
    assert len(fake.generation_requests()) == 3


def test_server_always_down_gives_inference_unavailable_after_the_retries(fake, messages):
    fake.fail_next(10, "503")
    with pytest.raises(InferenceUnavailable) as raised:
        generate(messages, task="answer")
    assert raised.value.retryable and is_transient(raised.value)  # a job asking for it is retried later
    assert raised.value.user_message.startswith("Le service d'IA est momentanément indisponible")
    assert len(fake.generation_requests()) == 3  # INFERENCE_RETRIES = 2


def test_unreachable_server_gives_inference_unavailable(messages, settings):
    with FakeInference() as gone:
        url = gone.url
    settings.INFERENCE_URL = url
    with pytest.raises(InferenceUnavailable):
        generate(messages, task="answer")


def test_a_timeout_is_retried(fake, messages, settings):
    settings.INFERENCE_TIMEOUT_SECONDS = 0.2
    fake.hang_seconds = 3
    fake.fail_next(1, "timeout")
    started = time.monotonic()
    assert generate(messages, task="answer").text == ANSWER
    assert len(fake.generation_requests()) == 2 and time.monotonic() - started < 2  # gave up after 0.2 s


def test_a_server_that_keeps_timing_out_gives_inference_unavailable(fake, messages, settings):
    settings.INFERENCE_TIMEOUT_SECONDS = 0.2
    fake.hang_seconds = 1
    fake.fail_next(3, "timeout")
    with pytest.raises(InferenceUnavailable) as raised:
        generate(messages, task="answer", on_delta=lambda _: None)
    assert "Timeout" in str(raised.value)


@pytest.mark.parametrize("mode", ["malformed", "disconnect"])
def test_a_broken_stream_is_retried_after_on_reset_so_the_caller_never_duplicates_text(fake, messages, mode):
    fake.fail_next(1, mode)
    shown, resets = [], []

    def reset():
        resets.append(list(shown))
        shown.clear()

    completion = generate(messages, task="answer", on_delta=shown.append, on_reset=reset)
    assert "".join(shown) == completion.text == ANSWER
    assert len(resets) == 1 and resets[0]  # some text had been shown before the stream broke
    assert len(fake.generation_requests()) == 2


@pytest.mark.parametrize("mode", ["malformed", "disconnect"])
def test_a_broken_non_streamed_answer_is_retried(fake, messages, mode):
    fake.fail_next(1, mode)
    assert generate(messages, task="answer").text == ANSWER


def test_a_broken_stream_is_not_retried_without_on_reset(fake, messages):
    fake.fail_next(1, "disconnect")
    with pytest.raises(InferenceUnavailable):
        generate(messages, task="answer", on_delta=lambda _: None)
    assert len(fake.generation_requests()) == 1


@pytest.mark.parametrize("mode", ["400", "422"])
def test_a_refused_request_raises_inference_error_without_retry(fake, messages, mode):
    fake.fail_next(3, mode)
    with pytest.raises(InferenceError) as raised:
        generate(messages, task="answer")
    assert not raised.value.retryable and not is_transient(raised.value)
    assert len(fake.generation_requests()) == 1


def test_a_prompt_too_long_for_the_model_raises_inference_error(fake, messages):
    fake.max_input_tokens = 5
    with pytest.raises(InferenceError, match="422"):
        generate(messages, task="answer")


def test_the_fallback_route_answers_when_the_first_is_down(fake, messages, settings):
    with FakeInference(answer="Réponse de secours.") as backup:
        settings.INFERENCE_ROUTES = [{"name": "backup", "url": backup.url, "tasks": ["*"]}]
        fake.fail_next(10, "503")
        completion = generate(messages, task="answer")
    assert (completion.route, completion.text) == ("backup", "Réponse de secours.")
    assert len(fake.generation_requests()) == 3 and len(backup.generation_requests()) == 1


def test_the_breaker_opens_after_n_failures_and_no_request_reaches_the_route(fake, messages, settings):
    settings.INFERENCE_BREAKER_FAILURES = 3
    settings.INFERENCE_BREAKER_COOLDOWN_SECONDS = 30
    fake.fail_next(3, "503")
    with pytest.raises(InferenceUnavailable):
        generate(messages, task="answer")
    assert breaker.state(routes_for("answer")[0]) == breaker.OPEN
    with FakeInference(answer="Réponse de secours.") as backup:
        settings.INFERENCE_ROUTES = [{"name": "backup", "url": backup.url}]
        assert generate(messages, task="answer").route == "backup"
    settings.INFERENCE_ROUTES = []
    with pytest.raises(InferenceUnavailable, match="circuit open"):
        generate(messages, task="answer")
    assert len(fake.generation_requests()) == 3  # the healthy-again server was not called while open


def test_an_overloaded_server_429_never_opens_the_breaker(fake, messages, settings):
    settings.INFERENCE_BREAKER_FAILURES = 3
    fake.fail_next(3, "429")
    with pytest.raises(InferenceUnavailable):
        generate(messages, task="answer")
    assert breaker.state(routes_for("answer")[0]) == breaker.CLOSED
    assert generate(messages, task="answer").text == ANSWER


def test_the_breaker_half_opens_after_the_cooldown_and_a_success_closes_it(fake, messages, settings):
    settings.INFERENCE_BREAKER_FAILURES = 3
    fake.fail_next(3, "503")
    with pytest.raises(InferenceUnavailable):
        generate(messages, task="answer")
    route = routes_for("answer")[0]
    assert breaker.state(route) == breaker.OPEN
    time.sleep(settings.INFERENCE_BREAKER_COOLDOWN_SECONDS + 0.05)
    assert breaker.state(route) == breaker.HALF_OPEN
    assert generate(messages, task="answer").text == ANSWER
    assert breaker.state(route) == breaker.CLOSED
    assert len(fake.generation_requests()) == 4


def test_a_failed_trial_call_opens_the_breaker_again(fake, messages, settings):
    settings.INFERENCE_BREAKER_FAILURES = 3
    fake.fail_next(4, "503")
    with pytest.raises(InferenceUnavailable):
        generate(messages, task="answer")
    time.sleep(settings.INFERENCE_BREAKER_COOLDOWN_SECONDS + 0.05)
    with pytest.raises(InferenceUnavailable, match="circuit open"):
        generate(messages, task="answer")  # one trial, which fails, then the circuit is open again
    assert len(fake.generation_requests()) == 4
    assert breaker.state(routes_for("answer")[0]) == breaker.OPEN


def test_only_one_caller_makes_the_trial_call_when_half_open(fake, settings):
    settings.INFERENCE_BREAKER_FAILURES = 1
    route = routes_for("answer")[0]
    breaker.record_failure(route)
    time.sleep(settings.INFERENCE_BREAKER_COOLDOWN_SECONDS + 0.05)
    assert [breaker.allow(route) for _ in range(3)] == [True, False, False]
