"""Conservation accounting: every stage says how many rows came in, how many it kept
and why it dropped the rest, so input = kept + sum(dropped) holds at every step and
the card can explain every missing row."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Stage:
    name: str
    input: int
    kept: int
    dropped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dropped = {k: v for k, v in sorted(self.dropped.items()) if v}
        if self.input != self.kept + sum(self.dropped.values()):
            raise RuntimeError(f"stage {self.name}: {self.input} in != {self.kept} kept + {self.dropped}")

    def to_json(self) -> dict:
        return {"stage": self.name, "input": self.input, "kept": self.kept, "dropped": self.dropped}
