"""Role matrix of the assistant's requests: every caller asks questions about its own authority's
documents; agents (and write keys) run writing tools. Each accepted request is a generation and a
queued job (the worker's part, and the model call, are tested in tests/assistant)."""

import pytest

from apps.ai.models import Generation
from apps.jobs.models import Job

from . import matrix
from .objects import CANTINE, exists, read

pytestmark = pytest.mark.django_db
QUESTION = "Quel est le prix du repas à la cantine ?"


@matrix.action(
    "api:assistant-questions",
    "POST",
    reader=202,
    agent=202,
    administrator=202,
    read_key=202,
    write_key=202,
    other_authority=202,
)
def test_every_caller_asks_a_question_of_its_own_authority(caller, authority, fake_llm):
    response = caller.call(data={"question": QUESTION})
    assert exists(Generation, authority) is (caller.allowed and not caller.stranger)
    if caller.allowed:
        body = response.json()
        generation = read(Generation, caller.authority, pk=body["id"])[0]
        assert (generation.task, generation.input["question"], generation.user) == ("answer", QUESTION, caller.user)
        assert body["stream_url"].endswith(f"/assistant/generations/{generation.pk}/stream/")
        assert exists(Job, caller.authority, pk=generation.job_id, state=Job.State.PENDING)


@matrix.action(
    "api:assistant-tool",
    "POST",
    reader=403,
    agent=202,
    administrator=202,
    read_key=403,
    write_key=202,
    other_authority=202,
)
def test_agents_run_a_writing_tool_for_their_own_authority(caller, authority, fake_llm):
    response = caller.call("summary", data={"text": CANTINE})
    assert exists(Generation, authority) is (caller.allowed and not caller.stranger)
    if caller.allowed:
        generation = read(Generation, caller.authority, pk=response.json()["id"])[0]
        assert (generation.task, generation.input["text"], generation.user) == ("summary", CANTINE, caller.user)


@matrix.action(
    "api:assistant-tool",
    "POST",
    reader=403,
    agent=404,
    administrator=404,
    read_key=403,
    write_key=404,
    other_authority=404,
)
def test_an_unknown_tool_is_not_found_once_the_role_allows_tools(caller, authority, fake_llm):
    caller.call("horoscope", data={"text": CANTINE})
    assert not exists(Generation, authority)
    if caller.authority is not None:
        assert not exists(Generation, caller.authority)
