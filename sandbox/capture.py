"""Capture what a snippet draws, from inside the snippet's own process.

matplotlib: every figure open at the end, and every `plt.show()` (through our Agg
backend, see mpl_backend.py) is a capture point that renders and closes the open
figures, as a notebook would. plotly: `fig.show()`, `write_image` and `to_image`
record the figure JSON; PNGs are rendered outside the snippet's jail.
"""

from __future__ import annotations

import io
import os
import struct
import sys
from dataclasses import dataclass

from .import_hooks import when_imported

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A 1x1 transparent PNG handed back by `to_image` inside the sandbox: static export is
# deferred to the renderer outside the jail, the figure itself is what gets captured.
PLACEHOLDER_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


@dataclass(slots=True)
class Captured:
    source: str
    name: str
    png: bytes | None = None
    artists: int | None = None
    spec: str | None = None


CAPTURED: list[Captured] = []
MAX_CAPTURE_BYTES = 32 * 1024 * 1024  # per image; the child sets both from its Limits
MAX_TOTAL_BYTES = 64 * 1024 * 1024
_captured_bytes = 0
PLACEHOLDERS: list[str] = []  # files plotly's write_image left, relative to the working dir
MAX_PLACEHOLDERS = 1000  # keeps the report header small whatever a loop of write_image does
MAX_CAPTURES = 20  # the child sets this from its Limits
JPEG_SUFFIXES = (".jpg", ".jpeg")


def _keep(item: Captured) -> None:
    """Keep a capture unless it is over the per-image or total byte budget: a report
    over budget would be cut off, and a cut report is no report."""
    global _captured_bytes
    size = len(item.png if item.png is not None else (item.spec or "").encode())
    if size <= MAX_CAPTURE_BYTES and _captured_bytes + size <= MAX_TOTAL_BYTES:
        CAPTURED.append(item)
        _captured_bytes += size


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR chunk, or None if it is not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def count_artists(fig) -> int:
    """How many data-bearing artists a figure holds: 0 means empty axes."""
    total = len(fig.images) + len(fig.lines) + len(fig.patches) + len(fig.texts)
    for ax in fig.axes:
        total += (len(ax.lines) + len(ax.patches) + len(ax.collections) + len(ax.images)
                  + len(ax.texts) + len(ax.tables) + len(ax.artists))
    return total


def capture_matplotlib() -> None:
    """Render and close every open figure. Errors propagate: a figure that cannot be
    rendered (say, too large for Agg) is the snippet's error."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    try:
        for num in plt.get_fignums():
            if len(CAPTURED) >= MAX_CAPTURES:
                break
            fig = plt.figure(num)
            buf = io.BytesIO()
            fig.savefig(buf, format="png")
            _keep(Captured("matplotlib", f"figure-{num}", png=buf.getvalue(), artists=count_artists(fig)))
    finally:
        plt.close("all")


def _record_plotly(fig, how: str) -> None:
    import plotly.io as pio

    if len(CAPTURED) < MAX_CAPTURES:
        _keep(Captured("plotly", f"plotly-{how}-{len(CAPTURED) + 1}", spec=pio.to_json(fig, validate=False)))


def install_plotly_hooks(pio) -> None:
    """Make fig.show(), write_image and to_image record the figure instead of
    opening a browser or starting Chrome inside the jail."""
    from plotly.io._base_renderers import ExternalRenderer

    class CaptureRenderer(ExternalRenderer):
        def render(self, fig_dict):
            _record_plotly(fig_dict, "show")

    def show(fig, *args, **kwargs):
        _record_plotly(fig, "show")  # whatever renderer was asked for: no browser, no Chrome

    def to_image(fig, *args, **kwargs):
        _record_plotly(fig, "image")
        return PLACEHOLDER_PNG

    def write_image(fig, file, *args, **kwargs):
        _record_plotly(fig, "image")
        if hasattr(file, "write"):
            file.write(PLACEHOLDER_PNG)
            return
        with open(file, "wb") as f:  # so code that reads the file back keeps working
            f.write(PLACEHOLDER_PNG)
        if len(PLACEHOLDERS) < MAX_PLACEHOLDERS:
            PLACEHOLDERS.append(os.path.relpath(os.path.abspath(file)))

    pio.renderers["viscode"] = CaptureRenderer()
    pio.renderers.default = "viscode"
    pio.show, pio.to_image, pio.write_image = show, to_image, write_image


def capture_jpeg_files(max_bytes: int) -> None:
    """JPEGs the snippet wrote, converted to PNG here, in the snippet's own unprivileged
    process: the supervisor never decodes untrusted images."""
    from .scratch import collect_image_files

    room = MAX_CAPTURES - len(CAPTURED)
    if room <= 0:
        return
    for name, data in collect_image_files(".", skip=set(), max_files=room, max_bytes=max_bytes,
                                          suffixes=JPEG_SUFFIXES):
        from PIL import Image

        try:
            with Image.open(io.BytesIO(data), formats=["JPEG"]) as img:
                out = io.BytesIO()
                img.convert("RGB").save(out, format="PNG")
        except Exception:  # not really a JPEG, or a decompression bomb: not an image
            continue
        _keep(Captured("file", name, png=out.getvalue()))


def install_import_hooks() -> None:
    """plotly is adapted the moment `plotly.io` is imported: snippets that never touch
    plotly pay nothing for it."""
    when_imported("plotly.io", install_plotly_hooks)
