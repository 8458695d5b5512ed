"""How the bot is shipped: the image's, compose's and the Procfile's command lines are ones the
CLI knows; compose upgrades the schema once before the bot starts; the Python versions the
package claims are the ones CI tests. (CI builds and runs the image and the wheel for real:
.ci/container, .ci/package.)"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def dockerfile(instruction: str) -> list[str]:
    """The last `instruction` of the Dockerfile's final stage, as an exec-form argument list."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.split(None, 1) for line in text.splitlines() if line.strip()
             and not line.lstrip().startswith("#")]
    found = [rest for word, *rest in lines if word == instruction]
    assert found, f"the Dockerfile has no {instruction}"
    value = found[-1][0].strip()
    if instruction == "HEALTHCHECK":
        value = value[value.index("CMD") + 3:].strip()
    parsed: list[str] = json.loads(value)
    return parsed


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def command_lines() -> list[tuple[str, list[str]]]:
    services = compose()["services"]
    procfile = [line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                if line.strip()]
    return [("Dockerfile CMD", dockerfile("CMD")),
            ("compose migrate", services["migrate"]["command"]),
            ("compose bot", services["bot"]["command"]),
            *((f"Procfile {name}", shlex.split(line.replace("$PORT", "8000")))
              for name, line in procfile)]


@pytest.mark.parametrize(("where", "argv"), command_lines(), ids=lambda v: v
                         if isinstance(v, str) else None)
def test_every_shipped_command_line_is_one_the_cli_knows(where: str, argv: list[str]) -> None:
    assert argv[0] == "devexbot", f"{where}: {argv}"
    result = subprocess.run([sys.executable, "-m", "devexbot", *argv[1:], "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{where}: {shlex.join(argv)}: {result.stderr}"


def test_the_image_runs_the_bot_as_its_own_user_and_checks_healthz() -> None:
    assert dockerfile("CMD")[:2] == ["devexbot", "serve"]
    user = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert user and user[-1] not in ("root", "0"), user
    assert any("/healthz" in arg for arg in dockerfile("HEALTHCHECK"))


def test_compose_upgrades_the_schema_once_before_the_bot_starts() -> None:
    services = compose()["services"]
    migrate, bot = services["migrate"], services["bot"]
    assert migrate["command"] == ["devexbot", "db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert bot["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    for service in (migrate, bot):
        url = service["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql://") and "@postgres:5432/" in url, url
        assert service["image"] == bot["image"]


def test_the_python_versions_claimed_are_the_ones_ci_tests() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    claimed = {c.rsplit(" :: ", 1)[1] for c in project["classifiers"]
               if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    floor = re.fullmatch(r">=(3\.\d+)", project["requires-python"])
    assert floor, project["requires-python"]
    others = re.search(r"CI_PYTHONS:-([\d. ]+)\}", (ROOT / ".ci" / "pythons").read_text())
    assert others, ".ci/pythons names no Python versions"
    # .ci/run runs the whole suite on the oldest (the machine's python3), .ci/pythons the rest.
    assert claimed == {floor.group(1), *others.group(1).split()}
