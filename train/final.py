"""The run's product: OUT/final, a model folder to load and generate with, and its card.

Written once, after the last step, apart from the checkpoints the loop resumes from: weights in
bf16 unless trained in fp32, the cache switched back on, and a card saying what was trained on what.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from accelerate import Accelerator
from viscode.train import checkpoint
from viscode.train.config import TrainConfig

from viscode.errors import InputError


def save_final(accelerator: Accelerator, model, tokenizer, config: TrainConfig, *, precision: str, attn: str,
               curve: list[dict], train_info: dict, val_info: dict) -> Path:
    """OUT/final: safetensors weights (bf16 unless trained in fp32), tokenizer, chat template and a card."""
    final = config.output / "final"
    tmp = config.output / ".tmp-final"
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        unwrapped = accelerator.unwrap_model(model)
        unwrapped.config.use_cache = True  # off for training only; generation wants its cache
        if precision != "fp32":
            state_dict = {k: v.to(torch.bfloat16) for k, v in state_dict.items()}
            unwrapped.config.dtype = torch.bfloat16
        try:
            unwrapped.save_pretrained(tmp, state_dict=state_dict)
            tokenizer.save_pretrained(tmp)
            _write_card(tmp, config, attn, accelerator.num_processes, curve, train_info, val_info)
        except Exception as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if checkpoint.disk_full(exc, config.output):
                raise InputError(f"{config.output}: disk full while saving final/; the checkpoints are "
                                 "intact, free space and rerun to write it") from None
            raise
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    accelerator.wait_for_everyone()
    return final


def _write_card(folder: Path, config: TrainConfig, attn: str, world: int, curve: list[dict], train_info: dict,
                val_info: dict) -> None:
    card = {"base_model": config.model, "data": config.data, "data_digest": train_info["digest"],
            "settings": config.trajectory(), "attention": attn, "world": world,
            "rows": {"train": train_info, "val": val_info},
            "final": curve[-1] if curve else None,
            "first_loss": curve[0]["loss"] if curve else None}
    (folder / "viscode_train.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    (folder / "README.md").write_text(_card_text(card))


def _card_text(card: dict) -> str:
    final = card["final"] or {}
    lines = ["---", "library_name: transformers", "pipeline_tag: text-generation", "tags: [viscode, sft]", "---", "",
             f"# Fine-tuned from {card['base_model']}", "",
             (f"Supervised fine-tuning with `viscode train run` on curated shards `{card['data']}` "
              f"(digest `{card['data_digest'][:16]}`)."), "",
             "| | |", "|---|---|",
             f"| steps | {final.get('step')} |", f"| first loss | {card['first_loss']} |",
             f"| last loss | {final.get('loss')} |", f"| val loss | {final.get('val_loss')} |",
             f"| train rows kept | {card['rows']['train']['kept']} of {card['rows']['train']['rows']} |", "",
             "Settings: `" + json.dumps(card["settings"]) + "`", ""]
    return "\n".join(lines)
