"""Training speed of `viscode train` against a plain transformers loop, both measured in this run,
on the same device, model shape and data.

Data: a curated output (default: the demo's, `make demo`), tokenized once with a tokenizer
trained on it; the model is the published shape of --size with random weights.

  baseline  a plain transformers loop as VisCoder's recipe ran it: rows in random order,
            --baseline-rows rows a step (VisCoder: 4 a GPU) padded to the longest, no packing,
            sdpa, fp32 weights with bf16 autocast (GPU), fused AdamW, the model's own loss.
            Several row counts may be given; each is a run.
  viscode   `viscode.train.loop.Trainer`: best-fit-decreasing packed rows of --batch-tokens,
            the varlen flash kernel on CUDA (sdpa on CPU), logits only where a label follows.
  viscode sdpa packed
            the same packed rows through transformers' sdpa path (a dense packed mask),
            which shows what the varlen kernel is worth.
  anchor    (CUDA) the MFU reference: one unpadded row of --max-length tokens (documents
            concatenated, plain causal attention, loss at every position), the plain loop.

Reported per run: the median over the steps after --warmup of non-pad tokens/s and label
tokens/s, MFU (CUDA, against the device's dense bf16 peak; useful FLOPs only, see
viscode.train.flops), MFU crediting the LM head at every position as the anchor's convention
does (viscode computes logits only where a label follows), and peak GPU memory. The headline is viscode's label tokens/s over the
baseline's: the same useful work either way.

Usage: python perf/train_speed.py [--data DIR] [--size S] [--steps N] [--batch-tokens T]
       (on CPU the defaults shrink to the tiny model and short rows)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoConfig
from viscode.train import flops
from viscode.train.data import read_split
from viscode.train.loop import TrainConfig, Trainer
from viscode.train.model import init_model, load_model, load_tokenizer
from viscode.train.packing import collate
from viscode.train.tokens import TokenizedSplit, TokenSettings, tokenize


def baseline(model_dir: Path, split: TokenizedSplit, *, steps: int, warmup: int, rows: int, seed: int) -> dict:
    """The plain loop over the same tokenized rows as viscode's run; returns medians of the timed steps."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = load_tokenizer(str(model_dir))
    model = load_model(str(model_dir), attn_implementation="sdpa", dtype=torch.float32).to(device)
    model.config.use_cache = False
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-6, weight_decay=0.05, fused=device.type == "cuda")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(split.input_ids)).tolist()
    torch.cuda.reset_peak_memory_stats() if device.type == "cuda" else None
    peak = flops.peak_flops(device)
    records = []
    for step in range(steps):
        docs = [order[(step * rows + k) % len(order)] for k in range(rows)]
        batch = collate(split, docs, packing=False, pad_id=tokenizer.pad_token_id)
        tick = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = model(input_ids=batch.input_ids.to(device), attention_mask=batch.attention_mask.to(device),
                         labels=batch.labels.to(device), use_cache=False).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - tick
        # the plain loop computes logits at every position, padding included; credit only the useful ones
        work = flops.step_flops(model.config, tokens=batch.tokens, logit_positions=batch.tokens,
                                squared_doc_lengths=sum(n * n for n in batch.doc_lengths))
        records.append({"tokens_per_s": batch.tokens / seconds, "label_tokens_per_s": batch.label_tokens / seconds,
                        "mfu": work / seconds / peak if peak else None, "mfu_head_everywhere": None,
                        "slots": batch.input_ids.numel(), "tokens": batch.tokens})
    timed = records[warmup:]
    result = _medians(timed)
    result["padding"] = 1 - sum(r["tokens"] for r in timed) / sum(r["slots"] for r in timed)
    result["peak_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    del model, optimizer
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def anchor(model_dir: Path, split: TokenizedSplit, *, steps: int, warmup: int, length: int) -> dict:
    """One row of `length` real tokens a step, every position trained: what MFU anchors are measured on."""
    device = torch.device("cuda")
    stream = np.concatenate(split.input_ids).astype(np.int64)
    if len(stream) <= length:
        raise SystemExit(f"anchor: the data holds {len(stream)} tokens, fewer than one row of {length}")
    model = load_model(str(model_dir), attn_implementation="sdpa", dtype=torch.float32).to(device)
    model.config.use_cache = False
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-6, weight_decay=0.05, fused=True)
    torch.cuda.reset_peak_memory_stats()
    work = flops.step_flops(model.config, tokens=length, logit_positions=length, squared_doc_lengths=length * length)
    records = []
    for step in range(steps):
        start = (step * length) % (len(stream) - length)
        ids = torch.from_numpy(stream[start:start + length])[None].to(device)
        tick = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids, use_cache=False).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        torch.cuda.synchronize()
        seconds = time.perf_counter() - tick
        records.append({"tokens_per_s": length / seconds, "label_tokens_per_s": length / seconds,
                        "mfu": work / seconds / flops.peak_flops(device), "mfu_head_everywhere": None})
    result = _medians(records[warmup:])
    result["mfu_head_everywhere"] = result["mfu"]
    result["padding"] = 0.0
    result["peak_memory_mb"] = torch.cuda.max_memory_allocated() / 2**20
    del model, optimizer
    torch.cuda.empty_cache()
    return result


