"""The shared chat-completions client over real HTTP against a local stand-in server (tests/llm_server.py)."""

from __future__ import annotations

import json
import socket

import pytest

from viscode.errors import InputError
from viscode.llm import (
    ChatClient,
    ClientConfig,
    EndpointError,
    RequestFailed,
    ResponseCache,
    request_key,
)

from .llm_server import FakeLLM, expected_parts

HELLO = [{"role": "user", "content": "Say hello."}]


def client(server: FakeLLM, **overrides: object) -> ChatClient:
    """Fast defaults: no pacing to speak of, tiny backoff."""
    settings = {"model": "test-model", "api_key": None, "timeout_s": 2.0, "max_retries": 2,
                "requests_per_minute": 60_000, "backoff_s": 0.01} | overrides
    return ChatClient(ClientConfig(server.url, **settings))


@pytest.fixture
def server():
    with FakeLLM() as fake:
        yield fake


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_chat_returns_text_and_usage(server):
    chat = client(server, api_key="sk-test")
    reply = chat.chat(HELLO, max_tokens=7, temperature=0.5)
    assert json.loads(reply.text) == expected_parts("")
    assert reply.prompt_tokens == len(json.dumps(HELLO)) and reply.completion_tokens == len(reply.text)
    assert reply.finish_reason == "stop"
    assert (chat.stats.requests, chat.stats.retries, chat.stats.prompt_tokens) == (1, 0, reply.prompt_tokens)
    assert chat.url == f"{server.url}/chat/completions"
    seen = server.seen[0]
    assert (seen.body["max_tokens"], seen.body["temperature"], seen.body["model"]) == (7, 0.5, "test-model")
    assert seen.authorization == "Bearer sk-test"
    chat.chat(HELLO)
    assert (server.seen[1].body["max_tokens"], server.seen[1].body["temperature"]) == (1024, 0.0)  # the config's


def test_content_parts_are_sent_unchanged(server):
    messages = [{"role": "system", "content": "You judge plots."},
                {"role": "user", "content": [{"type": "text", "text": "Does it match?"},
                                             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}]}]
    client(server).chat(messages)
    assert server.seen[0].body["messages"] == messages


def test_passing_failures_are_retried():
    with FakeLLM(stall_s=1.0) as fake:
        fake.script("500", "timeout", "drop", "nonsense", "ok")
        chat = client(fake, timeout_s=0.3, max_retries=4)
        assert chat.chat(HELLO).text
    assert chat.stats.requests == 5 and chat.stats.retries == 4
    assert chat.stats.failures == {"http-500": 1, "timeout": 1, "connection": 1, "garbage": 1}


def test_request_fails_after_the_retries_with_its_kind():
    with FakeLLM("503") as fake:
        chat = client(fake, max_retries=2)
        with pytest.raises(RequestFailed, match="^http-503: scripted 503$") as info:
            chat.chat(HELLO)
        assert fake.count == 3
    assert info.value.kind == "http-503" and chat.stats.failures == {"http-503": 3}


def test_other_4xx_fails_at_once(server):
    server.script("400")
    with pytest.raises(RequestFailed) as info:
        client(server).chat(HELLO)
    assert info.value.kind == "http-400" and server.count == 1


def test_bad_key_is_an_endpoint_error_at_once():
    with FakeLLM("401") as fake:
        with pytest.raises(EndpointError, match="HTTP 401"):
            client(fake).chat(HELLO)
        assert fake.count == 1


def test_probe_passes_on_any_server_that_answers(server):
    client(server).probe()
    with FakeLLM("404") as no_models_route:
        client(no_models_route).probe()


@pytest.mark.parametrize("status", ["401", "403"])
def test_probe_rejects_a_refused_key(status):
    with FakeLLM(status) as fake, pytest.raises(EndpointError, match=f"HTTP {status}") as info:
        client(fake).probe()
    assert f"{fake.url}/models" in str(info.value)


def test_probe_names_a_closed_port_in_one_line():
    url = closed_port_url()
    with pytest.raises(EndpointError, match="nothing answers") as info:
        ChatClient(ClientConfig(url, model="m", api_key=None)).probe()
    assert url in str(info.value) and "\n" not in str(info.value)


def test_config_is_checked_and_normalised():
    assert ClientConfig("http://localhost:8000/v1/", model="m").endpoint == "http://localhost:8000/v1"
    with pytest.raises(InputError, match="http"):
        ClientConfig("localhost:8000/v1", model="m")
    with pytest.raises(InputError, match="max_retries"):
        ClientConfig("http://localhost:8000/v1", model="m", max_retries=-1)


def test_request_key_ignores_dict_order_not_content():
    key = request_key("judge", "m", [{"role": "user", "content": "é"}])
    assert key == request_key("judge", "m", [{"content": "é", "role": "user"}])
    assert key != request_key("judge", "other", [{"role": "user", "content": "é"}])
    assert len(key) == 64 and int(key, 16) >= 0


def test_response_cache_round_trip_and_unreadable_is_a_miss(tmp_path):
    cache = ResponseCache(tmp_path)
    key = request_key("q")
    assert cache.get(key) is None
    cache.put(key, {"text": "héllo", "score": 3})
    assert cache.get(key) == {"text": "héllo", "score": 3}
    [stored] = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert stored == tmp_path / key[:2] / key[2:4] / f"{key}.json"
    stored.write_text("{not json")
    assert cache.get(key) is None
    stored.write_text("[1, 2]")
    assert cache.get(key) is None
    stored.write_bytes(b"\xff\xfe")
    assert cache.get(key) is None
