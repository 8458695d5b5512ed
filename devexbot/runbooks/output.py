"""A run's output as it arrives: the tail is kept (capped, cut at line starts), redacted
whenever it is read.

What is kept is redacted before it is cut, never after: a cut through a secret would leave
its tail, which no pattern recognises any more. Up to twice the limit is held between cuts,
so the redaction runs once per `limit` characters written, not once per write; the last
characters are held as written, since a secret split across two writes completes later.
"""

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
        self._cut = False
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
            if len(self._text) > 2 * self._limit:
                self._text = _tail(self._redact(self._text), self._limit)
                self._cut = True

    @property
    def dropped(self) -> bool:
        with self._lock:
            return self._cut or len(self._text) > self._limit

    def tail(self, chars: int | None = None) -> str:
        """The redacted end of the output, at most `chars` characters (and never more than
        the limit), from a line start."""
        with self._lock:
            text = self._redact(self._text)
        return _tail(text, self._limit if chars is None else min(chars, self._limit))


def _tail(text: str, chars: int) -> str:
    """The last `chars` characters of `text`, from the first line start among them (cut
    mid-line when a line is longer than that: nothing better to do)."""
    if len(text) <= chars:
        return text
    start = len(text) - chars
    newline = text.find("\n", start)
    return text[newline + 1:] if 0 <= newline < len(text) - 1 else text[start:]
