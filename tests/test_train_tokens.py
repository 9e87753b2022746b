"""Tokens, labels, packing and attention isolation of the SFT trainer (`viscode.train`), on a tiny
Qwen2 model folder built from curated data by `init_model`, all on CPU in fp32."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from transformers import AutoModelForCausalLM, AutoTokenizer
from viscode.train.data import read_split
from viscode.train.loop import micro_batch_loss
from viscode.train.model import init_model, load_tokenizer
from viscode.train.packing import Plan, best_fit_decreasing, collate, padded_groups
from viscode.train.tokenizer import DEFAULT_SYSTEM, END_OF_TEXT, IM_END, IM_START
from viscode.train.tokens import IGNORE, TokenSettings, cache_key, load_or_tokenize, tokenize

from tests.train_helpers import make_curated

FULL = TokenSettings(max_length=4096)


# -- fixtures -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    return make_curated(tmp_path_factory.mktemp("curated"), train=60, val=8, seed=0)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, curated):
    path = tmp_path_factory.mktemp("model") / "tiny"
    init_model(path, str(curated), size="tiny", vocab_size=512)
    return path


@pytest.fixture(scope="module")
def tok(model_dir):
    return load_tokenizer(str(model_dir))


@pytest.fixture(scope="module")
def conversations(curated):
    return read_split(str(curated), "train").rows.column("messages").to_pylist()


@pytest.fixture(scope="module")
def full(tok, conversations):
    """Every train row tokenized with room to spare: nothing dropped."""
    split = tokenize(tok, conversations, FULL)
    assert split.stats.kept == split.stats.rows == len(conversations)
    return split


@pytest.fixture(scope="module")
def models(model_dir):
    out = {}
    for attn in ("sdpa", "eager"):
        model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation=attn, dtype=torch.float32)
        out[attn] = model.eval()
    return out


def ids_of(encoded) -> list[int]:
    """apply_chat_template(tokenize=True) gives a list in transformers 4 and a BatchEncoding in 5."""
    if hasattr(encoded, "keys"):
        encoded = encoded["input_ids"]
    if hasattr(encoded, "tolist"):
        encoded = encoded.tolist()
    return list(encoded)


def encode(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def of_kind(conversations, n_messages: int) -> list[int]:
    """Indices of rows with `n_messages` messages (2: single turn, 4: repair dialogue)."""
    return [i for i, m in enumerate(conversations) if len(m) == n_messages]


# -- 1. the model folder and its chat template -------------------------------------------------

def test_folder_loads_and_template_renders_qwen_layout(model_dir, tok, conversations):
    model = AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation="sdpa", dtype=torch.float32)
    assert model.config.model_type == "qwen2"
    auto = AutoTokenizer.from_pretrained(model_dir)
    assert auto.is_fast and auto.chat_template
    assert model.get_input_embeddings().num_embeddings >= len(auto)

    for special in (IM_START, IM_END, END_OF_TEXT):
        ids = encode(auto, special)
        assert len(ids) == 1, (special, ids)
        assert auto.convert_ids_to_tokens(ids[0]) == special
    assert auto.eos_token == IM_END and auto.pad_token == END_OF_TEXT

    messages = conversations[0]
    assert messages[0]["role"] == "user"
    text = auto.apply_chat_template(messages, tokenize=False)
    assert text.startswith(f"{IM_START}system\n{DEFAULT_SYSTEM}{IM_END}\n{IM_START}user\n{messages[0]['content']}{IM_END}\n")
    assert text.endswith(f"{IM_START}assistant\n{messages[-1]['content']}{IM_END}\n")
    assert text.count(IM_START) == len(messages) + 1

    own_system = [{"role": "system", "content": "Be terse."}, *messages]
    rendered = auto.apply_chat_template(own_system, tokenize=False)
    assert rendered.startswith(f"{IM_START}system\nBe terse.{IM_END}\n{IM_START}user\n")
    assert DEFAULT_SYSTEM not in rendered

    prompt = auto.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith(f"{IM_END}\n{IM_START}assistant\n")

    for row in conversations[:6]:
        rendered = auto.apply_chat_template(row, tokenize=False)
        assert encode(auto, rendered) == ids_of(auto.apply_chat_template(row, tokenize=True))
        assert auto.decode(encode(auto, rendered)) == rendered


def test_loaded_tokenizer_is_the_trained_tokenizer(model_dir, tok):
    trained = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    for text in ("x = list(range(123456))\n", "ax.set_title('Chart 42')\n", "caf\u00e9 e\u0301 \u212b"):
        assert encode(tok, text) == trained.encode(text, add_special_tokens=False).ids, text


# -- 2. assistant-only labels --------------------------------------------------------------------

def assistant_span_tokens(tok, messages, loss_turns: str) -> int:
    turns = [m for m in messages if m["role"] == "assistant"]
    if loss_turns == "final":
        turns = turns[-1:]
    return sum(len(encode(tok, m["content"] + IM_END + "\n")) for m in turns)


def check_segments(tok, ids: np.ndarray, labels: np.ndarray, trained_turns: list[int]) -> None:
    """Walk the row turn by turn: header and non-trained turns carry no label; a trained assistant
    turn has every token after its `<|im_start|>assistant\\n` header labelled with itself."""
    start_id = tok.convert_tokens_to_ids(IM_START)
    end_id = tok.convert_tokens_to_ids(IM_END)
    starts = [int(i) for i in np.flatnonzero(ids == start_id)] + [len(ids)]
    assistant_index = -1
    for a, b in pairwise(starts):
        seg_ids, seg_labels = ids[a:b], labels[a:b]
        role = tok.decode(seg_ids.tolist())[len(IM_START):].split("\n", 1)[0]
        header = len(encode(tok, f"{IM_START}{role}\n"))
        assert (seg_labels[:header] == IGNORE).all(), role
        assert seg_ids[-2] == end_id and tok.decode(seg_ids[-1:].tolist()) == "\n"
        if role == "assistant":
            assistant_index += 1
        if role == "assistant" and assistant_index in trained_turns:
            assert (seg_labels[header:] == seg_ids[header:]).all()
            assert seg_labels[-2] == end_id  # the turn's end token is learned
        else:
            assert (seg_labels == IGNORE).all(), role


@pytest.mark.parametrize("loss_turns", ["all", "final"])
def test_labels_cover_exactly_the_trained_assistant_turns(tok, conversations, loss_turns):
    singles, repairs = of_kind(conversations, 2), of_kind(conversations, 4)
    assert len(singles) >= 5 and len(repairs) >= 5
    picked = singles[:5] + repairs[:5]
    rows = [conversations[i] for i in picked]
    split = tokenize(tok, rows, TokenSettings(4096, loss_turns=loss_turns))
    assert split.stats.kept == len(rows)
    expected_total = 0
    for messages, ids, labels in zip(rows, split.input_ids, split.labels):
        n_assistant = sum(m["role"] == "assistant" for m in messages)
        expected = assistant_span_tokens(tok, messages, loss_turns)
        expected_total += expected
        assert int((labels != IGNORE).sum()) == expected
        assert labels[0] == IGNORE
        trained = list(range(n_assistant)) if loss_turns == "all" else [n_assistant - 1]
        check_segments(tok, ids, labels, trained)

        learned = tok.decode(ids[labels != IGNORE].tolist())
        for m in messages:
            if m["role"] == "user":
                assert m["content"] not in learned
        assert DEFAULT_SYSTEM not in learned and "user\n" not in learned and IM_START not in learned
        turns = [m["content"] for m in messages if m["role"] == "assistant"]
        if loss_turns == "final":
            turns = turns[-1:]
        assert learned == "".join(t + IM_END + "\n" for t in turns)
        assert learned.count(IM_END) == len(turns)
    assert split.stats.label_tokens == expected_total
    assert split.stats.tokens == sum(len(x) for x in split.input_ids)


def test_final_labels_a_subset_of_all_on_repair_dialogues(tok, conversations):
    rows = [conversations[i] for i in of_kind(conversations, 4)]
    every = tokenize(tok, rows, TokenSettings(4096, loss_turns="all"))
    final = tokenize(tok, rows, TokenSettings(4096, loss_turns="final"))
    for a_ids, a_labels, f_ids, f_labels in zip(every.input_ids, every.labels, final.input_ids, final.labels):
        assert (a_ids == f_ids).all()
        assert ((f_labels == IGNORE) | (f_labels == a_labels)).all()
        assert (f_labels != IGNORE).sum() < (a_labels != IGNORE).sum()
    assert final.stats.label_tokens < every.stats.label_tokens


# -- 3. over-length rows ---------------------------------------------------------------------------

def test_over_length_rows_are_dropped_and_counted(tok, conversations, full):
    lengths = full.lengths
    limit = int(np.sort(lengths)[len(lengths) // 2])  # a real row length: that row fits exactly, kept
    assert (lengths == limit).any() and (lengths > limit).any()
    split = tokenize(tok, conversations, TokenSettings(limit))
    over = lengths > limit
    assert split.stats.rows == len(conversations)
    assert split.stats.too_long == int(over.sum())
    assert split.stats.longest_dropped == int(lengths.max())
    assert split.stats.truncated == 0
    assert split.stats.kept == len(split.input_ids) == int((~over).sum())
    assert split.lengths.max() == limit
    assert split.stats.shortest == int(lengths.min())
    kept = np.flatnonzero(~over)
    for j, i in enumerate(kept):
        assert (split.input_ids[j] == full.input_ids[i]).all()
        assert (split.labels[j] == full.labels[i]).all()
    assert split.stats.tokens == int(lengths[~over].sum())


def test_over_length_rows_are_truncated_when_asked(tok, conversations, full):
    lengths = full.lengths
    limit = int(np.sort(lengths)[len(lengths) // 2])
    split = tokenize(tok, conversations, TokenSettings(limit, truncate=True))
    over = lengths > limit
    assert split.stats.too_long == 0 and split.stats.longest_dropped == 0
    assert split.stats.truncated == int(over.sum())
    assert split.stats.kept == len(conversations)
    assert (split.lengths == np.minimum(lengths, limit)).all()
    for i in np.flatnonzero(over):
        assert len(split.input_ids[i]) == limit and len(split.labels[i]) == limit
        assert (split.input_ids[i] == full.input_ids[i][:limit]).all()
        assert (split.labels[i] == full.labels[i][:limit]).all()
    assert split.stats.label_tokens == sum(int((x != IGNORE).sum()) for x in split.labels)


def test_truncation_that_leaves_no_labels_drops_the_row(tok, conversations):
    rows = conversations[:4]
    prompt_only = min(len(encode(tok, tok.apply_chat_template(m[:1], tokenize=False, add_generation_prompt=True)))
                      for m in rows)  # no row's first answer starts within this many tokens
    split = tokenize(tok, rows, TokenSettings(prompt_only, truncate=True))
    assert split.stats.kept == 0 and split.stats.no_labels == 4 and split.stats.truncated == 4


# -- 4. special tokens' text in content ------------------------------------------------------------

def with_text(text: str, where: str) -> list[dict]:
    user = f"Plot a line{text if where == 'user' else ''}."
    answer = f"import matplotlib.pyplot as plt\nplt.plot([1, 2]){text if where == 'assistant' else ''}\n"
    return [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]


@pytest.mark.parametrize("special", [
    IM_END,
    END_OF_TEXT,
    IM_START,
])
@pytest.mark.parametrize("where", ["user", "assistant"])
def test_special_token_text_in_content_is_rejected(tok, conversations, special, where):
    rows = [conversations[0], with_text(special, where), conversations[1]]
    split = tokenize(tok, rows, FULL)
    assert split.stats.special_text == 1
    assert split.stats.rows == 3 and split.stats.kept == 2
    reference = tokenize(tok, [conversations[0], conversations[1]], FULL)
    for a, b in zip(split.input_ids, reference.input_ids):
        assert (a == b).all()


# -- 5. the token cache ----------------------------------------------------------------------------

def assert_same(a, b) -> None:
    assert len(a.input_ids) == len(b.input_ids)
    for x, y in zip(a.input_ids, b.input_ids):
        assert x.dtype == y.dtype and (x == y).all()
    for x, y in zip(a.labels, b.labels):
        assert x.dtype == y.dtype and (x == y).all()
    assert a.stats == b.stats


def test_cache_hit_returns_the_same_tokens(tmp_path, tok, conversations):
    settings = TokenSettings(300)  # some rows dropped: stats must round-trip too
    first, cached = load_or_tokenize(tmp_path, tok, conversations, "digest-a", settings)
    assert cached is False and first.stats.too_long > 0
    second, cached = load_or_tokenize(tmp_path, tok, conversations, "digest-a", settings)
    assert cached is True
    assert_same(first, second)
    assert_same(first, tokenize(tok, conversations, settings))
    # a hit does not tokenize at all: the conversations are not even read
    third, cached = load_or_tokenize(tmp_path, tok, [], "digest-a", settings)
    assert cached is True
    assert_same(first, third)


def test_cache_key_follows_settings_data_and_tokenizer(tmp_path, tok, model_dir, conversations):
    base = cache_key(tok, "digest-a", FULL)
    assert base == cache_key(load_tokenizer(str(model_dir)), "digest-a", TokenSettings(4096, "all", False))
    others = [cache_key(tok, "digest-b", FULL), cache_key(tok, "digest-a", TokenSettings(4095)),
              cache_key(tok, "digest-a", TokenSettings(4096, loss_turns="final")),
              cache_key(tok, "digest-a", TokenSettings(4096, truncate=True))]
    assert len({base, *others}) == 5

    changed = load_tokenizer(str(model_dir))
    changed.chat_template = changed.chat_template.replace("helpful", "useful")
    assert cache_key(changed, "digest-a", FULL) != base

    rows = conversations[:6]
    _, cached = load_or_tokenize(tmp_path, tok, rows, "digest-a", FULL)
    assert cached is False
    final, cached = load_or_tokenize(tmp_path, tok, rows, "digest-a", TokenSettings(4096, loss_turns="final"))
    assert cached is False
    assert final.stats.label_tokens < tokenize(tok, rows, FULL).stats.label_tokens
    _, cached = load_or_tokenize(tmp_path, tok, rows[:3], "digest-b", FULL)
    assert cached is False
    assert len(list(tmp_path.glob("*.parquet"))) == 3


@pytest.mark.parametrize("damage", ["garbage", "half", "empty", "stats"])
def test_damaged_cache_entry_is_rebuilt(tmp_path, tok, conversations, damage):
    rows = conversations[:10]
    first, _ = load_or_tokenize(tmp_path, tok, rows, "digest-a", FULL)
    key = cache_key(tok, "digest-a", FULL)
    shard, stats = tmp_path / f"{key}.parquet", tmp_path / f"{key}.json"
    assert shard.is_file() and stats.is_file()
    if damage == "garbage":
        shard.write_bytes(b"not a parquet file at all" * 10)
    elif damage == "half":
        blob = shard.read_bytes()
        shard.write_bytes(blob[:len(blob) // 2])
    elif damage == "empty":
        shard.write_bytes(b"")
    else:
        stats.write_text('{"rows": 10, "kept": ')
    rebuilt, cached = load_or_tokenize(tmp_path, tok, rows, "digest-a", FULL)
    assert cached is False
    assert_same(first, rebuilt)
    again, cached = load_or_tokenize(tmp_path, tok, rows, "digest-a", FULL)
    assert cached is True
    assert_same(first, again)


# -- 6. packing and epoch order ----------------------------------------------------------------------

def lognormal_lengths(seed: int = 0, n: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.lognormal(5.5, 0.9, n), 16, 1024).astype(np.int64)


def reference_best_fit(lengths: np.ndarray, capacity: int) -> list[list[int]]:
    """Plain best-fit-decreasing: the fullest bin that still fits, lowest index on ties."""
    bins, left = [], []
    for doc in sorted(range(len(lengths)), key=lambda d: -int(lengths[d])):
        size = int(lengths[doc])
        fits = [(left[b], b) for b in range(len(bins)) if left[b] >= size]
        if fits:
            _, b = min(fits)
        else:
            b = len(bins)
            bins.append([])
            left.append(capacity)
        bins[b].append(doc)
        left[b] -= size
    return bins


def test_best_fit_decreasing_packs_everything_tightly():
    capacity = 4096
    lengths = lognormal_lengths()
    bins = best_fit_decreasing(lengths, capacity)
    flat = sorted(d for b in bins for d in b)
    assert flat == list(range(len(lengths)))
    assert all(int(lengths[b].sum()) <= capacity for b in bins)
    assert all(b for b in bins)
    assert best_fit_decreasing(lengths.copy(), capacity) == bins
    efficiency = lengths.sum() / (len(bins) * capacity)
    assert efficiency >= 0.99, efficiency
    assert bins == reference_best_fit(lengths, capacity)


def test_best_fit_decreasing_edges():
    assert best_fit_decreasing(np.array([4096, 4096, 1]), 4096) == [[0], [1], [2]]
    assert best_fit_decreasing(np.array([3, 5, 2, 6]), 8) == [[3, 2], [1, 0]]
    assert best_fit_decreasing(np.array([], dtype=np.int64), 8) == []
    with pytest.raises(ValueError, match="over the row capacity"):
        best_fit_decreasing(np.array([10, 4097]), 4096)


def test_plan_epochs_reorder_the_same_bins():
    lengths = lognormal_lengths(1, 600)
    plan = Plan.make(lengths, batch_tokens=4096, packing=True, seed=3)
    e0, e1 = plan.epoch(0), plan.epoch(1)
    assert e0 != e1
    assert sorted(map(tuple, e0)) == sorted(map(tuple, e1)) == sorted(map(tuple, plan.bins))
    assert plan.micro_batches_per_epoch() == len(plan.bins) == len(e0)
    again = Plan.make(lengths.copy(), batch_tokens=4096, packing=True, seed=3)
    assert again.epoch(0) == e0 and again.epoch(1) == e1
    assert Plan.make(lengths, batch_tokens=4096, packing=True, seed=4).epoch(0) != e0
    assert plan.efficiency() == pytest.approx(lengths.sum() / (4096 * len(plan.bins)))

    unpacked = Plan.make(lengths, batch_tokens=4096, packing=False, seed=3)
    u0, u1 = unpacked.epoch(0), unpacked.epoch(1)
    assert sorted(d for g in u0 for d in g) == list(range(len(lengths)))
    assert [d for g in u0 for d in g] != [d for g in u1 for d in g]
    assert unpacked.epoch(0) == u0
    assert 0 < unpacked.efficiency() <= 1


@pytest.mark.parametrize("budget", [1000, 4096])
def test_padded_groups_stay_within_the_token_budget(budget):
    lengths = lognormal_lengths(2, 800)
    lengths[[5, 17]] = [1500, 1024]  # over the smaller budget: alone in their group
    order = np.random.default_rng(7).permutation(len(lengths))
    groups = padded_groups(order, lengths, budget)
    assert [d for g in groups for d in g] == order.tolist()
    for i, g in enumerate(groups):
        cost = len(g) * int(lengths[g].max())
        assert cost <= budget or len(g) == 1, (g, cost)
        if i + 1 < len(groups):  # greedy: the next document would not have fitted
            nxt = groups[i + 1][0]
            assert (len(g) + 1) * max(int(lengths[g].max()), int(lengths[nxt])) > budget
    if budget == 1000:
        assert [5] in groups


# -- 7. collate ----------------------------------------------------------------------------------------

def test_collate_packed_row(tok, full):
    docs = [3, 0, 7]
    batch = collate(full, docs, packing=True, pad_id=tok.pad_token_id)
    lengths = [len(full.input_ids[d]) for d in docs]
    total = sum(lengths)
    assert batch.input_ids.shape == batch.labels.shape == batch.position_ids.shape == (1, total)
    assert batch.attention_mask is None
    assert batch.input_ids.dtype == batch.labels.dtype == torch.long
    assert batch.doc_lengths == lengths and batch.tokens == total
    assert batch.input_ids[0].tolist() == np.concatenate([full.input_ids[d] for d in docs]).tolist()
    assert batch.labels[0].tolist() == np.concatenate([full.labels[d] for d in docs]).tolist()
    starts = np.cumsum([0, *lengths[:-1]])
    positions = batch.position_ids[0]
    assert positions.tolist() == [p for n in lengths for p in range(n)]
    assert (positions[starts] == 0).all() and int((positions == 0).sum()) == len(docs)
    assert (batch.labels[0, starts] == IGNORE).all()
    assert batch.label_tokens == int((batch.labels[:, 1:] != IGNORE).sum())
    assert batch.label_tokens == sum(int((full.labels[d] != IGNORE).sum()) for d in docs)


def test_collate_unpacked_rows_pad_and_mask(tok, full):
    docs = [3, 0, 7]
    pad = tok.pad_token_id
    batch = collate(full, docs, packing=False, pad_id=pad)
    lengths = [len(full.input_ids[d]) for d in docs]
    longest = max(lengths)
    assert batch.input_ids.shape == batch.labels.shape == batch.attention_mask.shape == (3, longest)
    assert batch.position_ids.shape == (3, longest)
    assert batch.doc_lengths == lengths and batch.tokens == sum(lengths)
    for row, (d, n) in enumerate(zip(docs, lengths)):
        assert batch.attention_mask[row, :n].eq(1).all() and batch.attention_mask[row, n:].eq(0).all()
        assert batch.input_ids[row, :n].tolist() == full.input_ids[d].tolist()
        assert batch.input_ids[row, n:].eq(pad).all()
        assert batch.labels[row, :n].tolist() == full.labels[d].tolist()
        assert batch.labels[row, n:].eq(IGNORE).all()
        assert batch.position_ids[row].tolist() == list(range(longest))
    assert batch.label_tokens == sum(int((full.labels[d] != IGNORE).sum()) for d in docs)


# -- 8. attention isolation in packed rows -------------------------------------------------------------

DOCS = [3, 0, 7]  # a repair dialogue and two single turns (checked below)


@pytest.fixture(scope="module")
def packed(tok, full, conversations):
    assert [len(conversations[d]) for d in DOCS] == [4, 4, 2]
    return collate(full, DOCS, packing=True, pad_id=tok.pad_token_id)


def alone_logits(model, full, docs) -> list[torch.Tensor]:
    with torch.no_grad():
        return [model(input_ids=torch.from_numpy(full.input_ids[d].astype(np.int64))[None], use_cache=False).logits[0]
                for d in docs]


def per_doc_max_delta(packed_logits: torch.Tensor, alone: list[torch.Tensor], lengths: list[int]) -> list[float]:
    out, at = [], 0
    for logits, n in zip(alone, lengths):
        out.append(float((packed_logits[at:at + n] - logits).abs().max()))
        at += n
    return out


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
def test_packed_documents_do_not_attend_to_each_other(models, full, packed, attn):
    model = models[attn]
    assert model.config._attn_implementation == attn
    alone = alone_logits(model, full, DOCS)
    with torch.no_grad():
        logits = model(input_ids=packed.input_ids, position_ids=packed.position_ids, use_cache=False).logits[0]
    deltas = per_doc_max_delta(logits, alone, packed.doc_lengths)
    assert max(deltas) < 1e-4, deltas

    # negative control: an all-ones mask turns off the packed-sequence mask, and documents see their neighbours
    with torch.no_grad():
        leaky = model(input_ids=packed.input_ids, position_ids=packed.position_ids,
                      attention_mask=torch.ones_like(packed.input_ids), use_cache=False).logits[0]
    leaked = per_doc_max_delta(leaky, alone, packed.doc_lengths)
    assert leaked[0] < 1e-4, leaked  # the first document has nothing before it
    assert min(leaked[1:]) > 1e-3, leaked


def summed_ce_alone(model, full, docs) -> tuple[float, int]:
    total, count = 0.0, 0
    for d, logits in zip(docs, alone_logits(model, full, docs)):
        labels = torch.from_numpy(full.labels[d].astype(np.int64))
        total += float(F.cross_entropy(logits[:-1], labels[1:], ignore_index=IGNORE, reduction="sum"))
        count += int((labels[1:] != IGNORE).sum())
    return total, count


def test_micro_batch_loss_equals_documents_run_alone(models, full, packed):
    model = models["sdpa"]
    expected, count = summed_ce_alone(model, full, DOCS)
    assert count == packed.label_tokens
    with torch.no_grad():
        loss = micro_batch_loss(model, packed, torch.device("cpu"), "sdpa")
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert float(loss) == pytest.approx(expected, rel=1e-5)  # contamination moves it ~6e-4
    assert 0.5 * np.log(model.config.vocab_size) < float(loss) / count < 2 * np.log(model.config.vocab_size)


def test_micro_batch_loss_unpacked_equals_documents_run_alone(tok, models, full):
    model = models["sdpa"]
    expected, count = summed_ce_alone(model, full, DOCS)
    batch = collate(full, DOCS, packing=False, pad_id=tok.pad_token_id)
    assert batch.label_tokens == count
    with torch.no_grad():
        loss = micro_batch_loss(model, batch, torch.device("cpu"), "sdpa")
    assert float(loss) == pytest.approx(expected, rel=1e-5)  # contamination moves it ~6e-4


def test_micro_batch_loss_backpropagates(models, full, packed):
    model = models["sdpa"]
    model.zero_grad(set_to_none=True)
    loss = micro_batch_loss(model, packed, torch.device("cpu"), "sdpa")
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    model.zero_grad(set_to_none=True)



def test_tokenizing_over_processes_gives_the_same_rows_in_order(tok, conversations):
    """Large sets are split over spawned processes; the result must not depend on it."""
    rows = (conversations * 10)[:600]  # two batches of 512 and 88
    rows[3] = with_text(IM_END, "user")
    settings = TokenSettings(max_length=300)
    alone = tokenize(tok, rows, settings)
    spread = tokenize(tok, rows, settings, workers=2)
    assert spread.stats == alone.stats and alone.stats.special_text == 1 and alone.stats.too_long > 0
    assert len(spread.input_ids) == len(alone.input_ids)
    for a, b, c, d in zip(alone.input_ids, spread.input_ids, alone.labels, spread.labels):
        assert (a == b).all() and (c == d).all()
