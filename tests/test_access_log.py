"""The Jenkins token travels in the URL; the access log must not keep it."""

from __future__ import annotations

import logging

from devexbot.http.access_log import RedactQuerySecrets, redact


def test_a_token_in_the_query_is_redacted_and_the_rest_kept() -> None:
    assert redact("/webhooks/jenkins?token=s3cr3t") == "/webhooks/jenkins?token=[redacted]"
    assert redact("/x?a=1&TOKEN=s3cr3t&b=2") == "/x?a=1&TOKEN=[redacted]&b=2"
    assert redact("/api/cards?repo=o/r") == "/api/cards?repo=o/r"


def test_uvicorns_access_record_is_redacted_before_it_is_written() -> None:
    # uvicorn logs: '%s - "%s %s HTTP/%s" %d' % (client, method, path?query, version, status)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.7:51234", "POST", "/webhooks/jenkins?token=s3cr3t", "1.1", 202), None)
    assert RedactQuerySecrets().filter(record)
    assert record.getMessage() == (
        '10.0.0.7:51234 - "POST /webhooks/jenkins?token=[redacted] HTTP/1.1" 202')
