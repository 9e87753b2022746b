"""Supervised fine-tuning on curated shards, one readable loop on accelerate.

Each optimizer step takes the next (processes x accumulation) micro-batches of the epoch's
order; the loss is the token cross-entropy summed over the step's label tokens on every process,
divided by their count, so 1 process x accumulation 2 and 2 processes x accumulation 1 follow the
same curve. Rerunning with the same output folder resumes from its newest whole checkpoint. The run's
settings and their checks are in config.py, the final model folder and its card in final.py.
"""

from __future__ import annotations

import json
import logging
import math
import os
import resource
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from accelerate import Accelerator
from accelerate.utils import is_tensorboard_available, is_wandb_available, set_seed
from transformers import get_cosine_schedule_with_warmup
from transformers.utils import logging as hf_logging
from viscode.train import attention, checkpoint, flops
from viscode.train.checkpoint import TrainerState
from viscode.train.config import TrainConfig, attention_implementation, check, check_output, precision
from viscode.train.data import RowFilter, open_split, read_rows
from viscode.train.final import save_final
from viscode.train.model import config_digest, load_model, load_tokenizer
from viscode.train.options import VARLEN
from viscode.train.packing import MicroBatch, Plan, collate
from viscode.train.tokens import IGNORE, TokenizedSplit, TokenSettings, load_or_tokenize, tokenizer_digest

from viscode.cache import cache_root
from viscode.errors import InputError
from viscode.shards import RUN_FILE, lock_folder, write_json

METRICS_FILE = "metrics.jsonl"
TRACKERS = {"tensorboard": is_tensorboard_available, "wandb": is_wandb_available}


@dataclass(slots=True)
class TrainReport:
    output: Path
    final: Path
    steps: int
    resumed_from: int | None
    first_loss: float | None
    last_loss: float | None
    val_loss: float | None
    tokens: int
    label_tokens: int
    seconds: float
    rows: dict = field(default_factory=dict)


def micro_batch_loss(model, batch: MicroBatch, device: torch.device, attn: str) -> torch.Tensor:
    """Summed cross-entropy over the micro-batch's label tokens, in fp32. Logits are computed only
    where a label follows: the LM head and its vocabulary-wide softmax are the largest single cost
    of a small model, and prompt positions need neither."""
    targets = batch.labels[:, 1:]
    keep = (targets != IGNORE).any(0).nonzero().squeeze(1)
    extra = attention.varlen_kwargs(batch.doc_lengths, device) if attn == VARLEN else {}
    logits = model(input_ids=batch.input_ids.to(device), position_ids=batch.position_ids.to(device),
                   attention_mask=None if batch.attention_mask is None else batch.attention_mask.to(device),
                   use_cache=False, logits_to_keep=keep.to(device), **extra).logits
    targets = targets[:, keep].to(device)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), ignore_index=IGNORE,
                           reduction="sum")


def _optimizer(model, config: TrainConfig, cuda: bool) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if param.requires_grad:
            (no_decay if param.ndim < 2 or "norm" in name else decay).append(param)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, 0.95), eps=1e-8, fused=cuda)


