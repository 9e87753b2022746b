"""Bounded capture of a stream: keep the head and the tail, count the rest."""

from __future__ import annotations


class HeadTail:
    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    @property
    def truncated(self) -> bool:
        return self.total > len(self.head) + len(self.tail)

    def text(self) -> str:
        """Decoded safely: invalid UTF-8 and NUL bytes survive as escapes, never raise."""
        decode = lambda b: bytes(b).decode("utf-8", "backslashreplace").replace("\x00", "\\x00")  # noqa: E731
        if not self.truncated:
            return decode(self.head + self.tail)
        omitted = self.total - len(self.head) - len(self.tail)
        return f"{decode(self.head)}\n[... {omitted} bytes omitted ...]\n{decode(self.tail)}"
