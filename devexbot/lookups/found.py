"""What one lookup of a card came to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Found:
    changed: bool = False  # what the card shows is different now
    complete: bool = True  # False: a service could not say; look again later

    def __or__(self, other: Found) -> Found:
        return Found(self.changed or other.changed, self.complete and other.complete)
