"""The LLM instruction writer over real HTTP against a local stand-in server (tests/llm_server.py)."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
from viscode.curation.instructions import Instruction
from viscode.curation.llm import (
    PARTS,
    InstructionWriter,
    LLMConfig,
    LLMError,
    UnusableReply,
    parse_reply,
)

from viscode.errors import InputError

from .llm_server import FakeLLM, expected_parts


def draft(i: int) -> Instruction:
    return Instruction(setup="Use Python and matplotlib.", data_description=f"Three numbers ending in {i}.",
                       data_preview=f"0, 1, {i}", plot_description="A line plot.", style_description="Title.")


def code(i: int, marker: str = "") -> str:
    return f"import matplotlib.pyplot as plt\nplt.plot([0, 1, {i}])  # {marker}\n"


def items(n: int, marker: str = "") -> list[tuple[str, str, Instruction]]:
    return [(f"s{i}", code(i, marker), draft(i)) for i in range(n)]


def config(server: FakeLLM, **overrides: object) -> LLMConfig:
    """Fast defaults: no pacing to speak of, tiny backoff."""
    settings = {"model": "test-model", "api_key": None, "timeout_s": 2.0, "max_retries": 2,
                "requests_per_minute": 60_000, "backoff_s": 0.01} | overrides
    return LLMConfig(server.url, **settings)


@pytest.fixture
def server():
    with FakeLLM() as fake:
        yield fake


def test_ok_path_maps_each_answer_to_its_snippet(server):
    writer = InstructionWriter(config(server, api_key="sk-test", temperature=0.2))
    batch = items(3)
    results = writer.write_all(batch)
    for (_, snippet, _), (instruction, source) in zip(batch, results, strict=True):
        assert source == "llm"
        assert {name: getattr(instruction, name) for name in PARTS} == expected_parts(snippet)
        assert isinstance(instruction, Instruction)
    assert writer.stats.requests == server.count == 3
    assert (writer.stats.retries, writer.stats.fallbacks, writer.stats.cache_hits) == (0, 0, 0)
    seen = server.seen[0]
    assert seen.body["model"] == "test-model" and seen.body["temperature"] == 0.2
    assert [m["role"] for m in seen.body["messages"]] == ["system", "user"]
    assert "Three numbers ending in" in seen.body["messages"][1]["content"]  # the draft goes along as facts
    assert seen.authorization == "Bearer sk-test"


def test_fenced_answer_amid_prose_is_used():
    with FakeLLM("fenced") as fake:
        [(instruction, source)] = InstructionWriter(config(fake)).write_all(items(1))
    assert source == "llm" and instruction.plot_description == expected_parts(code(0))["plot_description"]


def test_rerun_is_served_from_cache_on_any_endpoint(server, tmp_path):
    first = InstructionWriter(config(server, cache_dir=tmp_path))
    results = first.write_all(items(3))
    assert server.count == 3
    files = sorted(tmp_path.rglob("*.json"))
    assert len(files) == 3 and all(f.parent.parent.parent == tmp_path for f in files)  # two-level fan-out
    with FakeLLM() as other:  # another server, same model: same keys
        again = InstructionWriter(config(other, cache_dir=tmp_path))
        assert again.write_all(items(3)) == results
        assert other.count == 0 and again.stats.cache_hits == 3 and again.stats.requests == 0
        files[0].write_text("{not json")  # a corrupt entry is a miss, asked again and rewritten
        assert InstructionWriter(config(other, cache_dir=tmp_path)).write_all(items(3)) == results
        assert other.count == 1
    assert json.loads(files[0].read_text())["parts"]
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".json"]  # no temp files left


def test_cache_key_depends_on_model_and_draft(server, tmp_path):
    InstructionWriter(config(server, cache_dir=tmp_path)).write_all(items(1))
    InstructionWriter(config(server, cache_dir=tmp_path, model="other")).write_all(items(1))
    changed = [("s0", code(0), Instruction(**{**{n: getattr(draft(0), n) for n in PARTS}, "setup": "Use plotly."}))]
    InstructionWriter(config(server, cache_dir=tmp_path)).write_all(changed)
    assert server.count == 3


def test_500_429_and_dropped_connection_are_retried(server):
    server.script("500", "429", "drop", "ok")
    writer = InstructionWriter(config(server, max_retries=3))
    [(instruction, source)] = writer.write_all(items(1))
    assert source == "llm" and instruction.setup == expected_parts(code(0))["setup"]
    assert writer.stats.requests == 4 and writer.stats.retries == 3
    assert writer.stats.failures == {"http-500": 1, "http-429": 1, "connection": 1}


def test_partial_answer_is_sent_back_to_be_fixed(server):
    server.script("partial", "ok")
    writer = InstructionWriter(config(server))
    [(_, source)] = writer.write_all(items(1))
    assert source == "llm" and writer.stats.failures == {"garbage": 1}
    fix = server.seen[1].body["messages"]
    assert [m["role"] for m in fix] == ["system", "user", "assistant", "user"]
    assert "plot_description" in fix[3]["content"]


def test_garbage_falls_back_to_the_rules_after_max_retries():
    with FakeLLM("garbage") as fake:
        writer = InstructionWriter(config(fake, max_retries=2))
        [(instruction, source)] = writer.write_all(items(1))
        assert fake.count == 3
    assert source == "rules" and instruction == draft(0)
    assert writer.stats.fallbacks == 1 and writer.stats.retries == 2
    assert writer.stats.fallen_back["s0"].startswith("garbage")


def test_timeout_falls_back_in_bounded_time():
    with FakeLLM("timeout") as fake:
        writer = InstructionWriter(config(fake, timeout_s=0.3, max_retries=1, backoff_s=0.05))
        start = time.monotonic()
        [(_, source)] = writer.write_all(items(1))
        elapsed = time.monotonic() - start
    assert source == "rules" and writer.stats.failures == {"timeout": 2}
    assert 0.6 <= elapsed < 1.5


def test_other_4xx_is_not_retried(server):
    server.script("400")
    writer = InstructionWriter(config(server))
    [(_, source)] = writer.write_all(items(1))
    assert source == "rules" and server.count == 1
    assert writer.stats.fallen_back["s0"] == "http-400: scripted 400"


def test_bad_key_stops_the_run(server):
    server.script("401")
    with pytest.raises(LLMError, match="HTTP 401"):
        InstructionWriter(config(server, concurrency=1)).write_all(items(5))


def test_a_run_of_fallbacks_stops_the_run():
    with FakeLLM("400") as fake:
        with pytest.raises(LLMError, match="3 snippets in a row"):
            InstructionWriter(config(fake, concurrency=1, max_consecutive_fallbacks=3)).write_all(items(20))
        assert fake.count < 20  # the rest were cancelled


def test_rate_limit_holds_across_threads(server):
    start = time.monotonic()
    InstructionWriter(config(server, requests_per_minute=600, concurrency=4)).write_all(items(6))
    assert time.monotonic() - start >= 0.5
    arrivals = [s.at for s in server.seen]
    assert min(b - a for a, b in itertools.pairwise(arrivals)) >= 0.07  # spaced, not bursts (slack for scheduling)


def test_input_order_is_kept_whatever_finishes_first(server):
    batch = [(f"s{i}", code(i, f"llm-sleep:{0.02 * (12 - i)}" + (" llm-mode:garbage" if i % 5 == 2 else "")),
              draft(i)) for i in range(12)]
    writer = InstructionWriter(config(server, concurrency=4, max_retries=0))
    results = writer.write_all(batch)
    for i, ((_, snippet, rules), (instruction, source)) in enumerate(zip(batch, results, strict=True)):
        if i % 5 == 2:
            assert (instruction, source) == (rules, "rules")
        else:
            assert source == "llm" and instruction.plot_description == expected_parts(snippet)["plot_description"]
    assert sorted(writer.stats.fallen_back) == ["s2", "s7"]


@pytest.mark.parametrize("endpoint", ["ftp://host/v1", "localhost:8000/v1", "http:///v1", "http://[::1/v1"])
def test_non_http_endpoint_is_rejected_in_one_line(endpoint):
    with pytest.raises(InputError, match="http") as info:
        LLMConfig(endpoint, model="m")
    assert endpoint in str(info.value) and "\n" not in str(info.value)


def test_api_key_defaults_to_the_environment_and_stays_out_of_repr(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    cfg = LLMConfig("http://localhost:8000/v1/", model="m", cache_dir=Path("cache"))
    assert cfg.api_key == "sk-env" and "sk-env" not in repr(cfg) and cfg.endpoint == "http://localhost:8000/v1"


ANSWER = {"setup": "Use Python.", "data_description": "Data.", "data_preview": "", "plot_description": "A plot.",
          "style_description": "Blue."}


@pytest.mark.parametrize("reply", [
    json.dumps(ANSWER),
    json.dumps([ANSWER]),
    f"Sure!\n```json\n{json.dumps(ANSWER, indent=2)}\n```\nHope this helps.",
    f"<think>maybe {{setup}} first</think>{json.dumps(ANSWER)}",
    f'Not this: {{"setup": 1}} but this: {json.dumps({**ANSWER, "setup": "  Use Python.  ", "extra": 3})}',
])
def test_parse_reply_finds_the_object(reply):
    assert parse_reply(reply) == ANSWER


@pytest.mark.parametrize(("reply", "problem"), [
    ("no json here", "no JSON object"),
    (json.dumps({**ANSWER, "setup": "  "}), "setup is empty"),
    (json.dumps({**ANSWER, "plot_description": ["a"]}), "plot_description missing or not a string"),
    ('{"setup": "truncated', "no JSON object"),
])
def test_parse_reply_rejects_garbage(reply, problem):
    with pytest.raises(UnusableReply, match=problem):
        parse_reply(reply)
