"""Near-duplicate code: MinHash signatures over token n-grams of normalized code, LSH banding to find
candidates, and a Jaccard-estimate check to confirm them.

Every hash is derived from blake2b and fixed arithmetic, never Python's randomized hash(), so signatures
are the same in every process, run and machine, and shards signed apart can be compared.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import polars as pl

EMPTY = np.iinfo(np.uint32).max  # every entry of the signature of code with no tokens
_CHUNK_SHINGLES = 1 << 16  # shingles per permutation step: fits in cache, and numpy's per-call cost stays small
_CHUNK_PAIRS = 1 << 16  # candidate pairs compared per step: bounds the (pairs x signature) scratch


@dataclass(frozen=True, slots=True)
class MinHashConfig:
    """datatrove's defaults: 14 bands of 8 rows over 5-grams. A pair shares a band with probability
    1 - (1 - J^8)^14: ~0.93 at Jaccard 0.8, ~0.04 at 0.5; `threshold` then confirms candidates on the
    Jaccard estimated from all bands * rows entries."""

    ngram: int = 5
    bands: int = 14
    rows: int = 8
    seed: int = 1
    threshold: float = 0.7


def _words(label: str, seed: int, count: int) -> np.ndarray:
    """`count` stable pseudo-random 64-bit words for a purpose and a seed."""
    digests = b"".join(
        hashlib.blake2b(f"{label}:{seed}:{i}".encode(), digest_size=8).digest() for i in range(count)
    )
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def _token_hash(token: str) -> int:
    """A token's 64-bit word: blake2b, the same in every process (unlike hash())."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: spreads every input bit over the whole word (uint64 products wrap)."""
    x = x ^ (x >> np.uint64(30))
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def signatures(normalized: list[str], config: MinHashConfig) -> np.ndarray:
    """MinHash signatures, shape (len(normalized), bands * rows), uint32.

    Shingles are n-grams of the tokens of `viscode.codetext.normalize` output (split on single spaces); code
    with fewer than `ngram` tokens is one shingle of all of them, and empty code gets the fixed signature EMPTY.
    A shingle hashes to the mixed weighted sum of its tokens' blake2b words; permutation k maps it to
    (a_k * x + b_k) mod 2^64, and the signature keeps the top 32 bits of each minimum.
    """
    width = config.bands * config.rows
    if not normalized:
        return np.empty((0, width), dtype=np.uint32)
    texts = pl.Series(normalized, dtype=pl.String)
    nonempty = (texts != "").to_numpy()
    lists = texts.str.split(" ")
    lengths = np.where(nonempty, lists.list.len().to_numpy(), 0).astype(np.int64)
    words = lists.filter(pl.Series(nonempty)).explode()
    vocabulary = words.unique()  # blake2b once per distinct token, then a hash join
    hashes = pl.Series(list(map(_token_hash, vocabulary.to_list())), dtype=pl.UInt64)
    flat = words.replace_strict(vocabulary, hashes, return_dtype=pl.UInt64).to_numpy().astype(np.uint64, copy=False)
    # ngram - 1 zero words after every document make each window start inside a document its own shingle:
    # full n-grams, or for a short document one window over all its tokens.
    pad = config.ngram - 1
    padded = np.insert(flat, np.repeat(np.cumsum(lengths), pad), np.uint64(0))
    window = padded.size - pad
    combined = np.zeros(window, dtype=np.uint64)
    for i, weight in enumerate(_words("ngram", config.seed, config.ngram) | np.uint64(1)):
        combined += padded[i : i + window] * weight
    counts = np.where(nonempty, np.maximum(lengths - pad, 1), 0)
    segment_starts = np.cumsum(lengths + pad) - lengths - pad
    marks = np.zeros(window + 1, dtype=np.int8)  # +1 where a document's shingles begin, -1 where they end
    np.add.at(marks, segment_starts[nonempty], 1)  # add, not assign: with ngram 1 an end is the next start
    np.add.at(marks, (segment_starts + counts)[nonempty], -1)
    shingles = _mix(combined[np.cumsum(marks[:-1], dtype=np.int8).astype(bool)])
    sigs = np.full((len(normalized), width), EMPTY, dtype=np.uint32)
    sigs[nonempty] = _min_hash(shingles, counts[nonempty], config.seed, width)
    return sigs


