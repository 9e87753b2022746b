"""The trainer's choices, torch-free so the command line can offer them without importing torch."""

VARLEN = "viscode_varlen"  # the attention implementation attention.py registers
PRECISIONS = ("auto", "bf16", "fp32", "pure-bf16")
ATTENTIONS = ("auto", VARLEN, "sdpa", "eager", "flex_attention")
LOSS_TURNS = ("all", "final")
REPORTERS = ("none", "tensorboard", "wandb")
