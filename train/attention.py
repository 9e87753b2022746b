"""A variable-length attention path for packed rows: torch's flash-attention varlen kernel,
given each document's bounds, computes no attention across documents and no masked blocks at
all. transformers' sdpa path on a packed row builds a dense (T x T) mask instead, which rules
out the flash kernel (on an H100 it halved the 1.5B model's MFU: perf/train_speed.py).
Registered with transformers under VARLEN; CUDA only (the kernel has no CPU version), where
sdpa's packed mask stays exact and is used."""

from __future__ import annotations

import functools
import inspect

import torch
from transformers import AttentionInterface
from viscode.train.options import VARLEN


def varlen_available() -> bool:
    try:
        from torch.nn.attention.varlen import varlen_attn  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available()


def _varlen_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0,
                      cu_seq_lens_q=None, max_length_q=None, **kwargs):
    from torch.nn.attention.varlen import varlen_attn

    if cu_seq_lens_q is None or query.shape[0] != 1:
        raise ValueError(f"{VARLEN} attention needs one packed row and its document bounds (cu_seq_lens_q)")
    # rotary embeddings of fp32 hidden states promote q and k to fp32 under autocast; the kernel takes bf16/fp16
    dtype = query.dtype if query.dtype in (torch.float16, torch.bfloat16) else _half_dtype()
    q, k, v = (t[0].transpose(0, 1).to(dtype) for t in (query, key, value))  # (T, heads, head_dim)
    options = {"scale": scaling}
    params = _varlen_parameters()
    if "enable_gqa" in params:
        options["enable_gqa"] = k.shape[1] != q.shape[1]
    elif k.shape[1] != q.shape[1]:
        k, v = (t.repeat_interleave(q.shape[1] // t.shape[1], dim=1) for t in (k, v))
    if "is_causal" in params:
        options["is_causal"] = True
    else:
        options["window_size"] = (-1, 0)
    out = varlen_attn(q, k, v, cu_seq_lens_q, cu_seq_lens_q, max_length_q, max_length_q, **options)
    return out[None].to(query.dtype), None  # fp32 runs (no autocast) continue in fp32


@functools.cache
def _varlen_parameters():
    """Its keyword arguments changed across torch releases (is_causal, then window_size; enable_gqa)."""
    from torch.nn.attention.varlen import varlen_attn

    return inspect.signature(varlen_attn).parameters


def _half_dtype() -> torch.dtype:
    return torch.get_autocast_dtype("cuda") if torch.is_autocast_enabled("cuda") else torch.bfloat16


def _no_mask(*args, **kwargs):
    """Document bounds travel as cu_seq_lens: no mask tensor is built at all."""
    return


def register() -> None:
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(VARLEN, _varlen_attention)
    AttentionMaskInterface.register(VARLEN, _no_mask)


def varlen_kwargs(doc_lengths: list[int], device: torch.device) -> dict:
    bounds = torch.tensor([0, *doc_lengths], dtype=torch.int32).cumsum(0, dtype=torch.int32).to(device)
    return {"cu_seq_lens_q": bounds, "max_length_q": max(doc_lengths)}
