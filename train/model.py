"""Model folders: `init` builds one from a config (random weights, a tokenizer trained on the
curated data), `load` opens any causal LM transformers can (a local folder, or a hub name on
machines that have the hub), through the same `from_pretrained` path either way."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase, Qwen2Config, Qwen2ForCausalLM
from transformers.utils import logging as hf_logging
from viscode.train.data import read_split
from viscode.train.sizes import SIZES
from viscode.train.tokenizer import train_tokenizer

from viscode.errors import InputError, first_line

INIT_RECORD = "viscode_init.json"


@dataclass(frozen=True, slots=True)
class InitReport:
    output: Path
    parameters: int
    vocab_size: int
    texts: int
    reused: bool


def _texts(data: str) -> list[str]:
    texts = []
    for split in ("train", "val"):
        for messages in read_split(data, split).rows.column("messages").to_pylist():
            texts.extend(m["content"] for m in messages)
    return texts


def init_model(output: Path, data: str, *, size: str = "tiny", vocab_size: int = 4096, seed: int = 0) -> InitReport:
    """Write a loadable model folder: config + random weights (safetensors), tokenizer, chat template.

    Rerunning with the same settings finds the folder done; a folder holding anything else is refused.
    """
    if size not in SIZES:
        raise InputError(f"unknown size {size!r} (choose from {', '.join(SIZES)})")
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise InputError(f"{output}: is a file, not a folder")
    texts = _texts(data)
    if not texts:
        raise InputError(f"{data}: no rows to train a tokenizer on")
    record = {"size": size, "vocab_size": vocab_size, "seed": seed,
              "data": hashlib.sha256("\0".join(texts).encode()).hexdigest()}
    if output.exists() and any(output.iterdir()):
        try:
            done = json.loads((output / INIT_RECORD).read_text())
        except (OSError, ValueError):
            raise InputError(f"{output}: exists and holds something else; choose an empty or new folder") from None
        if done.get("settings") != record:
            raise InputError(f"{output}: holds a model made with other settings ({done.get('settings')})")
        return InitReport(output, done["parameters"], done["vocab"], len(texts), reused=True)

    hf_logging.disable_progress_bar()  # one file of a few MB to a few GB: the summary line says where it went
    tokenizer = train_tokenizer(texts, vocab_size)
    shape = SIZES[size]
    if shape.vocab_size is not None and len(tokenizer) > shape.vocab_size:
        raise InputError(f"--vocab-size {vocab_size} is larger than {size}'s vocabulary {shape.vocab_size}")
    config = Qwen2Config(**shape.config_kwargs(len(tokenizer)), rope_theta=1e6, rms_norm_eps=1e-6,
                         use_sliding_window=False, bos_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    parameters = sum(p.numel() for p in model.parameters())

    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".tmp-{output.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / INIT_RECORD).write_text(json.dumps({"settings": record, "parameters": parameters,
                                                    "vocab": len(tokenizer)}, indent=2) + "\n")
        if output.exists():
            output.rmdir()
        os.replace(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return InitReport(output, parameters, len(tokenizer), len(texts), reused=False)


def config_digest(name: str) -> str | None:
    """sha256 of a local model folder's config.json (None for a hub name): enough to tell another
    model at the same path, without hashing gigabytes of weights."""
    config = Path(name) / "config.json"
    return hashlib.sha256(config.read_bytes()).hexdigest() if config.is_file() else None


def _check_exists(name: str) -> None:
    """A name written as a path is a folder the user meant; hub names never start like one."""
    if name.startswith(("/", "./", "../", "~")) and not Path(name).expanduser().is_dir():
        raise InputError(f"{name}: no such model folder")


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    _check_exists(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name)
    except (OSError, ValueError) as exc:
        raise InputError(f"{name}: cannot load a tokenizer ({first_line(exc)})") from None
    if not tokenizer.is_fast:
        raise InputError(f"{name}: its tokenizer has no fast (Rust) version, which label masking needs")
    if not tokenizer.chat_template:
        raise InputError(f"{name}: its tokenizer has no chat template")
    return tokenizer


def load_model(name: str, *, attn_implementation: str, dtype: torch.dtype) -> torch.nn.Module:
    _check_exists(name)
    try:
        return AutoModelForCausalLM.from_pretrained(name, attn_implementation=attn_implementation, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise InputError(f"{name}: cannot load a causal language model ({first_line(exc)})") from None
