"""The global decisions over the narrow index, one filter at a time: which rows ran and
drew a usable image, which survive exact, near-code and near-image deduplication and
the balance caps. Each filter takes the kept rows and returns them with its stage record.

Every winner is chosen by a stable key (`order`: snippet id, then grid job, shard and
row), never by scan order, so the same inputs give the same survivors however files
are listed or threads scheduled. Only small columns are collected; code text and PNG
bytes stay on disk.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from viscode.curation.images import image_clusters
from viscode.curation.minhash import MinHashConfig, near_duplicate_clusters
from viscode.curation.stages import Stage

from viscode.errors import InputError

ORDER = pl.concat_str([pl.col("id"), pl.col("shard"), pl.col("row").cast(pl.String).str.zfill(12)], separator="\x1f")
FAILED = pl.col("reason").str.starts_with("status_")  # the row did not run ok (null: it passed every check)


@dataclass(frozen=True, slots=True)
class Caps:
    """Most rows kept per library and per chart kind (the paper capped matplotlib)."""
    library: tuple[tuple[str, int], ...] = ()
    chart_kind: tuple[tuple[str, int], ...] = ()


def stable_fraction(key: str, salt: str) -> float:
    """A number in [0, 1) fixed by `key`: sampling and splits that never change between runs."""
    return int(hashlib.sha256(f"{salt}:{key}".encode()).hexdigest()[:12], 16) / 16**12


def stable_fraction_of(column: str, salt: str) -> pl.Expr:
    """`stable_fraction` of every value of a string column, the whole column hashed in one call."""
    return pl.col(column).map_batches(
        lambda keys: pl.Series([stable_fraction(key, salt) for key in keys], dtype=pl.Float64),
        return_dtype=pl.Float64)


def index_rows(index_paths: list[Path]) -> pl.LazyFrame:
    """Every analysed row with its stable key."""
    return pl.scan_parquet(index_paths).with_columns(ORDER.alias("order"))


def check_ids(index: pl.LazyFrame) -> None:
    """The same id must mean the same program (up to comments and layout), or provenance
    would be ambiguous. Only kept rows matter: a failed row never reaches the output."""
    clash = (index.filter(pl.col("reason").is_null())
             .group_by("id").agg(pl.col("code_key").n_unique().alias("codes"), pl.col("shard").min().alias("a"),
                                      pl.col("shard").max().alias("b"))
             .filter(pl.col("codes") > 1).sort("id").head(1).collect(engine="streaming"))
    if clash.height:
        row = clash.row(0, named=True)
        raise InputError(f"snippet id {row['id']!r} names different code in {row['a']} and {row['b']}")


def _reasons(index: pl.LazyFrame) -> dict[str | None, int]:
    return dict(index.group_by("reason").len().collect(engine="streaming").iter_rows())


def ran_ok(index: pl.LazyFrame) -> Stage:
    """Rows whose snippet ran without error or timeout."""
    counts = _reasons(index)
    failed = {k: v for k, v in counts.items() if k and k.startswith("status_")}
    total = sum(counts.values())
    return Stage("ran ok", total, total - sum(failed.values()), failed)


def usable_image(index: pl.LazyFrame) -> tuple[pl.DataFrame, Stage]:
    """Rows that ran ok and drew an image that passed the checks, as the narrow kept rows."""
    counts = _reasons(index.filter(~FAILED.fill_null(False)))
    images = {k: v for k, v in counts.items() if k}
    ran = sum(counts.values())
    frame = (index.filter(pl.col("reason").is_null())
             .select("order", "shard", "row", "id", "code_key", "image_index", "image_phash", "library",
                     "chart_kinds", "data_origin")
             .sort("order").collect(engine="streaming"))
    return frame, Stage("usable image", ran, ran - sum(images.values()), images)


def exact_dedup(frame: pl.DataFrame) -> tuple[pl.DataFrame, Stage]:
    """One row per normalized code: the smallest `order` of each."""
    winners = frame.group_by("code_key").agg(pl.col("order").min())
    exact = frame.join(winners, on="order", how="semi").sort("order").drop("code_key")
    return exact, Stage("exact code dedup", frame.height, exact.height, {"duplicate_code": frame.height - exact.height})


def _keep_representatives(frame: pl.DataFrame, representatives: list[str]) -> pl.DataFrame:
    return frame.filter(pl.Series(representatives) == frame["order"])


def near_duplicate_code(frame: pl.DataFrame, index: pl.LazyFrame, minhash: MinHashConfig,
                        ) -> tuple[pl.DataFrame, Stage]:
    """One row per MinHash-LSH cluster of code; signatures come from the index, only for these rows."""
    width = minhash.bands * minhash.rows  # straight into one uint32 array
    sigs = (index.join(frame.lazy().select("order"), on="order", how="semi").sort("order")
            .select(pl.col("signature").list.to_array(width)).collect(engine="streaming")
            .to_series().to_numpy().reshape(-1, width).astype(np.uint32))
    near = _keep_representatives(frame, near_duplicate_clusters(frame["order"].to_list(), sigs, minhash))
    return near, Stage("near-duplicate code", frame.height, near.height,
                       {"near_duplicate_code": frame.height - near.height})


def near_duplicate_image(frame: pl.DataFrame, max_distance: int) -> tuple[pl.DataFrame, Stage]:
    """One row per cluster of images within `max_distance` pHash bits."""
    distinct = _keep_representatives(frame, image_clusters(frame["order"].to_list(), frame["image_phash"].to_list(),
                                                           max_distance))
    return distinct, Stage("near-duplicate image", frame.height, distinct.height,
                           {"near_duplicate_image": frame.height - distinct.height})


def _cap(frame: pl.DataFrame, column: str, caps: tuple[tuple[str, int], ...], explode: bool) -> pl.DataFrame:
    """Keep at most `cap` rows per value, the first by a stable pseudo-random rank. Caps
    apply one value at a time, so a row dropped for one chart kind no longer counts
    against another."""
    for value, cap in caps:
        has = pl.col(column).list.contains(value) if explode else pl.col(column) == value
        over = (frame.filter(has).sort("rank", "order").slice(cap).select("order"))
        frame = frame.join(over, on="order", how="anti")
    return frame.sort("order")


def balance_caps(frame: pl.DataFrame, caps: Caps) -> tuple[pl.DataFrame, Stage]:
    """At most so many rows per library, then per chart kind."""
    ranked = frame.with_columns(stable_fraction_of("id", "balance").alias("rank"))  # ids are unique here
    by_library = _cap(ranked, "library", caps.library, explode=False)
    by_kind = _cap(by_library, "chart_kinds", caps.chart_kind, explode=True)
    return by_kind.drop("rank"), Stage("balance caps", frame.height, by_kind.height,
                                       {"library_cap": frame.height - by_library.height,
                                        "chart_kind_cap": by_library.height - by_kind.height})