def _min_hash(shingles: np.ndarray, counts: np.ndarray, seed: int, width: int) -> np.ndarray:
    """Per document (counts[i] >= 1 consecutive shingles), the top 32 bits of the minimum of each permutation.

    One permutation at a time over a chunk of whole documents: 1-D reduceat is several times faster than
    reducing a (shingles x permutations) block along its first axis."""
    a = _words("a", seed, width) | np.uint64(1)
    b = _words("b", seed, width)
    out = np.empty((counts.size, width), dtype=np.uint64)
    ends = np.cumsum(counts)
    first = 0
    while first < counts.size:
        last = max(int(np.searchsorted(ends, ends[first] - counts[first] + _CHUNK_SHINGLES, "right")), first + 1)
        chunk = shingles[int(ends[first] - counts[first]) : int(ends[last - 1])]
        offsets = np.r_[0, np.cumsum(counts[first : last - 1])]
        permuted = np.empty_like(chunk)
        for k in range(width):
            np.multiply(chunk, a[k], out=permuted)
            permuted += b[k]
            out[first:last, k] = np.minimum.reduceat(permuted, offsets)
        first = last
    return (out >> np.uint64(32)).astype(np.uint32)


def near_duplicate_clusters(keys: list[str], sigs: np.ndarray, config: MinHashConfig) -> list[str]:
    """For every row, the minimum key of its near-duplicate component.

    Rows whose signatures agree on a whole band are candidates; a candidate joins when the fraction of equal
    signature entries is at least `threshold`. Within a band bucket, members are compared with the bucket's
    first member in key order, those that fail with the first of the rest, and so on: a bucket of s copies costs
    s comparisons, not s^2. The price: a member that matches a joined member but not its leader is not linked
    through that band (other bands usually link it; LSH is approximate anyway). Output depends only on the
    (key, signature) pairs, not on their order.
    """
    if sigs.shape != (len(keys), config.bands * config.rows):
        raise ValueError(f"signatures of shape {sigs.shape} for {len(keys)} keys and {config}")
    if not keys:
        return []
    order = _key_order(keys)
    ranked = sigs[order]  # node i is the row with the i-th smallest key
    weights = _words("band", config.seed, config.rows)
    left, right = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for band in range(config.bands):
        columns = ranked[:, band * config.rows : (band + 1) * config.rows].astype(np.uint64)
        bucket_hash = _mix(columns @ weights)  # wraps mod 2^64; a rare collision only adds a candidate
        members = np.argsort(bucket_hash, kind="stable")  # by bucket, then by key
        buckets = bucket_hash[members]
        while members.size:  # each round: every bucket's first member leads, the members it does not confirm go on
            head = np.r_[True, buckets[1:] != buckets[:-1]]
            keep = ~(head & np.r_[head[1:], True])  # a bucket of one is done
            members, buckets, head = members[keep], buckets[keep], head[keep]
            leader = members[np.maximum.accumulate(np.where(head, np.arange(members.size), 0))]
            follower = ~head
            a, b = leader[follower], members[follower]
            joined = _similar(ranked, a, b, config.threshold)
            left.append(a[joined])
            right.append(b[joined])
            rest = np.zeros(members.size, dtype=bool)
            rest[follower] = ~joined
            members, buckets = members[rest], buckets[rest]
    return components(keys, order[np.concatenate(left)], order[np.concatenate(right)])


def _similar(sigs: np.ndarray, a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """Whether the estimated Jaccard similarity of rows a[i] and b[i] reaches the threshold."""
    needed = threshold * sigs.shape[1]
    out = np.empty(a.size, dtype=bool)
    for start in range(0, a.size, _CHUNK_PAIRS):
        part = slice(start, start + _CHUNK_PAIRS)
        out[part] = np.count_nonzero(sigs[a[part]] == sigs[b[part]], axis=1) >= needed
    return out


def _key_order(keys: list[str]) -> np.ndarray:
    """Row indices sorted by key (UTF-8 byte order, which is code point order)."""
    return pl.Series(keys, dtype=pl.String).arg_sort().to_numpy().astype(np.int64)


def components(keys: list[str], left: np.ndarray, right: np.ndarray) -> list[str]:
    """For every row, the minimum key of its connected component, given edges between rows left[i] and right[i].

    Nodes are numbered in key order, so the smallest node of a component is its minimum key."""
    order = _key_order(keys)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    parent = link(np.arange(order.size), rank[left], rank[right])
    return [keys[i] for i in order[parent[rank]]]


def link(parent: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The forest `parent` (every node points at the smallest node of its component) with the components joined
    by edges left[i]-right[i] merged; `parent` itself is left as it was.

    Union-find in numpy: roots hook onto the smaller root across every edge at once, then pointer jumping flattens
    the forest again. Edges may come in batches, so a caller with many edges holds only one batch at a time."""
    parent = parent.copy()
    a, b = left, right
    while True:
        root_a, root_b = parent[a], parent[b]
        apart = root_a != root_b
        if not apart.any():
            return parent
        a, b, root_a, root_b = a[apart], b[apart], root_a[apart], root_b[apart]
        np.minimum.at(parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
