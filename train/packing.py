"""Documents to micro-batches, and the order they are seen in.

Packed (the default): best-fit-decreasing puts documents into rows of at most `capacity` tokens;
each row is one micro-batch, its positions restarting at 0 at every document, so attention never
crosses documents (transformers' packed-sequence masks find the bounds from the positions, the
varlen kernel is given them). Unpacked: documents of similar length grouped while rows x longest
fits the token budget, padded to the longest.

Either way the micro-batches are fixed once; the order is owned here, not by a sampler: epoch
e's order is a permutation of them from (seed, e), and an optimizer step takes the next world x
accumulation micro-batches, so every epoch has the same number of steps and resuming at
(epoch, step) replays exactly what an uninterrupted run would have seen.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import torch
from viscode.train.tokens import IGNORE, TokenizedSplit


def best_fit_decreasing(lengths: np.ndarray, capacity: int) -> list[list[int]]:
    """Bins of document indices, each summing to at most `capacity`; deterministic for the same lengths."""
    order = np.argsort(-lengths, kind="stable")
    free: list[tuple[int, int]] = []  # (tokens left, bin index), sorted
    bins: list[list[int]] = []
    for doc in order.tolist():
        size = int(lengths[doc])
        if size > capacity:
            raise ValueError(f"document of {size} tokens over the row capacity {capacity}")
        at = bisect.bisect_left(free, (size, -1))
        if at < len(free):
            left, b = free.pop(at)
        else:
            left, b = capacity, len(bins)
            bins.append([])
        bins[b].append(doc)
        if left - size > 0:
            bisect.insort(free, (left - size, b))
    return bins


def padded_groups(order: np.ndarray, lengths: np.ndarray, budget: int) -> list[list[int]]:
    """Consecutive documents of `order` while rows x longest stays within `budget` tokens."""
    groups, current, longest = [], [], 0
    for doc in order.tolist():
        size = int(lengths[doc])
        if current and (len(current) + 1) * max(longest, size) > budget:
            groups.append(current)
            current, longest = [], 0
        current.append(doc)
        longest = max(longest, size)
    if current:
        groups.append(current)
    return groups


@dataclass(frozen=True, slots=True)
class Plan:
    """Every epoch's micro-batches (lists of document indices), in step order."""
    packing: bool
    batch_tokens: int
    seed: int
    lengths: np.ndarray
    bins: list[list[int]]  # the micro-batches: packed rows, or groups of similar length

    @classmethod
    def make(cls, lengths: np.ndarray, *, batch_tokens: int, packing: bool, seed: int) -> Plan:
        if packing:
            bins = best_fit_decreasing(lengths, batch_tokens)
        else:
            bins = padded_groups(np.argsort(lengths, kind="stable"), lengths, batch_tokens)
        return cls(packing, batch_tokens, seed, lengths, bins)

    def epoch(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        return [self.bins[i] for i in rng.permutation(len(self.bins))]

    def micro_batches_per_epoch(self) -> int:
        return len(self.bins)

    def efficiency(self) -> float:
        """Useful tokens / token slots (the packed row's length, or rows x longest of a group)."""
        total = int(self.lengths.sum())
        if self.packing:
            return total / max(1, self.batch_tokens * len(self.bins))
        return total / max(1, sum(len(g) * int(self.lengths[g].max()) for g in self.bins))


@dataclass(slots=True)
class MicroBatch:
    input_ids: torch.Tensor      # (rows, T)
    labels: torch.Tensor         # (rows, T), IGNORE where no loss
    position_ids: torch.Tensor   # (rows, T), restarting at every document
    attention_mask: torch.Tensor | None   # unpacked rows only
    doc_lengths: list[int]       # for the varlen kernel and attention FLOPs
    tokens: int                  # real (non-pad) tokens
    label_tokens: int            # tokens carrying loss (after the shift)


def collate(split: TokenizedSplit, docs: list[int], *, packing: bool, pad_id: int) -> MicroBatch:
    ids = [split.input_ids[d] for d in docs]
    labels = [split.labels[d] for d in docs]
    lengths = [len(x) for x in ids]
    if packing:
        input_ids = torch.from_numpy(np.concatenate(ids).astype(np.int64))[None]
        label_t = torch.from_numpy(np.concatenate(labels).astype(np.int64))[None]
        positions = torch.from_numpy(np.concatenate([np.arange(n) for n in lengths]))[None]
        mask = None
    else:
        longest = max(lengths)
        input_ids = torch.full((len(ids), longest), pad_id, dtype=torch.long)
        label_t = torch.full((len(ids), longest), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(ids), longest), dtype=torch.long)
        for row, (x, y) in enumerate(zip(ids, labels)):
            input_ids[row, :len(x)] = torch.from_numpy(x.astype(np.int64))
            label_t[row, :len(y)] = torch.from_numpy(y.astype(np.int64))
            mask[row, :len(x)] = 1
        positions = torch.arange(longest).expand(len(ids), longest).clone()
    label_tokens = int((label_t[:, 1:] != IGNORE).sum())
    return MicroBatch(input_ids, label_t, positions, mask, lengths, sum(lengths), label_tokens)
