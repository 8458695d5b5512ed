"""Keeps secrets that senders put in URLs (`/webhooks/jenkins?token=...`) out of the logs."""

from __future__ import annotations

import logging
import re

_SECRET_QUERY = re.compile(r"(?P<key>[?&]token=)[^&\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """`...?token=s3cret&x=1` -> `...?token=[redacted]&x=1`."""
    return _SECRET_QUERY.sub(r"\g<key>[redacted]", text)


class RedactQuerySecrets(logging.Filter):
    """A filter for uvicorn's access log, whose arguments include the path and query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True
