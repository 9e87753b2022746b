"""Answers from the model under test: any OpenAI-compatible endpoint, or a local transformers
model (a `viscode train` checkpoint or any model folder with a chat template).

Both yield each answer as soon as it exists, so a run records it at once and a rerun never asks
again. A request that fails after its retries is an empty answer with the reason recorded: it
counts as a failed attempt, never as a crash or a silent drop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from viscode.llm import ChatClient, ClientConfig, RequestFailed

from viscode.errors import InputError

Request = tuple[str, list[dict]]  # (attempt key, messages)


@dataclass(frozen=True, slots=True)
class Generation:
    text: str
    error: str | None = None  # why the answer is empty: the request failed after its retries
    seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class EndpointGenerator:
    """Concurrent chat-completions requests at temperature 0."""

    def __init__(self, config: ClientConfig, max_new_tokens: int):
        self.client = ChatClient(config)
        self.max_new_tokens = max_new_tokens
        self.name = config.model

    def check(self) -> None:
        """Stop before any work when nothing answers at the endpoint (EndpointError)."""
        self.client.probe()

    def generate(self, requests: list[Request]) -> Iterator[tuple[str, Generation]]:
        def one(messages: list[dict]) -> Generation:
            started = time.monotonic()
            try:
                reply = self.client.chat(messages, max_tokens=self.max_new_tokens)
            except RequestFailed as exc:
                return Generation("", str(exc), time.monotonic() - started)
            return Generation(reply.text, None, time.monotonic() - started, reply.prompt_tokens,
                              reply.completion_tokens)

        with ThreadPoolExecutor(max_workers=self.client.config.concurrency, thread_name_prefix="bench-gen") as pool:
            futures = {pool.submit(one, messages): key for key, messages in requests}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            finally:
                for future in futures:
                    future.cancel()


class LocalGenerator:
    """Batched greedy decoding with left padding and the KV cache, on the GPU when there is one.

    Requests are sorted by prompt length so a batch pads little; decoding stops at the chat
    template's end-of-turn token (and the model's end-of-sequence tokens).
    """

    def __init__(self, model: str, *, max_new_tokens: int, batch_size: int = 8):
        import torch
        from viscode.train.model import load_model, load_tokenizer

        if batch_size < 1 or max_new_tokens < 1:
            raise InputError("--batch-size and --max-new-tokens must be at least 1")
        self.name = model
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        self.tokenizer = load_tokenizer(model)
        self.tokenizer.padding_side = "left"
        self.model = load_model(model, attn_implementation="sdpa", dtype=dtype).to(self.device).eval()
        self.stop_ids = stop_token_ids(self.tokenizer, self.model.generation_config)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.stop_ids[0]

    def check(self) -> None:
        """Loading the model already proved it usable."""

    def generate(self, requests: list[Request]) -> Iterator[tuple[str, Generation]]:
        import torch

        prompts = {key: self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
                   for key, messages in requests}
        lengths = {key: len(self.tokenizer(text, add_special_tokens=False).input_ids) for key, text in prompts.items()}
        order = sorted(prompts, key=lambda k: -lengths[k])
        for start in range(0, len(order), self.batch_size):
            keys = order[start:start + self.batch_size]
            began = time.monotonic()
            batch = self.tokenizer([prompts[k] for k in keys], return_tensors="pt", padding=True,
                                   add_special_tokens=False).to(self.device)
            with torch.inference_mode():
                out = self.model.generate(**batch, max_new_tokens=self.max_new_tokens, do_sample=False,
                                          eos_token_id=self.stop_ids, pad_token_id=self.pad_id,
                                          temperature=None, top_p=None, top_k=None)
            new = out[:, batch.input_ids.shape[1]:]
            seconds = (time.monotonic() - began) / len(keys)
            for key, tokens in zip(keys, new.tolist()):
                produced = _until_stop(tokens, set(self.stop_ids))
                yield key, Generation(self.tokenizer.decode(produced, skip_special_tokens=True), None, seconds,
                                      lengths[key], len(produced))


def _until_stop(tokens: list[int], stops: set[int]) -> list[int]:
    """The answer's tokens up to its end-of-turn (the rest of the row is padding)."""
    for i, token in enumerate(tokens):
        if token in stops:
            return tokens[:i + 1]
    return tokens


def stop_token_ids(tokenizer, generation_config) -> list[int]:
    """The template's end-of-turn token first (found by rendering a turn and reading what follows
    its text), then the model's end-of-sequence ids."""
    ids: list[int] = []
    probe = "\x00probe\x00"
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}, {"role": "assistant", "content": probe}],
                                             tokenize=False)
    after = rendered.split(probe, 1)[1] if probe in rendered else ""
    special = {t: i for t, i in zip(tokenizer.all_special_tokens, tokenizer.all_special_ids)}
    special |= {t.content: i for i, t in tokenizer.added_tokens_decoder.items() if t.special}
    for token, token_id in special.items():
        if after.lstrip().startswith(token):
            ids.append(token_id)
            break
    eos = generation_config.eos_token_id if generation_config is not None else None
    for token_id in [*(eos if isinstance(eos, list) else [eos]), tokenizer.eos_token_id]:
        if token_id is not None and token_id not in ids:
            ids.append(token_id)
    if not ids:
        raise InputError(f"{tokenizer.name_or_path}: no end-of-turn or end-of-sequence token to stop generation at")
    return ids
