"""Actions people take from a card: merge, retry, approve, reject, and their bookkeeping."""
