"""Model shapes `viscode train init` builds from a config (random init, no download).

The named Qwen2.5-Coder sizes are the published configs (hidden, layers, heads, vocabulary),
so throughput measured on them is throughput of the real model; `tiny` and `small` are for
tests and the demo and take their vocabulary from the tokenizer trained with them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

QWEN_VOCAB = 151936


@dataclass(frozen=True, slots=True)
class ModelShape:
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int | None  # None: the tokenizer's own size
    tie_word_embeddings: bool = True
    max_position_embeddings: int = 32768

    def config_kwargs(self, tokenizer_vocab: int) -> dict:
        kwargs = asdict(self)
        kwargs["vocab_size"] = self.vocab_size or tokenizer_vocab
        return kwargs


SIZES: dict[str, ModelShape] = {
    "tiny": ModelShape(64, 128, 2, 4, 2, None, max_position_embeddings=4096),
    "small": ModelShape(256, 704, 4, 4, 2, None, max_position_embeddings=8192),
    "qwen2.5-coder-0.5b": ModelShape(896, 4864, 24, 14, 2, QWEN_VOCAB),
    "qwen2.5-coder-1.5b": ModelShape(1536, 8960, 28, 12, 2, QWEN_VOCAB),
    "qwen2.5-coder-3b": ModelShape(2048, 11008, 36, 16, 2, QWEN_VOCAB),
    "qwen2.5-coder-7b": ModelShape(3584, 18944, 28, 28, 4, 152064, tie_word_embeddings=False),
}
