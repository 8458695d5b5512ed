"""X-Hub-Signature-256 exactly as GitHub computes it, checked against GitHub's published
test vector (docs: "Validating webhook deliveries")."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from devexbot.app import create_app
from devexbot.errors import RequestError
from handlers.webhooks.verify import hmac_sha256_signature, verify_hmac_sha256
from tests.conftest import make_settings
from tests.github_sender import github_signature

VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_our_signature_matches_githubs_test_vector() -> None:
    assert hmac_sha256_signature(secret=SecretStr(VECTOR_SECRET), body=VECTOR_BODY) == (
        VECTOR_SIGNATURE)
    verify_hmac_sha256(secret=SecretStr(VECTOR_SECRET), body=VECTOR_BODY,
                       header=VECTOR_SIGNATURE, name="X-Hub-Signature-256")


def test_the_tests_sender_signs_as_github_does() -> None:
    assert github_signature(VECTOR_SECRET, VECTOR_BODY) == VECTOR_SIGNATURE


@pytest.mark.parametrize("header", [
    VECTOR_SIGNATURE.upper().replace("SHA256=", "sha256="),  # hex digits in upper case
    VECTOR_SIGNATURE[:-1] + "0",
    "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59",  # the old SHA-1 header's format
    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",  # no "sha256="
])
def test_anything_but_the_exact_signature_is_refused(header: str) -> None:
    with pytest.raises(RequestError) as refused:
        verify_hmac_sha256(secret=SecretStr(VECTOR_SECRET), body=VECTOR_BODY, header=header,
                           name="X-Hub-Signature-256")
    assert refused.value.status_code == 401


def test_the_endpoint_accepts_the_vector_and_then_reads_the_body(sqlite_url: str,
                                                                 tmp_path: Path) -> None:
    settings = make_settings(sqlite_url, tmp_path, github_webhook_secret=VECTOR_SECRET)
    with TestClient(create_app(settings)) as client:
        response = client.post("/webhooks/github", content=VECTOR_BODY, headers={
            "X-Hub-Signature-256": VECTOR_SIGNATURE, "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": "vector-1", "Content-Type": "application/json"})
    # Past the signature: "Hello, World!" is then refused for not being JSON.
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
