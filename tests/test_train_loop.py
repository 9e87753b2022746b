"""The trainer end to end on CPU: model folders, learning, loss normalisation across accumulation and
processes, exact resume after a SIGKILL, checkpoints, the final model, and one-line errors."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.train_helpers import make_curated
from viscode.cli import main
from viscode.errors import InputError
from viscode.shards import sha256_file, write_json

SMALL = ["--batch-tokens", "1024", "--max-length", "1024", "--lr", "3e-3", "--seed", "5"]


pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def curated(tmp_path_factory) -> Path:
    return make_curated(tmp_path_factory.mktemp("curated") / "out", train=60, val=8)


@pytest.fixture(scope="module")
def model(tmp_path_factory, curated) -> Path:
    folder = tmp_path_factory.mktemp("model") / "tiny"
    assert main(["train", "init", "--output", str(folder), "--data", str(curated), "--vocab-size", "512"]) == 0
    return folder


def command(args: list[str], tmp: Path, processes: int) -> tuple[list[str], dict]:
    """argv and environment of `python -m viscode.train run ARGS`, under torchrun (gloo) for several processes."""
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes)] \
        if processes > 1 else [sys.executable]
    return [*launcher, "-m", "viscode.train", "run", *args], {**os.environ, "TMPDIR": str(tmp), "OMP_NUM_THREADS": "1"}


def run_module(args: list[str], tmp: Path, *, processes: int = 1) -> subprocess.CompletedProcess:
    argv, env = command(args, tmp, processes)
    return subprocess.run(argv, check=False, env=env, capture_output=True, text=True, timeout=600)


def curve(out: Path, key: str = "loss") -> list:
    return [json.loads(line)[key] for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_init_writes_a_loadable_folder_and_refuses_others(model, curated, tmp_path, capsys):
    loaded = AutoModelForCausalLM.from_pretrained(model)
    tokenizer = AutoTokenizer.from_pretrained(model)
    assert loaded.config.model_type == "qwen2" and loaded.config.vocab_size == len(tokenizer)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "plot"}], tokenize=False,
                                         add_generation_prompt=True)
    assert text.endswith("<|im_start|>assistant\n")
    assert main(["train", "init", "--output", str(model), "--data", str(curated), "--vocab-size", "512"]) == 0
    assert "already there" in capsys.readouterr().out
    assert main(["train", "init", "--output", str(model), "--data", str(curated), "--vocab-size", "600"]) == 2
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert main(["train", "init", "--output", str(tmp_path / "other"), "--data", str(curated)]) == 2
    err = capsys.readouterr().err
    assert "other settings" in err and "holds something else" in err
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_run_learns_writes_metrics_checkpoints_and_a_loadable_model(model, curated, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "run", "--model", str(model), "--data", str(curated), "--output", str(out),
                 "--max-steps", "24", "--save-every", "8", "--keep-last", "2", "--eval-every", "12", *SMALL]) == 0
    printed = capsys.readouterr().out
    assert "final model:" in printed and "val loss" in printed
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(1, 25))
    for key in ("loss", "lr", "grad_norm", "tokens", "label_tokens", "tokens_per_s", "mfu", "peak_memory_mb"):
        assert key in records[0]
    assert all(0 < r["label_tokens"] < r["tokens"] <= 1024 for r in records)
    assert records[-1]["loss"] < 0.6 * records[0]["loss"]
    assert [r.get("val_loss") is not None for r in records].count(True) == 2  # steps 12 and 24
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-16", "step-24"]
    final = out / "final"
    card = json.loads((final / "viscode_train.json").read_text())
    assert card["base_model"] == str(model) and card["final"]["step"] == 24
    loaded = AutoModelForCausalLM.from_pretrained(final)
    assert loaded.config.model_type == "qwen2"
    assert AutoTokenizer.from_pretrained(final).chat_template


def test_one_process_accumulating_two_equals_two_processes(model, curated, tmp_path):
    """Over a whole epoch of 13 packed rows: its last step has one real micro-batch and one of weight 0."""
    common = ["--model", str(model), "--data", str(curated), "--epochs", "1", "--save-every", "100",
              *SMALL, "--batch-tokens", "1100"]
    one = run_module([*common, "--grad-accum", "2", "--output", str(tmp_path / "one")], tmp_path)
    assert one.returncode == 0, one.stderr
    assert "13 micro-batches an epoch" in one.stdout
    two = run_module([*common, "--output", str(tmp_path / "two")], tmp_path, processes=2)
    assert two.returncode == 0, two.stderr
    assert "on 2 process(es)" in two.stdout
    for key in ("loss", "lr", "grad_norm", "label_tokens"):
        assert curve(tmp_path / "one", key) == curve(tmp_path / "two", key)
    assert len(curve(tmp_path / "one")) == 7
    # the same folder resumed on another number of processes would replay other micro-batches: refused
    refused = run_module([*common, "--output", str(tmp_path / "two")], tmp_path)
    assert refused.returncode == 2 and "processes: 2 there, 1 now" in refused.stderr


@pytest.mark.parametrize("processes", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sigkill_then_rerun_gives_the_uninterrupted_curve(model, curated, tmp_path, processes):
    common = ["--model", str(model), "--data", str(curated), "--epochs", "2", "--save-every", "3", *SMALL]
    whole = run_module([*common, "--output", str(tmp_path / "whole")], tmp_path, processes=processes)
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "killed"
    argv, env = command([*common, "--output", str(out)], tmp_path, processes)
    victim = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    metrics = out / "metrics.jsonl"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and victim.poll() is None:
        if metrics.is_file() and len(metrics.read_text().splitlines()) >= 5:  # mid-epoch, between checkpoints
            break
        time.sleep(0.05)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    assert not (out / "final").exists()
    again = run_module([*common, "--output", str(out)], tmp_path, processes=processes)
    assert again.returncode == 0, again.stderr
    assert "resuming after step" in again.stdout
    for key in ("loss", "lr", "label_tokens"):
        assert curve(out, key) == curve(tmp_path / "whole", key)
    epochs = curve(out, "epoch")
    assert epochs[0] == 0 and epochs[-1] == 1  # the curve crosses an epoch boundary


def test_a_half_written_checkpoint_is_ignored_and_a_full_disk_keeps_the_last(model, curated, tmp_path, monkeypatch):
    from viscode.train import checkpoint
    from viscode.train.loop import TrainConfig, Trainer

    out = tmp_path / "run"
    config = TrainConfig(model=str(model), data=str(curated), output=out, max_steps=6, save_every=3,
                         batch_tokens=1024, max_length=1024, lr=3e-3)
    Trainer(config).run()
    shutil.rmtree(out / "checkpoints" / "step-6")
    shutil.rmtree(out / "final")
    half = out / "checkpoints" / ".tmp-step-6"
    half.mkdir()
    (half / "model.safetensors").write_bytes(b"\0" * 10)

    def full_disk(self, *args, **kwargs):  # how torch.save reports it: not an OSError
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0: file write failed")

    monkeypatch.setattr("accelerate.Accelerator.save_state", full_disk)
    with pytest.raises(InputError, match="disk full while saving step-6; step-3 is intact"):
        Trainer(config).run()
    assert [p.name for _, p in checkpoint.complete(out / "checkpoints")] == ["step-3"]
    assert not half.exists()
    monkeypatch.undo()
    report = Trainer(config).run()
    assert report.resumed_from == 3 and report.steps == 6


def test_packing_off_and_final_turn_only_run(model, curated, tmp_path):
    from viscode.train.loop import TrainConfig, Trainer

    base = {"model": str(model), "data": str(curated), "max_steps": 2, "batch_tokens": 1024, "max_length": 1024}
    unpacked = Trainer(TrainConfig(output=tmp_path / "unpacked", packing=False, **{**base, "max_steps": None},
                                   epochs=3)).run()
    assert unpacked.steps == 3 * 16  # the same padded groups every epoch, in another order
    assert [r for r in curve(tmp_path / "unpacked", "epoch")].count(2) == 16
    every = Trainer(TrainConfig(output=tmp_path / "all", kinds=("repair",), **base)).run()
    final = Trainer(TrainConfig(output=tmp_path / "final", kinds=("repair",), loss_turns="final", **base)).run()
    assert final.rows["train"]["label_tokens"] < every.rows["train"]["label_tokens"]
    assert final.rows["train"]["kept"] == every.rows["train"]["kept"] == 20  # one in three rows is a repair


def rewrite_manifest(folder: Path, change) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    change(manifest)
    write_json(manifest, folder / "manifest.json")


@pytest.fixture
def broken(curated, tmp_path):
    """A copy of the curated folder to damage."""
    copy = tmp_path / "broken"
    shutil.copytree(curated, copy)
    return copy


def test_bad_input_is_one_line_and_exit_2(model, curated, broken, tmp_path, capsys):
    def run(*args: str, data: Path = curated, model_dir: Path | str = model, output: Path | None = None) -> str:
        code = main(["train", "run", "--model", str(model_dir), "--data", str(data),  # a cache of its own:
                     "--output", str(output or tmp_path / "out"), "--max-steps", "1", *SMALL,  # a cached split
                     "--cache-dir", str(tmp_path / "cache"), *args])  # is not read again, damaged or not
        err = capsys.readouterr().err
        assert code == 2, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        return err

    assert "no such model folder" in run(model_dir=tmp_path / "no-model")
    (tmp_path / "plain").mkdir()
    assert "missing" in run(data=tmp_path / "plain")
    assert "no training rows left" in run("--library", "bokeh")
    assert "longer than --max-length 64" in run("--max-length", "64", "--batch-tokens", "64")
    assert "unknown kind" in run("--kind", "triple")
    if importlib.util.find_spec("tensorboard") is None:
        assert "tensorboard package is not installed" in run("--report-to", "tensorboard")
    assert not (tmp_path / "out").exists()  # a refused run leaves nothing behind

    rewrite_manifest(broken, lambda m: m.update(schema_version=99))
    assert "schema version 99" in run(data=broken)
    rewrite_manifest(broken, lambda m: m.update(schema_version=1))
    shard = broken / "train" / "00000.parquet"
    table = pq.read_table(shard)
    pq.write_table(table.slice(0, 10), shard)
    assert "sha256 differs" in run(data=broken)

    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    assert "holds files that are not a training run" in run(output=taken)
    assert (taken / "keep.txt").read_text() == "mine"

    done = tmp_path / "done"
    assert main(["train", "run", "--model", str(model), "--data", str(curated), "--output", str(done),
                 "--max-steps", "1", *SMALL, "--cache-dir", str(tmp_path / "cache")]) == 0
    capsys.readouterr()
    assert "lr: 0.003 there, 0.001 now" in run("--lr", "1e-3", output=done)
    other_model = tmp_path / "other-model"
    shutil.copytree(model, other_model)
    assert "model: " in run(model_dir=other_model, output=done)


def test_unreadable_shard_is_an_input_error_not_a_crash(curated, tmp_path):
    from viscode.train.data import read_split

    copy = tmp_path / "c"
    shutil.copytree(curated, copy)
    bad = copy / "val" / "00000.parquet"
    pq.write_table(pa.table({"other": [1, 2]}), bad)
    rewrite_manifest(copy, lambda m: [e.update(sha256=sha256_file(bad)) for e in m["shards"] if e["split"] == "val"])
    with pytest.raises(InputError, match="not a curated shard"):
        read_split(str(copy), "val")


def test_resume_on_changed_shards_is_refused(model, broken, tmp_path, capsys):
    args = ["train", "run", "--model", str(model), "--data", str(broken), "--output", str(tmp_path / "out"),
            "--max-steps", "1", *SMALL]
    assert main(args) == 0
    make_curated(broken, train=61, val=8)  # the same path, other shards (each verified against its manifest)
    capsys.readouterr()
    assert main(args) == 2
    assert "its shards changed since the run" in capsys.readouterr().err


def test_gradient_checkpointing_runs_and_out_of_memory_is_a_hint(model, curated, tmp_path, monkeypatch):
    import torch
    from viscode.train.loop import TrainConfig, Trainer

    base = {"model": str(model), "data": str(curated), "max_steps": 2, "batch_tokens": 1024, "max_length": 1024}
    assert Trainer(TrainConfig(output=tmp_path / "gc", gradient_checkpointing=True, **base)).run().steps == 2

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Trainer, "_step", out_of_memory)
    with pytest.raises(InputError, match="out of GPU memory at step 1 .*--batch-tokens.*--gradient-checkpointing"):
        Trainer(TrainConfig(output=tmp_path / "oom", **base)).run()
