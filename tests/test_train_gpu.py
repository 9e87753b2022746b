"""Trainer checks that need CUDA: the varlen attention path keeps packed documents apart, and a
short packed run learns and resumes. Skipped where no GPU is present."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from tests.train_helpers import make_curated

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    from viscode.train.model import init_model

    base = tmp_path_factory.mktemp("gpu")
    curated = make_curated(base / "curated", train=80, val=8)
    init_model(base / "model", str(curated), size="small", vocab_size=1024)
    return curated, base / "model"


def test_varlen_packed_logits_equal_each_document_alone(folders):
    from transformers import AutoModelForCausalLM
    from viscode.train import attention
    from viscode.train.data import read_split
    from viscode.train.model import load_tokenizer
    from viscode.train.packing import collate
    from viscode.train.tokens import TokenSettings, tokenize

    curated, model_dir = folders
    attention.register()
    tokenizer = load_tokenizer(str(model_dir))
    split = tokenize(tokenizer, read_split(str(curated), "train").rows.column("messages").to_pylist()[:3],
                     TokenSettings(4096))
    models = {name: AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation=name,
                                                         dtype=torch.bfloat16).cuda().eval()
              for name in (attention.VARLEN, "sdpa")}
    packed = collate(split, [0, 1, 2], packing=True, pad_id=0)
    with torch.no_grad():
        together = models[attention.VARLEN](
            input_ids=packed.input_ids.cuda(), position_ids=packed.position_ids.cuda(), use_cache=False,
            **attention.varlen_kwargs(packed.doc_lengths, torch.device("cuda"))).logits[0].float()
        alone = torch.cat([models["sdpa"](input_ids=torch.from_numpy(split.input_ids[d]).long()[None].cuda(),
                                          use_cache=False).logits[0].float() for d in range(3)])
        crossed = models["sdpa"](input_ids=packed.input_ids.cuda(), use_cache=False).logits[0].float()
    scale = alone.abs().max().item()
    assert (together - alone).abs().max().item() < 0.03 * scale
    # the control: the same row without document bounds attends across documents
    assert (crossed - alone).abs().max().item() > 3 * (together - alone).abs().max().item()


def test_packed_run_on_gpu_learns_and_resumes(folders, tmp_path):
    """GPU kernels (flash backward) are not bitwise deterministic, so the resumed run is compared where it
    must be exact: the first step after the checkpoint is a forward pass of the saved weights on the same
    data, and the next one adds a single step of kernel noise."""
    from viscode.train.loop import TrainConfig, Trainer

    curated, model_dir = folders
    config = TrainConfig(model=str(model_dir), data=str(curated), output=tmp_path / "run", max_steps=12,
                         batch_tokens=4096, max_length=4096, lr=2e-3, save_every=6, seed=3)
    trainer = Trainer(config)
    report = trainer.run()
    assert trainer.attn == "viscode_varlen"
    assert report.last_loss < 0.7 * report.first_loss
    metrics = tmp_path / "run" / "metrics.jsonl"
    before = [json.loads(line)["loss"] for line in metrics.read_text().splitlines()]
    shutil.rmtree(tmp_path / "run" / "checkpoints" / "step-12")  # as if it crashed after saving step 6
    assert Trainer(config).run().resumed_from == 6
    after = [json.loads(line)["loss"] for line in metrics.read_text().splitlines()]
    assert len(after) == 12 and after[:6] == before[:6]
    assert abs(after[6] - before[6]) < 1e-5 * before[6]
    assert abs(after[7] - before[7]) < 1e-3 * before[7]


@pytest.mark.parametrize("precision", ["fp32", "pure-bf16"])
def test_varlen_runs_in_every_precision(folders, tmp_path, precision):
    """The kernel takes bf16 only: fp32 runs cast around it and continue in fp32."""
    from viscode.train.loop import TrainConfig, Trainer

    curated, model_dir = folders
    trainer = Trainer(TrainConfig(model=str(model_dir), data=str(curated), output=tmp_path / precision, max_steps=2,
                                  batch_tokens=4096, max_length=4096, precision=precision))
    report = trainer.run()
    assert trainer.attn == "viscode_varlen" and report.steps == 2 and 0 < report.last_loss < 20
