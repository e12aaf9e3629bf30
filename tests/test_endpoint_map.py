"""The model map end to end: course name -> served name -> a sandbox simulating the course's
model, through the official client (``_strict_response_validation=True``)."""

from __future__ import annotations

import asyncio
import base64

import httpx2
import numpy as np
import openai
import pytest

from course_lib import llm, sandbox, tokens
from course_lib.sandbox.__main__ import main as sandbox_main
from tests.endpoint_setup import SERVED, as_real_endpoint  # noqa: F401  (a fixture)

# No prices in this map: each server model is sent with one warning that it has no price.
pytestmark = pytest.mark.filterwarnings("ignore::course_lib.budget.UnpricedModelWarning")

MAP = "gpt-4o=llama3.1:8b,gpt-4o-mini=llama3.2:3b,text-embedding-3-small=nomic-embed-text"
MESSAGES = [{"role": "system", "content": "You are Kitewing's customer-support assistant."},
            {"role": "user", "content": "How do I reset my password?"}]


@pytest.fixture(scope="module")
def posing():
    """A sandbox that serves only other names, as Ollama would."""
    with sandbox.start(time_scale=0, serve_as=SERVED) as handle:
        yield handle


@pytest.fixture()
def mapped(as_real_endpoint, posing):  # noqa: F811
    as_real_endpoint.setenv("OPENAI_BASE_URL", posing.base_url)
    as_real_endpoint.setenv("COURSE_MODELS", MAP)
    posing.clear_requests()
    return posing


def _client() -> openai.OpenAI:
    return llm.get_client(max_retries=0, _strict_response_validation=True)


def test_without_the_map_the_server_refuses_the_course_names(as_real_endpoint, posing) -> None:  # noqa: F811
    as_real_endpoint.setenv("OPENAI_BASE_URL", posing.base_url)
    with _client() as client, pytest.raises(openai.NotFoundError, match=r"llama3\.1:8b"):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)


def test_a_chat_completion_goes_out_as_the_servers_model_and_comes_back_as_the_courses(
        mapped) -> None:
    with _client() as client:
        response = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert response.model == "gpt-4o"
    [record] = mapped.requests
    assert record.model == "llama3.1:8b"  # what the server was sent
    # The sandbox simulates gpt-4o behind the name: OpenAI's counting rules still hold.
    assert response.usage.prompt_tokens == tokens.count_chat_tokens(MESSAGES, "gpt-4o")
    assert response.choices[0].message.content


def test_a_stream_with_usage_carries_the_courses_name_in_every_chunk(mapped) -> None:
    with _client() as client:
        plain = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        chunks = list(client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True,
            stream_options={"include_usage": True}))
    assert {chunk.model for chunk in chunks} == {"gpt-4o-mini"}
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == \
        plain.usage.completion_tokens
    assert [r.model for r in mapped.requests] == ["llama3.2:3b", "llama3.2:3b"]


def test_base64_embeddings_through_the_map_are_the_simulated_models_vectors(mapped) -> None:
    texts = ["reset my password", "export my invoices"]
    # Not strict: openai 3.57 validates a base64 embedding as a list before it decodes it.
    with llm.get_client(max_retries=0) as client:
        response = client.embeddings.create(model="text-embedding-3-small", input=texts)
        # The SDK asks for base64 unless told otherwise, and decodes it.
        raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small",
                                                         input=texts)
    assert response.model == "text-embedding-3-small"
    assert raw.http_response.json()["model"] == "text-embedding-3-small"
    with sandbox.start(time_scale=0) as own, openai.OpenAI(
            base_url=own.base_url, api_key="sandbox", max_retries=0) as direct:
        expected = direct.embeddings.create(model="text-embedding-3-small", input=texts)
    for got, want in zip(response.data, expected.data, strict=True):
        assert np.array_equal(np.asarray(got.embedding), np.asarray(want.embedding))
    sent = raw.http_response.json()["data"][0]["embedding"]
    assert isinstance(sent, str)  # base64 on the wire
    wire = np.frombuffer(base64.b64decode(sent), dtype="<f4")
    assert np.array_equal(wire, np.asarray(expected.data[0].embedding, dtype="<f4"))
    assert {r.model for r in mapped.requests} == {"nomic-embed-text"}


def test_the_async_client_maps_a_stream_too(mapped) -> None:
    async def stream() -> set[str]:
        async with llm.get_async_client(max_retries=0) as client:
            chunks = await client.chat.completions.create(
                model="gpt-4o", messages=MESSAGES, stream=True,
                stream_options={"include_usage": True})
            return {chunk.model async for chunk in chunks}

    assert asyncio.run(stream()) == {"gpt-4o"}
    assert [r.model for r in mapped.requests] == ["llama3.1:8b"]