class Trainer:
    def __init__(self, config: TrainConfig, *, on_event: Callable[[str, dict], None] | None = None):
        check(config)
        hf_logging.disable_progress_bar()  # our own progress bar is the one to watch
        # accelerate warns on every checkpoint that tied embeddings are stored once; they are re-tied on load
        logging.getLogger("accelerate.utils.other").setLevel(logging.ERROR)
        self.config = config
        self.on_event = on_event or (lambda kind, info: None)
        cuda = torch.cuda.is_available()
        self.precision = precision(config, cuda)
        mixed = "bf16" if self.precision == "bf16" else "no"  # pure-bf16 needs no autocast: the weights are bf16
        self.weight_dtype = torch.bfloat16 if self.precision == "pure-bf16" else torch.float32
        log_with = None if config.report_to in (None, "none") else [config.report_to]
        if log_with and not TRACKERS.get(config.report_to, lambda: False)():
            raise InputError(f"--report-to {config.report_to}: the {config.report_to} package is not installed")
        self.acc = Accelerator(cpu=not cuda, mixed_precision=mixed, gradient_accumulation_steps=config.grad_accum,
                               log_with=log_with, project_dir=str(config.output))
        self.attn = attention_implementation(config)
        if self.attn == VARLEN:
            attention.register()
        self.record = check_output(config, self.acc)
        self.lock = None
        self.state = TrainerState()
        set_seed(config.seed)

    # -- data -----------------------------------------------------------------------------------
    def _tokenized(self, tokenizer, split: str) -> tuple[TokenizedSplit, dict]:
        config = self.config
        source = open_split(config.data, split, RowFilter(config.kinds, config.libraries))
        settings = TokenSettings(config.max_length, config.loss_turns, config.truncate)
        cache = config.cache_dir or cache_root() / "tokens"
        total = 0

        def conversations() -> list[list[dict]]:
            nonlocal total
            rows = read_rows(source).column("messages").to_pylist()
            total = len(rows)
            return rows

        def progress(done: int) -> None:
            self.on_event("tokenize", {"split": split, "advance": done, "total": total})

        with self.acc.local_main_process_first():  # one tokenizing process a machine; the others read its cache
            tokenized, cached = load_or_tokenize(cache, tokenizer, conversations, source.digest, settings, progress)
        self.on_event("tokenized", {"split": split, "cached": cached, **tokenized.stats.to_json()})
        return tokenized, {"digest": source.digest, **tokenized.stats.to_json()}

    def _check_inputs(self, digests: dict[str, str | None]) -> None:
        """The same paths may hold other shards, another tokenizer or another model by now: a resume
        must train what the run started on."""
        record = self.config.output / RUN_FILE
        had = json.loads(record.read_text()) if record.is_file() else {}
        for key, digest in digests.items():
            if had.get(key) is not None and had[key] != digest:
                what = "its shards" if key == "data_digest" else f"the {key.split('_digest')[0].replace('_', ' ')}"
                path = self.config.data if key == "data_digest" else self.config.model
                raise InputError(f"{path}: {what} changed since the run in {self.config.output} started; "
                                 "choose another --output")
        self.record.update(digests)

    # -- the loop -------------------------------------------------------------------------------
    def run(self) -> TrainReport:
        try:
            return self._run()
        except torch.OutOfMemoryError:
            raise InputError(
                f"out of GPU memory at step {self.state.global_step + 1} ({self.config.batch_tokens} tokens a "
                "micro-batch): try a smaller --batch-tokens with more --grad-accum, --gradient-checkpointing, "
                "or sharding (deploy/accelerate/fsdp2.yaml)") from None
        finally:
            if self.lock:
                self.lock.close()

    def _run(self) -> TrainReport:
        config, acc = self.config, self.acc
        started = time.perf_counter()
        tokenizer = load_tokenizer(config.model)
        train_set, train_info = self._tokenized(tokenizer, "train")
        if not train_set.input_ids:
            dropped = [f"{train_info['too_long']} longer than --max-length {config.max_length}"
                       + (f" (the longest {train_info['longest_dropped']} tokens)" if train_info["too_long"] else ""),
                       f"{train_info['special_text']} with special-token text",
                       f"{train_info['no_labels']} without an assistant turn"]
            raise InputError(f"{config.data}: no training rows left of {train_info['rows']} after the filters "
                             f"({'; '.join(dropped)})")
        val_set, val_info = self._tokenized(tokenizer, "val")
        self._check_inputs({"data_digest": train_info["digest"], "tokenizer_digest": tokenizer_digest(tokenizer),
                            "model_config_digest": config_digest(config.model)})

        world, accum = acc.num_processes, config.grad_accum
        per_step = world * accum
        plan = Plan.make(train_set.lengths, batch_tokens=config.batch_tokens, packing=config.packing,
                         seed=config.seed)
        steps_per_epoch = math.ceil(plan.micro_batches_per_epoch() / per_step)
        total_steps = config.max_steps or steps_per_epoch * config.epochs
        val_plan = Plan.make(val_set.lengths, batch_tokens=config.batch_tokens, packing=config.packing,
                             seed=config.seed) if val_set.input_ids else None

        model = load_model(config.model, attn_implementation=self.attn, dtype=self.weight_dtype)
        model.config.use_cache = False
        acc.wait_for_everyone()
        if acc.is_main_process:  # only now, when everything the run needs has loaded: one run per folder
            self.lock = lock_folder(config.output)
            if not (config.output / RUN_FILE).is_file():
                write_json(self.record, config.output / RUN_FILE)
        acc.wait_for_everyone()
        if config.gradient_checkpointing:
            if hasattr(model, "activation_checkpointing_enable"):  # its name from transformers 5.2x on
                model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
            else:
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        optimizer = _optimizer(model, config, acc.device.type == "cuda")
        scheduler = get_cosine_schedule_with_warmup(optimizer, round(config.warmup * total_steps), total_steps)
        model, optimizer = acc.prepare(model, optimizer)
        acc.register_for_checkpointing(scheduler)  # not prepared: a prepared scheduler steps once per process
        model_config = acc.unwrap_model(model).config
        self.pad_id = model_config.pad_token_id if model_config.pad_token_id is not None else 0
        peak = flops.peak_flops(acc.device)

        ckpt_dir = config.output / "checkpoints"
        resumed_from = None
        if done := checkpoint.complete(ckpt_dir):
            resumed_from = done[-1][0]
            self.state = checkpoint.load(acc, done[-1][1])
        state = self.state
        metrics_path = config.output / METRICS_FILE
        curve = self._metrics_upto(metrics_path, state.global_step)
        if acc.is_main_process:
            acc.init_trackers("viscode-train", config={k: str(v) for k, v in asdict(config).items()})
        self.on_event("start", {"steps": total_steps, "steps_per_epoch": steps_per_epoch, "world": world,
                                "resumed_from": resumed_from, "attention": self.attn,
                                "efficiency": plan.efficiency(), "micro_batches": plan.micro_batches_per_epoch()})

        eval_every = config.eval_every or config.save_every
        model.train()
        while state.global_step < total_steps:
            order = plan.epoch(state.epoch)
            while state.step_in_epoch < steps_per_epoch and state.global_step < total_steps:
                slots = order[state.step_in_epoch * per_step:(state.step_in_epoch + 1) * per_step]
                tick = time.perf_counter()
                record = self._step(model, optimizer, scheduler, train_set, slots, model_config)
                state.global_step += 1
                state.step_in_epoch += 1
                state.tokens += record["tokens"]
                state.label_tokens += record["label_tokens"]
                if acc.device.type == "cuda":
                    torch.cuda.synchronize()
                seconds = time.perf_counter() - tick
                step_flops = record.pop("flops")
                record = {"step": state.global_step, "epoch": state.epoch, **record,
                          "tokens_per_s": record["tokens"] / seconds,
                          "label_tokens_per_s": record["label_tokens"] / seconds,
                          "mfu": step_flops / seconds / (peak * world) if peak else None,
                          "peak_memory_mb": _peak_memory_mb(acc.device), "seconds": seconds}
                last = state.global_step == total_steps
                if val_plan is not None and (state.global_step % eval_every == 0 or last):
                    record["val_loss"] = self._evaluate(model, val_set, val_plan)
                    model.train()
                curve.append(record)
                if acc.is_main_process:
                    with open(metrics_path, "a") as f:
                        f.write(json.dumps(record) + "\n")
                    acc.log({k: v for k, v in record.items() if isinstance(v, (int, float))}, step=state.global_step)
                self.on_event("step", {**record, "total": total_steps})
                if state.step_in_epoch == steps_per_epoch:
                    state.epoch += 1
                    state.step_in_epoch = 0
                if state.global_step % config.save_every == 0 or last:
                    saved = checkpoint.save(acc, ckpt_dir, state, config.keep_last)
                    self.on_event("checkpoint", {"path": str(saved)})

        final = save_final(acc, model, tokenizer, config, precision=self.precision, attn=self.attn, curve=curve,
                           train_info=train_info, val_info=val_info)
        val_loss = next((r["val_loss"] for r in reversed(curve) if "val_loss" in r), None)
        acc.end_training()
        return TrainReport(config.output, final, state.global_step, resumed_from,
                           curve[0]["loss"] if curve else None, curve[-1]["loss"] if curve else None,
                           val_loss, state.tokens, state.label_tokens, time.perf_counter() - started,
                           {"train": train_info, "val": val_info})

    def _step(self, model, optimizer, scheduler, data: TokenizedSplit, slots: list[list[int]], model_config) -> dict:
        """One optimizer step over this process's share of `slots`. A slot past the epoch's end (its last,
        short step) runs the step's first micro-batch with weight 0, so every process does the same work."""
        acc, config = self.acc, self.config
        rank, accum = acc.process_index, config.grad_accum
        lr = scheduler.get_last_lr()[0]  # the rate this step's update uses
        mine = [(slots[i] if i < len(slots) else slots[0], i < len(slots))
                for i in range(rank * accum, (rank + 1) * accum)]
        batches = [(collate(data, docs, packing=config.packing, pad_id=self.pad_id), real)
                   for docs, real in mine]
        local = torch.tensor([sum(b.label_tokens for b, real in batches if real),
                              sum(b.tokens for b, real in batches if real),
                              sum(sum(n * n for n in b.doc_lengths) for b, real in batches if real)],
                             dtype=torch.float64, device=acc.device)
        label_tokens, tokens, squares = (int(x) for x in acc.reduce(local, "sum").tolist())
        scale = accum * acc.num_processes / label_tokens
        loss_sum = torch.zeros((), dtype=torch.float64, device=acc.device)
        grad_norm = None
        for batch, real in batches:
            with acc.accumulate(model):
                loss = micro_batch_loss(model, batch, acc.device, self.attn)
                acc.backward(loss * (scale if real else 0.0))
                if real:
                    loss_sum += loss.detach()
                if acc.sync_gradients:
                    grad_norm = acc.clip_grad_norm_(model.parameters(), config.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
        total_loss = acc.reduce(loss_sum, "sum").item()
        return {"loss": total_loss / label_tokens, "lr": lr,
                "grad_norm": float(grad_norm) if grad_norm is not None else None,
                "tokens": tokens, "label_tokens": label_tokens,
                "flops": flops.step_flops(model_config, tokens=tokens, logit_positions=label_tokens,
                                          squared_doc_lengths=squares)}

    @torch.no_grad()
    def _evaluate(self, model, data: TokenizedSplit, plan: Plan) -> float:
        """Loss per label token over the whole val split; every process runs as many forward passes
        (a sharded model needs all of them in each), the surplus ones uncounted."""
        acc = self.acc
        model.eval()
        batches = plan.epoch(0)
        rounds = math.ceil(len(batches) / acc.num_processes)
        loss_sum = torch.zeros((), dtype=torch.float64, device=acc.device)
        labels = torch.zeros((), dtype=torch.float64, device=acc.device)
        for r in range(rounds):
            index = r * acc.num_processes + acc.process_index
            batch = collate(data, batches[index % len(batches)], packing=self.config.packing,
                            pad_id=self.pad_id)
            loss = micro_batch_loss(model, batch, acc.device, self.attn)  # the prepared model autocasts
            if index < len(batches):
                loss_sum += loss
                labels += batch.label_tokens
        total = acc.reduce(torch.stack([loss_sum, labels]), "sum").tolist()
        return total[0] / total[1]

    def _metrics_upto(self, path: Path, step: int) -> list[dict]:
        """The curve logged up to the checkpoint being resumed; steps after it will be logged again."""
        if not path.is_file():
            return []
        curve = []
        for line in path.read_text().splitlines():
            try:
                curve.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by the crash being resumed from
        curve = [r for r in curve if r["step"] <= step]
        self.acc.wait_for_everyone()
        if self.acc.is_main_process:
            tmp = path.with_name(f".tmp-{path.name}")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in curve))
            os.replace(tmp, path)
        self.acc.wait_for_everyone()
        return curve


def _peak_memory_mb(device: torch.device) -> float:
    """GPU: the most the caching allocator held for tensors; CPU: the process's peak resident set."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

