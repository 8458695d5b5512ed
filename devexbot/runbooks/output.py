"""A run's output as it arrives: the tail is kept (capped, cut at line starts so a secret on
one line is kept whole or not at all), redacted whenever it is read."""

from __future__ import annotations

import codecs
import threading

from devexbot.runbooks.redact import Redactor


class Output:
    def __init__(self, redact: Redactor, *, limit: int = 65536) -> None:
        self._redact = redact
        self._limit = limit
        self._lock = threading.Lock()
        self._text = ""
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.total = 0  # characters written, kept or not
        self.version = 0  # bumped by every write: readers tell whether anything is new

    def write_bytes(self, data: bytes) -> None:
        self.write(self._decoder.decode(data))

    def write(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._text += text.replace("\r\n", "\n")
            self.total += len(text)
            self.version += 1
            if len(self._text) > self._limit:
                cut = len(self._text) - self._limit
                newline = self._text.find("\n", cut)
                # A line longer than the limit is cut mid-line: nothing better to do.
                self._text = self._text[newline + 1:] if 0 <= newline < len(self._text) - 1 \
                    else self._text[cut:]

    @property
    def dropped(self) -> bool:
        with self._lock:
            return self.total > len(self._text)

    def tail(self, chars: int | None = None) -> str:
        """The redacted end of the output, at most `chars` characters, from a line start."""
        with self._lock:
            text = self._redact(self._text)
        if chars is None or len(text) <= chars:
            return text
        start = len(text) - chars
        newline = text.find("\n", start)
        return text[newline + 1:] if 0 <= newline < len(text) - 1 else text[start:]