def test_the_posing_sandbox_lists_only_the_names_it_serves(posing) -> None:
    listed = httpx2.get(f"{posing.base_url}/models").json()["data"]
    assert [m["id"] for m in listed] == ["llama3.1:8b", "llama3.2:3b", "nomic-embed-text"]
    assert httpx2.get(f"{posing.base_url}/models/gpt-4o").status_code == 404


def test_the_course_sandbox_reached_by_url_is_named_as_the_sandbox(as_real_endpoint,  # noqa: F811
                                                                  posing) -> None:
    as_real_endpoint.setenv("OPENAI_BASE_URL", posing.base_url)
    described = llm.resolve_endpoint().describe()
    assert described.startswith(f"the course sandbox at {posing.base_url}")
    assert "nothing simulated" not in described


def test_another_server_is_described_as_a_real_endpoint(as_real_endpoint) -> None:  # noqa: F811
    with sandbox.start(time_scale=0) as other:
        url = other.base_url
    as_real_endpoint.setenv("OPENAI_BASE_URL", url)  # stopped: nothing answers there now
    assert llm.resolve_endpoint().describe() == f"a real endpoint at {url}"


def test_tokenizer_differs_only_on_a_real_endpoint_with_a_map(mapped, monkeypatch) -> None:
    assert "llama3.1:8b" in llm.tokenizer_differs("gpt-4o")
    monkeypatch.setenv("COURSE_LLM_ENDPOINT", "sandbox")
    assert llm.tokenizer_differs("gpt-4o") is None  # the sandbox serves the course's names


@pytest.mark.parametrize(("value", "says"), [
    ("llama3", "is not served-name=simulated-model"),
    ("llama3=gpt-5", "does not simulate 'gpt-5'"),
    ("a=gpt-4o,a=gpt-4o-mini", "'a' is served twice"),
])
def test_a_bad_serve_as_entry_is_named(value, says, capsys) -> None:
    with pytest.raises(SystemExit):
        sandbox_main(["--port", "0", "--serve-as", value])
    assert says in capsys.readouterr().err
    with pytest.raises(ValueError, match=says):
        sandbox.start(serve_as=value, warm=False)


def test_a_real_endpoint_client_keeps_its_own_http_client(as_real_endpoint, posing) -> None:  # noqa: F811
    as_real_endpoint.setenv("OPENAI_BASE_URL", posing.base_url)
    with pytest.raises(TypeError, match="model map and the budget guard"):
        llm.get_client(http_client=httpx2.Client())


def test_a_compressed_answer_is_decoded_before_its_model_is_mapped() -> None:
    """Real endpoints gzip their JSON; the seam must read the decoded body, not the bytes."""
    import gzip
    import json

    from course_lib.endpoint_transport import GuardedTransport
    from course_lib.model_map import parse_model_map

    sent: list[dict] = []

    def server(request: httpx2.Request) -> httpx2.Response:
        sent.append(json.loads(request.content))
        body = json.dumps({"model": "llama3.1:8b", "usage": {"prompt_tokens": 1}}).encode()
        return httpx2.Response(200, headers={"content-type": "application/json",
                                             "content-encoding": "gzip"},
                               content=gzip.compress(body))

    transport = GuardedTransport(parse_model_map("gpt-4o=llama3.1:8b"), None,
                                 inner=httpx2.MockTransport(server))
    with httpx2.Client(transport=transport) as client:
        answer = client.post("http://server.test/v1/chat/completions",
                             json={"model": "gpt-4o", "messages": []})
    assert sent[0]["model"] == "llama3.1:8b"
    assert answer.json() == {"model": "gpt-4o", "usage": {"prompt_tokens": 1}}
    assert "content-encoding" not in answer.headers


def _models_server(owned_by: str):
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from course_lib.serving import BackgroundServer, ServerHandle

    async def models(request):
        return JSONResponse({"object": "list", "data": [
            {"id": "gpt-4o", "object": "model", "created": 0, "owned_by": owned_by}]})

    return ServerHandle(BackgroundServer(Starlette(routes=[Route("/v1/models", models)]),
                                         port=0, name="models"))


@pytest.mark.parametrize(("owned_by", "recognised"), [("course-sandbox", True),
                                                      ("openai", False)])
def test_a_gateway_that_drops_the_header_is_recognised_by_owned_by(owned_by, recognised) -> None:
    """A gateway in front of the sandbox may not pass ``x-simulator`` on; ``owned_by`` stays."""
    with _models_server(owned_by) as gateway:
        assert llm.is_course_sandbox(f"{gateway.url}/v1") is recognised
