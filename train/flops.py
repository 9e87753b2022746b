"""Model FLOPs utilisation: the FLOPs a step's useful work needs, over what the device could do.

FLOPs per step = 6 x (matmul weights of the body) x real tokens + 6 x (LM head) x positions whose
logits are computed + 12 x layers x hidden x sum of squared document lengths (attention, causal
half not discounted, as torchtitan and LLaMA-Factory count it). Padding, recomputation under
gradient checkpointing and the embedding lookup are not credited.
"""

from __future__ import annotations

import torch

# dense bf16 peak, FLOP/s (torchtitan's table)
PEAK_BF16 = (("H200", 989e12), ("H100 NVL", 835e12), ("H100 PCIe", 756e12), ("H100", 989e12), ("H800", 989e12),
             ("A100", 312e12), ("A800", 312e12), ("L40S", 362e12), ("B200", 2250e12))


def peak_flops(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((peak for key, peak in PEAK_BF16 if key in name), None)


def matmul_params(config) -> tuple[int, int]:
    """(weights in the body's matmuls, weights in the LM head) of a Qwen2/Llama-style config."""
    hidden, layers = config.hidden_size, config.num_hidden_layers
    head_dim = getattr(config, "head_dim", None) or hidden // config.num_attention_heads
    q = hidden * config.num_attention_heads * head_dim
    kv = 2 * hidden * config.num_key_value_heads * head_dim
    o = config.num_attention_heads * head_dim * hidden
    mlp = 3 * hidden * config.intermediate_size
    return layers * (q + kv + o + mlp), config.vocab_size * hidden


def step_flops(config, *, tokens: int, logit_positions: int, squared_doc_lengths: int) -> float:
    body, head = matmul_params(config)
    attention = 12 * config.num_hidden_layers * config.hidden_size * squared_doc_lengths
    return 6.0 * body * tokens + 6.0 * head * logit_positions + attention
