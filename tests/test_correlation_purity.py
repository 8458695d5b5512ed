"""correlation/ is the functional core: it must import no IO and no application code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import correlation

FORBIDDEN = {
    "devexbot", "handlers", "sqlalchemy", "slack_sdk", "slack_bolt", "github", "jenkins",
    "fastapi", "starlette", "httpx", "requests", "urllib.request", "socket", "psycopg",
}
PACKAGE = Path(correlation.__file__).parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _forbidden(name: str) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)


def test_no_module_in_correlation_imports_io_or_app_code() -> None:
    offenders = {
        f"{path.relative_to(PACKAGE.parent)}: {name}"
        for path in PACKAGE.rglob("*.py")
        for name in _imports(path)
        if _forbidden(name)
    }
    assert not offenders, offenders


def test_importing_correlation_loads_none_of_them() -> None:
    # Catches indirect imports too: a fresh interpreter imports every correlation module.
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import correlation.{m}\n" for m in modules)
        + f"bad = {sorted(FORBIDDEN)!r}\n"
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_rule_itself_catches_an_offender(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from sqlalchemy.orm import Session\nimport devexbot.store\n")
    assert {n for n in _imports(bad) if _forbidden(n)} == {"sqlalchemy.orm", "devexbot.store"}
