"""The demo's first card, from an installed devexbot: start `devexbot demo`, read the URL it
prints, wait for ana's push of feature/login to show as a card, load the page and its
stylesheet, stop the demo, and expect it to exit 0.

    python3 .ci/first_card.py /path/to/venv/bin/devexbot

Standard library only. Exits 1 with a one-line reason.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urljoin

WAIT_S = 60
BRANCH, MESSAGE = "feature/login", "Add login page"


class Unreachable(Exception):
    """The demo's server did not answer."""


def get(url: str) -> tuple[int, bytes]:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(url)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - checked above
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError as exc:
        raise Unreachable(f"{url}: {exc}") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def first_card(base: str) -> dict[str, object]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            status, body = get(f"{base}/api/cards?limit=50")
        except Unreachable:  # the demo prints its URL as its server starts
            status, body = 0, b""
        if status == 200:
            for card in json.loads(body)["cards"]:
                if card.get("branch") == BRANCH and card.get("message") == MESSAGE:
                    return dict(card)
        time.sleep(0.3)
    sys.exit(f"no card for the demo's push of {BRANCH} within {WAIT_S} s")


def main(devexbot: str) -> None:
    port = free_port()
    demo = subprocess.Popen([devexbot, "demo", "--port", str(port), "--speed", "10"],  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert demo.stdout is not None
        line = demo.stdout.readline()
        match = re.search(r"open (http://127\.0\.0\.1:\d+)/", line)
        if match is None:
            sys.exit(f"devexbot demo printed {line!r}, not the URL to open")
        base = match.group(1)
        card = first_card(base)
        status, page = get(f"{base}/")
        if status != 200 or b"octo-org/octo-app" not in page:
            sys.exit(f"the demo's page: {status}, without octo-org/octo-app")
        css = re.search(rb'href="([^"]*web\.css)"', page)
        if css is None or get(urljoin(f"{base}/", css.group(1).decode()))[0] != 200:
            sys.exit("the demo's page has no stylesheet that loads")
        print(f"ci: devexbot demo: the first card, {card['repo']} {str(card['sha'])[:7]} on "
              f"{BRANCH} ({MESSAGE!r}), and the page with its stylesheet")
    finally:
        demo.terminate()
        code = demo.wait(timeout=30)
    if code != 0:
        sys.exit(f"devexbot demo exited {code} when stopped, not 0")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        main(sys.argv[1])
    except Unreachable as exc:
        sys.exit(f"the demo did not answer: {exc}")
