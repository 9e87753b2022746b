"""One progress-callback shape for every long-running API: `on_progress(step, done, total)`,
`step` naming what advances (one bar a step), `total` None while unknown. Commands draw it with
rich; API callers may log it or ignore it."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]
