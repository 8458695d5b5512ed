"""Runbooks declared in YAML and as decorated functions; mistakes named with file and line."""

from __future__ import annotations

import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from devexbot.cli import main
from devexbot.config import load_config, parse_config
from devexbot.errors import ConfigError
from devexbot.runbooks.model import JenkinsRun, LocalRun, Param, ParamType, PythonRun
from devexbot.runbooks.registry import load_runbooks
from handlers.slack import builtin_subcommands

ISSUE_YAML = """\
commands:
  cleanup-test-data:
    description: Delete test fixtures older than N days
    run: ["scripts/cleanup.sh", "--env", "{env}", "--days", "{days}"]
    params:
      env: {choices: [test, staging], default: test}
      days: {type: int, min: 1, max: 90, default: 7}
    allowed: ["@ops", "U0123ABC"]
    confirm: true
    timeout: 300
    concurrency: 1
    channels: ["#ops"]
"""


def write(tmp_path: Path, text: str, name: str = "devexbot.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems(text: str, tmp_path: Path) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_runbooks(load_config(path), reserved=builtin_subcommands())
    return caught.value.problems


def test_the_issues_yaml_becomes_a_runbook_command(tmp_path: Path) -> None:
    path = write(tmp_path, ISSUE_YAML)
    runbooks = load_runbooks(load_config(path), reserved=builtin_subcommands())
    command = runbooks.get("cleanup-test-data")
    assert command is not None
    assert command.params == (
        Param("env", ParamType.CHOICE, default="test", choices=("test", "staging")),
        Param("days", ParamType.INT, default=7, min=1, max=90),
    )
    # The script is found beside the config file.
    assert command.execution == LocalRun(
        argv=(str(tmp_path / "scripts/cleanup.sh"), "--env", "{env}", "--days", "{days}"),
        cwd=tmp_path)
    assert (command.allowed, command.confirm, command.timeout, command.concurrency,
            command.channels) == (("@ops", "U0123ABC"), True, 300, 1, ("#ops",))
    assert command.origin == f"{path}:2"


def test_a_jenkins_command(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        commands:
          reindex:
            description: Rebuild the search index
            jenkins: /ops/reindex/
            params: {index: {pattern: "[a-z]+"}}
            allowed: ["*"]
        """)
    command = load_runbooks(load_config(path)).get("reindex")
    assert command is not None and command.execution == JenkinsRun(job="ops/reindex")
    assert command.params[0].required


@pytest.mark.parametrize(("yaml_text", "expected"), [
    ("""\
     commands:
       cleanup:
         description: x
         run: [a.sh]
         alowed: ["*"]
     """, ":5: commands.cleanup.alowed: Extra inputs are not permitted"),
    ("""\
     commands:
       cleanup:
         description: x
         run: [a.sh, "{day}"]
         params:
           days: {type: int}
         allowed: ["*"]
     """, ":4: commands.cleanup.run: {day} is not a parameter (parameters: days)"),
    ("""\
     commands:
       cleanup:
         description: x
         run: [a.sh]
         params:
           days: {type: int, min: 1, max: 90, default: 120}
         allowed: ["*"]
     """, ":6: commands.cleanup.params.days: default 120 does not fit: it must be a whole number "
        "from 1 to 90, not 120"),
    ("""\
     commands:
       cleanup:
         description: x
         run: [a.sh]
         params:
           days: {type: integer}
         allowed: ["*"]
     """, ":6: commands.cleanup.params.days.type: Input should be 'str', 'int', 'bool' or"),
    ("""\
     commands:
       cleanup:
         description: x
         run: [a.sh]
         jenkins: ops/cleanup
         allowed: ["*"]
     """, ":3: commands.cleanup: give either run (a command line) or jenkins"),
    ("""\
     commands:
       cleanup:
         description: x
         run: [a.sh]
     """, ":3: commands.cleanup.allowed: Field required"),
    ("""\
     commands:
       Clean_Up:
         description: x
         run: [a.sh]
         allowed: ["*"]
     """, ":3: commands.Clean_Up.[key]: String should match pattern"),
    ("""\
     commands:
       cleanup:
         description: x
         run: ["{env}"]
         params: {env: {choices: [a]}}
         allowed: ["*"]
     """, ":4: commands.cleanup.run: the program (the first word) cannot be a parameter"),
    ("""\
     commands:
       cleanup:
         description: x
         run: [a.sh]
         allowed: [everyone]
     """, ":5: commands.cleanup.allowed[0]: 'everyone' is not a principal — use *"),
    ("""\
     runbooks:
       redact: ["AKIA[0-9A-Z"]
     """, ":2: runbooks.redact[0]: not a regular expression"),
])
def test_schema_mistakes_name_their_line(yaml_text: str, expected: str, tmp_path: Path) -> None:
    path = write(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert any(f"{path}{expected}" in p for p in caught.value.problems), caught.value.problems


def test_a_runbook_named_like_a_built_in_is_a_config_error(tmp_path: Path) -> None:
    found = problems("""\
        commands:
          cleanup:
            description: fine
            run: [a.sh]
            allowed: ["*"]
          history:
            description: shadows /devex history
            run: [a.sh]
            allowed: ["*"]
        """, tmp_path)
    assert found == [f"{tmp_path / 'devexbot.yaml'}:6: commands.history: `history` is a "
                     "built-in /devex subcommand: give the runbook another name"]
    assert {"help", "history", "subscribe", "unsubscribe", "subscriptions"} <= \
        builtin_subcommands()


def plugin(tmp_path: Path, body: str) -> str:
    name = f"team_automations_{uuid.uuid4().hex[:8]}"  # modules are cached per process
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    return name


def test_a_decorated_function_is_a_runbook_too(tmp_path: Path) -> None:
    module = plugin(tmp_path, """\
        from typing import Annotated, Literal
        from devexbot.runbooks import RunContext, runbook
        from devexbot.runbooks.plugin import Spec

        Batch = Annotated[int, Spec(min=1, max=50, description="keys per batch")]

        @runbook(allowed=["@ops"], confirm=True, timeout=60)
        def rotate_keys(env: Literal["test", "staging"], batch: Batch = 10,
                        dry_run: bool = True, *, run: RunContext) -> int:
            '''Rotate the API keys of an environment.'''
            return 0
        """)
    path = write(tmp_path, f"plugins: [{module}]\n")
    command = load_runbooks(load_config(path)).get("rotate-keys")
    assert command is not None
    assert command.description == "Rotate the API keys of an environment."
    assert command.params == (
        Param("env", ParamType.CHOICE, choices=("test", "staging")),
        Param("batch", ParamType.INT, default=10, min=1, max=50, description="keys per batch"),
        Param("dry_run", ParamType.BOOL, default=True),
    )
    assert isinstance(command.execution, PythonRun)
    assert (command.allowed, command.confirm, command.timeout) == (("@ops",), True, 60.0)


@pytest.mark.parametrize(("body", "expected"), [
    ("import nowhere_to_be_found\n", "cannot import {module}: ModuleNotFoundError"),
    ("x = 1\n", "{module} defines no @runbook function"),
    ("""\
     from devexbot.runbooks import runbook
     @runbook(allowed=["*"])
     def f(when: float) -> None:
         '''Has a float.'''
     """, "parameter when must be str, int, bool or a Literal of choices"),
    ("""\
     from devexbot.runbooks import runbook
     @runbook("help", allowed=["*"], description="shadows help")
     def f() -> None: ...
     """, "`help` is a built-in /devex subcommand"),
    ("""\
     from devexbot.runbooks import runbook
     @runbook(allowed=["everyone"], description="bad principal")
     def g() -> None: ...
     """, "allowed: 'everyone' is not a principal — use *, a Slack user id"),
])
def test_plugin_mistakes_name_the_plugins_line(body: str, expected: str, tmp_path: Path) -> None:
    module = plugin(tmp_path, body)
    found = problems(f"environments: [test]\nplugins:\n  - {module}\n", tmp_path)
    assert len(found) == 1
    assert found[0].startswith(f"{tmp_path / 'devexbot.yaml'}:3: plugins[0]: ")
    assert expected.format(module=module) in found[0]


def test_a_yaml_and_a_plugin_command_of_one_name_clash(tmp_path: Path) -> None:
    module = plugin(tmp_path, """\
        from devexbot.runbooks import runbook
        @runbook("cleanup-test-data", allowed=["*"], description="again")
        def cleanup() -> None: ...
        """)
    found = problems(ISSUE_YAML + f"plugins: [{module}]\n", tmp_path)
    assert "`cleanup-test-data` is also declared at" in found[0]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """The command line's own entry point, in this process (tests/e2e/test_cli.py runs the
    installed command as a separate process)."""
    def run(*args: str, cwd: Path) -> Result:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)
    return run


def test_check_config_reports_runbook_mistakes_and_missing_scripts(tmp_path: Path,
                                                                   run_cli: Any) -> None:
    path = write(tmp_path, ISSUE_YAML)
    result = run_cli("check-config", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"devexbot: error: {path}:4: commands.cleanup-test-data.run[0]: "
        f"{tmp_path / 'scripts/cleanup.sh'} does not exist (a relative path is relative to "
        "the config file's directory)")
    script = tmp_path / "scripts" / "cleanup.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho cleaned\n")
    assert "is not executable" in run_cli("check-config", str(path), cwd=tmp_path).stderr
    script.chmod(0o755)
    ok = run_cli("check-config", str(path), cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().endswith("1 runbooks)")
    bad = write(tmp_path, ISSUE_YAML.replace("days: {type: int", "days: {type: int, step: 2"),
                "bad.yaml")
    result = run_cli("check-config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert f"{bad}:7: commands.cleanup-test-data.params.days.step: Extra inputs" in result.stderr


def test_manifest_gives_chosen_runbooks_their_own_slash_command(tmp_path: Path,
                                                                run_cli: Any) -> None:
    path = write(tmp_path, ISSUE_YAML)
    result = run_cli("manifest", "--url", "https://bot.example.com", "--config", str(path),
                     "--command-per-runbook", "cleanup-test-data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    commands = yaml.safe_load(result.stdout)["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/devex", "/cleanup-test-data"]
    assert commands[1] == {
        "command": "/cleanup-test-data", "description": "Delete test fixtures older than N days",
        "should_escape": False, "usage_hint": "[env=test|staging] [days=1..90]",
        "url": "https://bot.example.com/slack/events"}
    unknown = run_cli("manifest", "--socket-mode", "--config", str(path),
                      "--command-per-runbook", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "no such runbook" in unknown.stderr


def test_the_example_config_declares_a_runbook(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "config" / "devexbot.example.yaml"
    config = parse_config(example.read_text(), source=str(example), base_dir=example.parent)
    assert "cleanup-test-data" in load_runbooks(config, check_files=True).commands
