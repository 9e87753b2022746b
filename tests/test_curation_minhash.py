"""MinHash near-duplicate code detection: edited copies cluster, unrelated programs do not, signatures are the
same in every process and batch, estimates track the true Jaccard, and clusters do not depend on row order."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from viscode.curation.minhash import EMPTY, MinHashConfig, components, near_duplicate_clusters, signatures

from viscode.codetext import normalize

CONFIG = MinHashConfig()
WIDTH = CONFIG.bands * CONFIG.rows

RAINFALL = '''import matplotlib.pyplot as plt
import numpy as np

# Monthly rainfall in three cities
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
oslo = [49, 36, 47, 41, 53, 65, 81, 89, 90, 84, 73, 55]
lima = [1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1]
perth = [15, 9, 20, 36, 90, 127, 145, 122, 80, 38, 23, 11]

x = np.arange(len(months))
width = 0.27
fig, ax = plt.subplots(figsize=(9, 4))
ax.bar(x - width, oslo, width, label="Oslo", color="#4477aa")
ax.bar(x, lima, width, label="Lima", color="#ee6677")
ax.bar(x + width, perth, width, label="Perth", color="#228833")
ax.set_xticks(x)
ax.set_xticklabels(months)
ax.set_ylabel("Rainfall (mm)")
ax.set_title("Monthly rainfall")
ax.legend(loc="upper left")
ax.grid(axis="y", alpha=0.3)
plt.tight_layout()
plt.savefig("rainfall.png")
'''
# Another layout, comments and quotes (normalize removes those), one literal changed and a variable renamed.
RAINFALL_EDITED = (RAINFALL.replace("width = 0.27", "width = 0.25").replace("perth", "perth_mm")
                   .replace('"', "'").replace("# Monthly rainfall in three cities\n", "\n\n"))
TIPS = '''import seaborn as sns
import pandas as pd

tips = pd.DataFrame({
    "day": ["Thu", "Fri", "Sat", "Sun"] * 3,
    "total": [16.9, 10.3, 21.0, 23.7, 24.6, 25.3, 8.8, 26.9, 15.0, 14.8, 10.3, 16.0],
    "smoker": ["yes", "no"] * 6,
})
g = sns.catplot(data=tips, x="day", y="total", hue="smoker", kind="violin", split=True)
g.set_axis_labels("Day", "Total bill")
g.figure.suptitle("Bills by day")
g.savefig("tips.png")
'''
GAPMINDER = '''import plotly.express as px

df = px.data.gapminder().query("year == 2007")
fig = px.scatter(df, x="gdpPercap", y="lifeExp", size="pop", color="continent", log_x=True, size_max=60,
                 hover_name="country", title="Life expectancy against GDP per capita, 2007")
fig.update_layout(template="plotly_white")
fig.write_image("gapminder.png")
'''
SINE = '''import matplotlib.pyplot as plt
import numpy as np

x = np.linspace(0, 2 * np.pi, 200)
plt.plot(x, np.sin(x), label="sin")
plt.plot(x, np.cos(x), label="cos")
plt.legend()
plt.title("Waves")
plt.savefig("waves.png")
'''


def _estimate(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def test_copies_and_light_edits_cluster_unrelated_programs_do_not():
    rows = {"rain": RAINFALL, "tips": TIPS, "rain-copy": RAINFALL, "gap": GAPMINDER, "rain-edit": RAINFALL_EDITED,
            "sine": SINE}
    keys = list(rows)
    sigs = signatures([normalize(code) for code in rows.values()], CONFIG)
    assert sigs.shape == (len(rows), WIDTH) and sigs.dtype == np.uint32
    assert np.array_equal(sigs[0], sigs[2])
    assert 0.75 <= _estimate(sigs[0], sigs[4]) < 1.0
    reps = dict(zip(keys, near_duplicate_clusters(keys, sigs, CONFIG), strict=True))
    assert reps == {"rain": "rain", "rain-copy": "rain", "rain-edit": "rain", "tips": "tips", "gap": "gap",
                    "sine": "sine"}


def test_threshold_decides_edited_copies():
    sigs = signatures([normalize(RAINFALL), normalize(RAINFALL_EDITED)], CONFIG)
    strict = MinHashConfig(threshold=0.99)
    assert near_duplicate_clusters(["a", "b"], sigs, strict) == ["a", "b"]
    assert near_duplicate_clusters(["a", "b"], sigs, CONFIG) == ["a", "a"]


def _shingles(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def test_estimates_track_the_true_jaccard():
    rng = random.Random(4)
    vocabulary = [f"t{i}" for i in range(40)]
    base = [rng.choice(vocabulary) for _ in range(400)]
    errors = []
    for changed in (10, 40, 100, 200, 300):
        other = list(base)
        for position in rng.sample(range(len(base)), changed):
            other[position] = rng.choice(vocabulary)
        first, second = _shingles(base, 5), _shingles(other, 5)
        truth = len(first & second) / len(first | second)
        sigs = signatures([" ".join(base), " ".join(other)], CONFIG)
        errors.append(abs(_estimate(sigs[0], sigs[1]) - truth))
    assert max(errors) < 0.15  # 3 standard deviations of a 112-entry estimate
    assert np.mean(errors) < 0.06


def test_signature_of_a_program_does_not_depend_on_its_batch():
    docs = [normalize(code) for code in (RAINFALL, TIPS, GAPMINDER, SINE)] + ["", "a", "a b c d", "a b c d e", "x  y"]
    random.Random(1).shuffle(docs)
    for config in (CONFIG, MinHashConfig(ngram=1), MinHashConfig(ngram=3, bands=4, rows=5, seed=9)):
        batch = signatures(docs, config)
        alone = np.vstack([signatures([doc], config) for doc in docs])
        assert np.array_equal(batch, alone)


def test_short_and_empty_code():
    sigs = signatures(["", "plt . show ( )", "plt . show", "", "show plt ."], CONFIG)
    assert (sigs[0] == EMPTY).all() and np.array_equal(sigs[0], sigs[3])
    assert (sigs[1:3] != EMPTY).any(axis=1).all()
    assert not np.array_equal(sigs[1], sigs[2])  # fewer tokens than the n-gram: one shingle of all of them
    assert not np.array_equal(sigs[2], sigs[4])  # ... in order
    assert signatures([], CONFIG).shape == (0, WIDTH)


def test_seed_and_shape_follow_the_config():
    doc = [normalize(RAINFALL)]
    other = MinHashConfig(bands=5, rows=3, seed=2)
    assert signatures(doc, other).shape == (1, 15)
    assert not np.array_equal(signatures(doc, MinHashConfig(seed=2)), signatures(doc, CONFIG))


_CHILD = """
import json, sys
from viscode.codetext import normalize
from viscode.curation.minhash import MinHashConfig, signatures
docs = json.loads(sys.stdin.read())
print(json.dumps(signatures([normalize(d) for d in docs], MinHashConfig()).tolist()))
"""


def test_signatures_are_the_same_in_other_processes():
    docs = [RAINFALL, TIPS, GAPMINDER, SINE]
    here = signatures([normalize(d) for d in docs], CONFIG)
    assert np.array_equal(here, signatures([normalize(d) for d in docs], CONFIG))
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps(docs), capture_output=True,
                              text=True, env=env, check=True, timeout=120)
        assert np.array_equal(np.array(json.loads(done.stdout), dtype=np.uint32), here)
    # Pinned: a change of hashing would silently stop old and new shards from matching.
    pinned = signatures(["import matplotlib . pyplot as plt ; plt . show ( ) ;"], CONFIG)[0, :4].tolist()
    assert pinned == [50511606, 346263939, 110958991, 697927889]


def test_clusters_do_not_depend_on_row_order():
    programs = [RAINFALL, RAINFALL_EDITED, TIPS, GAPMINDER, SINE, RAINFALL, TIPS.replace("violin", "box")]
    keys = [f"k{i}" for i in range(len(programs))]
    sigs = signatures([normalize(p) for p in programs], CONFIG)
    expected = dict(zip(keys, near_duplicate_clusters(keys, sigs, CONFIG), strict=True))
    assert expected == {"k0": "k0", "k1": "k0", "k2": "k2", "k3": "k3", "k4": "k4", "k5": "k0", "k6": "k2"}
    for seed in range(4):
        order = list(range(len(keys)))
        random.Random(seed).shuffle(order)
        shuffled = near_duplicate_clusters([keys[i] for i in order], sigs[order], CONFIG)
        assert dict(zip([keys[i] for i in order], shuffled, strict=True)) == expected


def test_a_bucket_leader_that_rejects_everyone_does_not_hide_a_pair():
    rng = np.random.default_rng(0)
    shared_band = rng.integers(0, 2**32, CONFIG.rows, dtype=np.uint32)
    a, b = rng.integers(0, 2**32, (2, WIDTH), dtype=np.uint32)
    c = b.copy()
    last_of_each_band = np.arange(2 * CONFIG.rows - 1, WIDTH, CONFIG.rows)
    c[last_of_each_band] += 1  # b and c share no band but band 0, and 99 of 112 entries
    sigs = np.vstack([a, b, c])
    sigs[:, : CONFIG.rows] = shared_band  # one bucket in band 0, led by "a", which matches nobody
    assert near_duplicate_clusters(["a", "b", "c"], sigs, CONFIG) == ["a", "b", "b"]


def test_cluster_input_checks():
    assert near_duplicate_clusters([], np.empty((0, WIDTH), dtype=np.uint32), CONFIG) == []
    with pytest.raises(ValueError, match="shape"):
        near_duplicate_clusters(["a"], np.zeros((1, 3), dtype=np.uint32), CONFIG)


def test_components_join_chains_to_their_minimum_key():
    keys = ["d", "b", "e", "a", "c"]
    assert components(keys, np.array([0, 2]), np.array([1, 0])) == ["b", "b", "b", "a", "c"]
    assert components(keys, np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == keys
