"""Bounds on what one snippet may use. Defaults fit ordinary plotting code with room
to spare (a 6000x6000 px PNG must still save) while ending runaway snippets fast."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    timeout_s: float = 10.0
    cpu_s: float = 10.0
    memory_mb: int = 1024
    max_procs: int = 64
    max_output_bytes: int = 256 * 1024
    max_file_bytes: int = 32 * 1024 * 1024
    scratch_mb: int = 64
    max_images: int = 20
    max_image_bytes: int = 64 * 1024 * 1024  # all images of one snippet together
    max_open_files: int = 256
    max_image_pixels: int = 40_000_000  # per image (a plotly canvas too): bounds what decoding one may cost
    kill_grace_s: float = 0.2

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value <= 0:
                raise ValueError(f"limit {name} must be positive, got {value!r}")

    @property
    def max_report_bytes(self) -> int:
        """What a snippet's own report (images and plotly JSON) may hold in all."""
        return self.max_image_bytes + 1024 * 1024

    @property
    def max_reply_bytes(self) -> int:
        """Cap on one supervisor reply: the report, images read from files, both streams."""
        return 2 * self.max_report_bytes + 4 * self.max_output_bytes + 1024 * 1024

    @property
    def output_flood_bytes(self) -> int:
        """Past this many bytes on one stream the snippet is stopped: a flood would
        otherwise burn its whole time budget producing text nobody keeps."""
        return max(16 * self.max_output_bytes, 4 * 1024 * 1024)