def ours(model_dir: Path, data: str, out: Path, *, steps: int, warmup: int, batch_tokens: int, max_length: int,
         seed: int, attention: str) -> dict:
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    trainer = Trainer(TrainConfig(model=str(model_dir), data=data, output=out, max_steps=steps, seed=seed,
                                  max_length=max_length, batch_tokens=batch_tokens, save_every=10**9,
                                  eval_every=10**9, attention=attention))
    trainer.run()
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()][warmup:]
    peak = flops.peak_flops(torch.device("cuda")) if torch.cuda.is_available() else None
    head = flops.matmul_params(AutoConfig.from_pretrained(model_dir))[1]
    for r in records:  # the same step, crediting the head at the positions it skipped
        r["mfu_head_everywhere"] = (r["mfu"] + 6.0 * head * (r["tokens"] - r["label_tokens"]) / r["seconds"] / peak
                                    if peak else None)
    result = _medians(records)
    result["padding"] = 0.0
    result["peak_memory_mb"] = max(r["peak_memory_mb"] for r in records) if torch.cuda.is_available() else None
    result["attention"] = trainer.attn
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return result


def _medians(records: list[dict]) -> dict:
    out = {k: statistics.median(r[k] for r in records) for k in ("tokens_per_s", "label_tokens_per_s")}
    for key in ("mfu", "mfu_head_everywhere"):
        values = [r[key] for r in records if r.get(key) is not None]
        out[key] = statistics.median(values) if values else None
    return out


def main() -> int:
    cuda = torch.cuda.is_available()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="demo-output/curated")
    parser.add_argument("--size", default="qwen2.5-coder-1.5b" if cuda else "tiny")
    parser.add_argument("--vocab-size", type=int, default=8192)
    parser.add_argument("--steps", type=int, default=14 if cuda else 8)
    parser.add_argument("--warmup", type=int, default=4 if cuda else 2)
    parser.add_argument("--batch-tokens", type=int, default=16384 if cuda else 2048)
    parser.add_argument("--max-length", type=int, default=4096 if cuda else 2048)
    parser.add_argument("--baseline-rows", default="4,8" if cuda else "4", metavar="N[,N...]",
                        help="rows a baseline step; each count is one baseline run")
    parser.add_argument("--skip-sdpa-packed", action="store_true")
    parser.add_argument("--skip-anchor", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="train-speed-"))
    model_dir = work / f"model-{args.size}"
    init_model(model_dir, args.data, size=args.size, vocab_size=args.vocab_size)
    split = tokenize(load_tokenizer(str(model_dir)), read_split(args.data, "train").rows.column("messages").to_pylist(),
                     TokenSettings(args.max_length))  # once, for the plain loops; viscode's run tokenizes its own
    lengths = split.lengths.tolist()
    row_counts = [int(n) for n in args.baseline_rows.split(",")]
    device = torch.cuda.get_device_name() if cuda else "CPU"
    print(f"device {device}; model {args.size}; {len(lengths)} train rows, mean {statistics.mean(lengths):.0f} "
          f"tokens (min {min(lengths)}, max {max(lengths)}); baseline {args.baseline_rows} rows a step; viscode "
          f"{args.batch_tokens} tokens a packed row; {args.steps} steps, first {args.warmup} not timed", flush=True)

    results = {}
    for rows in row_counts:
        try:
            results[f"baseline {rows} rows"] = baseline(model_dir, split, steps=args.steps, warmup=args.warmup,
                                                        rows=rows, seed=0)
        except torch.OutOfMemoryError:
            print(f"baseline {rows} rows: out of GPU memory", flush=True)
            torch.cuda.empty_cache()
    runs = [("viscode", "auto")] + ([] if args.skip_sdpa_packed or not cuda else [("viscode sdpa packed", "sdpa")])
    for name, attention in runs:
        out = work / f"run-{name.replace(' ', '-')}"
        shutil.rmtree(out, ignore_errors=True)
        results[name] = ours(model_dir, args.data, out, steps=args.steps, warmup=args.warmup,
                             batch_tokens=args.batch_tokens, max_length=args.max_length, seed=0, attention=attention)

    if cuda and not args.skip_anchor:
        results["anchor"] = anchor(model_dir, split, steps=args.steps, warmup=args.warmup, length=args.max_length)
    baselines = [r for name, r in results.items() if name.startswith("baseline")]
    base = max(baselines, key=lambda r: r["label_tokens_per_s"]) if baselines else None  # the one to beat
    print("\n| run | tokens/s | label tokens/s | label tokens/s vs the fastest baseline | MFU | MFU, head at every position | padding | peak GPU MiB |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        # the anchor trains every position of its row: its label tokens are not the same work
        ratio = "-" if name == "anchor" or base is None else f"{r['label_tokens_per_s'] / base['label_tokens_per_s']:.2f}x"
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "-"
        mfu_all = f"{r['mfu_head_everywhere']:.1%}" if r["mfu_head_everywhere"] is not None else "-"
        mem = f"{r['peak_memory_mb']:,.0f}" if r["peak_memory_mb"] is not None else "-"
        label = f"{name} ({r['attention']})" if "attention" in r else f"{name} (sdpa)"
        print(f"| {label} | {r['tokens_per_s']:,.0f} | {r['label_tokens_per_s']:,.0f} | "
              f"{ratio} | {mfu} | {mfu_all} | {r['padding']:.1%} | {mem} |")
    if args.json:
        args.json.write_text(json.dumps({"device": device, "size": args.size, **results}, indent=2))
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
