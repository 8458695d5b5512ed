"""The local executor runs real processes: no shell ever sees a value, the environment is an
allow-list, a timeout kills the whole process group, output is capped and redacted."""

from __future__ import annotations

import json
import os
import shlex
import sys
import threading
import time
from pathlib import Path

import pytest

from devexbot.runbooks.executors import Job
from devexbot.runbooks.executors.local import LocalExecutor
from devexbot.runbooks.executors.python import PythonExecutor
from devexbot.runbooks.model import (
    LocalRun,
    Param,
    ParamType,
    RunbookCommand,
    RunStatus,
)
from devexbot.runbooks.output import Output
from devexbot.runbooks.parse import read_words, split_words
from devexbot.runbooks.plugin import RunContext, command_from_function
from devexbot.runbooks.redact import Redactor
from tests.slack_app import wait_for

PROBE = f"""#!{sys.executable}
import json, os, sys
with open("probe.json", "a") as out:
    out.write(json.dumps({{"argv": sys.argv[1:], "ppid": os.getppid(),
                           "env": dict(os.environ)}}) + "\\n")
print("probed", len(sys.argv) - 1, "arguments")
"""


def script(directory: Path, name: str, body: str) -> Path:
    path = directory / name
    path.write_text(body)
    path.chmod(0o755)
    return path


def command(argv: list[str], cwd: Path, *, params: tuple[Param, ...] = (),
            timeout: float = 10, env: tuple[str, ...] = ()) -> RunbookCommand:
    return RunbookCommand(name="probe", description="probe", params=params,
                          execution=LocalRun(tuple(argv), cwd, env), allowed=("*",),
                          timeout=timeout)


def job(cmd: RunbookCommand, values: dict | None = None, *, secrets: dict | None = None,
        redact: Redactor | None = None, limit: int = 65536) -> Job:
    return Job(run_id=7, command=cmd, values=values or {}, user_id="U0ANA", channel_id="C0OPS",
               output=Output(redact or Redactor(), limit=limit), secrets=secrets or {},
               deadline=time.monotonic() + cmd.timeout, stop=threading.Event())


def probes(directory: Path) -> list[dict]:
    return [json.loads(line) for line in (directory / "probe.json").read_text().splitlines()]


def dead(pid: int) -> bool:
    """Gone, or a zombie nobody reaped yet (it runs no more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rfind(")") + 2] in "ZX"


# Values a person might type hoping a shell reads them. `{victim}` is a directory that must
# survive, `{marker}` a file that must never be created.
CORPUS = [
    "; rm -rf {victim}",
    "; touch {marker}",
    "$(touch {marker})",
    "`touch {marker}`",
    "a\ntouch {marker}",
    "x && touch {marker}",
    "x || touch {marker}",
    "x | touch {marker}",
    "> {marker}",
    "x; rm -rf {victim} #",
    "'; touch {marker}; echo '",
    '"; touch {marker}; echo "',
    "${{IFS}}touch${{IFS}}{marker}",
    "$HOME",
    "*",
    "~",
    "\\$(touch {marker})",
    "x\r\ntouch {marker}",
    "%s%n%x",
    "{{env}}",
    "😀 unicode ✓",
]


def test_injection_corpus_creates_no_file_and_runs_no_second_process(tmp_path: Path) -> None:
    probe = script(tmp_path, "probe.py", PROBE)
    victim, marker = tmp_path / "victim", tmp_path / "PWNED"
    victim.mkdir()
    (victim / "keep").write_text("still here")
    cmd = command([str(probe), "--value", "{value}", "pre-{value}-post"], tmp_path,
                  params=(Param("value", ParamType.STR),))
    expected = []
    for template in CORPUS:
        value = template.format(victim=victim, marker=marker)
        # Typed in Slack, quoted as a person would: `/devex probe value='…'`.
        args = read_words(cmd, split_words("value=" + shlex.quote(value)))
        assert args.complete, (value, args.errors)
        assert args.values["value"] == value
        outcome = LocalExecutor().run(job(cmd, args.values))
        assert outcome.status is RunStatus.SUCCEEDED, (value, outcome)
        expected.append([["--value", value, f"pre-{value}-post"], value])
    seen = probes(tmp_path)
    assert [s["argv"] for s in seen] == [argv for argv, _ in expected]
    # Started by this very process, not by a shell in between.
    assert {s["ppid"] for s in seen} == {os.getpid()}
    assert not marker.exists()
    assert (victim / "keep").read_text() == "still here"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["probe.json", "probe.py", "victim"]


def test_the_environment_is_an_allow_list_plus_declared_secrets(tmp_path: Path) -> None:
    probe = script(tmp_path, "probe.py", PROBE)
    environ = {"PATH": os.environ["PATH"], "HOME": "/home/bot", "LANG": "C.UTF-8",
               "KUBECONFIG": "/etc/kube", "AWS_SECRET_ACCESS_KEY": "not-for-scripts",
               "SLACK_BOT_TOKEN": "xoxb-not-for-scripts", "DB_PASSWORD": "hunter2"}
    cmd = command([str(probe), "{env}"], tmp_path, env=("KUBECONFIG",),
                  params=(Param("env", ParamType.CHOICE, choices=("test",)),))
    LocalExecutor(environ=environ).run(job(cmd, {"env": "test"},
                                           secrets={"DB_PASSWORD": "hunter2"}))
    env = probes(tmp_path)[0]["env"]
    env.pop("LC_CTYPE", None)  # Python may set it itself
    assert env == {"PATH": os.environ["PATH"], "HOME": "/home/bot", "LANG": "C.UTF-8",
                   "KUBECONFIG": "/etc/kube", "DB_PASSWORD": "hunter2",
                   "DEVEXBOT_RUN_ID": "7", "DEVEXBOT_COMMAND": "probe",
                   "DEVEXBOT_USER": "U0ANA", "DEVEXBOT_CHANNEL": "C0OPS",
                   "DEVEXBOT_PARAM_ENV": "test"}


SPAWNER = """#!/bin/sh
# Children and grandchildren, one of which ignores SIGTERM.
sleep 100 & echo $! >> pids
sh -c 'sleep 100 & echo $! >> pids; sleep 100' & echo $! >> pids
sh -c 'trap "" TERM; exec sleep 100' & echo $! >> pids
echo started
wait
"""


def test_a_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    spawner = script(tmp_path, "spawner.sh", SPAWNER)
    cmd = command([str(spawner)], tmp_path, timeout=1.0)
    started = time.monotonic()
    outcome = LocalExecutor(kill_grace=0.5).run(job(cmd))
    assert time.monotonic() - started < 5
    assert outcome.status is RunStatus.TIMED_OUT
    assert outcome.detail == "stopped after 1 s (timeout)"
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert len(pids) == 4
    wait_for(lambda: all(dead(p) for p in pids), timeout=3, what="the whole group to die")


def test_what_a_finished_script_left_running_is_stopped(tmp_path: Path) -> None:
    leaver = script(tmp_path, "leaver.sh", "#!/bin/sh\nsleep 100 > /dev/null &\n"
                                           "echo $! > pids\necho done\n")
    outcome = LocalExecutor(kill_grace=0.5).run(job(command([str(leaver)], tmp_path)))
    assert outcome.status is RunStatus.SUCCEEDED and outcome.exit_code == 0
    pid = int((tmp_path / "pids").read_text())
    wait_for(lambda: dead(pid), timeout=3, what="the process it left to die")


def test_exit_status_and_a_missing_program(tmp_path: Path) -> None:
    failing = script(tmp_path, "fail.sh", "#!/bin/sh\necho oops >&2\nexit 3\n")
    the_job = job(command([str(failing)], tmp_path))
    outcome = LocalExecutor().run(the_job)
    assert (outcome.status, outcome.exit_code) == (RunStatus.FAILED, 3)
    assert the_job.output.tail() == "oops\n"  # stderr is part of the output
    missing = job(command([str(tmp_path / "nope.sh")], tmp_path))
    outcome = LocalExecutor().run(missing)
    assert outcome.status is RunStatus.ERROR
    assert outcome.detail == "could not start nope.sh: No such file or directory"


def test_output_is_capped_to_its_tail_at_line_starts(tmp_path: Path) -> None:
    chatty = script(tmp_path, "chatty.sh",
                    "#!/bin/sh\ni=0\nwhile [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done\n")
    the_job = job(command([str(chatty)], tmp_path), limit=4096)
    assert LocalExecutor().run(the_job).status is RunStatus.SUCCEEDED
    tail = the_job.output.tail()
    assert len(tail) <= 4096 and tail.startswith("line ") and tail.endswith("line 4999\n")
    assert the_job.output.dropped and the_job.output.total > 40000
    assert the_job.output.tail(100).startswith("line ")


def test_secrets_and_patterns_are_redacted_even_split_across_reads() -> None:
    output = Output(Redactor(values=["hunter2-long-secret"], patterns=["AKIA[0-9A-Z]{16}"]))
    for piece in [b"password is hunter2-lo", b"ng-secret and key AKIAABCDEFGHIJKLMNOP\n",
                  "caf\u00e9".encode()[:4], "caf\u00e9".encode()[4:], b"\n"]:
        output.write_bytes(piece)
    assert output.tail() == "password is [redacted] and key [redacted]\ncaf\u00e9\n"
    assert "hunter2" not in output.tail(20)


KEY = "-----BEGIN KEY-----\nAAAABBBBCCCC\nDDDDEEEEFFFF\n-----END KEY-----"


@pytest.mark.parametrize(("pieces", "secret"), [
    # One line longer than the kept output: the cut lands inside the secret.
    (["x" * 10 + "hunter2-long-secret", "y" * 30], "hunter2-long-secret"),
    # A secret over several lines: the cut at a line start lands inside it.
    (["start\n", KEY + "\n", "after\n"], KEY),
], ids=["long-line", "multi-line"])
def test_no_part_of_a_secret_is_kept_when_the_cut_lands_inside_it(pieces: list[str],
                                                                   secret: str) -> None:
    output = Output(Redactor(values=["hunter2-long-secret"],
                             patterns=[r"-----BEGIN KEY-----[\s\S]*?-----END KEY-----"]),
                    limit=40)
    for piece in pieces:
        output.write(piece)
    shown = output.tail()
    fragments = {secret[i:i + 6] for i in range(len(secret) - 5)} - {"-" * 6}
    assert not [f for f in fragments if f in shown], shown
    assert len(shown) <= 40


def test_a_chatty_run_keeps_its_redacted_tail() -> None:
    output = Output(Redactor(values=["hunter2"]), limit=100)
    for n in range(2000):
        output.write(f"line {n} with hunter2\n")
    assert output.dropped
    assert output.tail().endswith("line 1999 with [redacted]\n")
    assert "hunter2" not in output.tail() and len(output.tail()) <= 100


def test_a_python_runbook_gets_its_typed_arguments_and_output(tmp_path: Path) -> None:
    calls = []

    def rotate(env: str, batch: int = 10, *, run: RunContext) -> int:
        """Rotate keys."""
        calls.append((env, batch, run.user_id, run.secret("DB_PASSWORD")))
        run.print("rotated", batch, "keys in", env, "with", run.secret("DB_PASSWORD"))
        return 0

    cmd = command_from_function(rotate, name=None, allowed=["*"], description=None,
                                confirm=False, timeout=5, concurrency=1, channels=(),
                                secrets=["DB_PASSWORD"], redact=())
    the_job = job(cmd, {"env": "staging", "batch": 3}, secrets={"DB_PASSWORD": "hunter2"},
                  redact=Redactor(values=["hunter2"]))
    outcome = PythonExecutor().run(the_job)
    assert (outcome.status, outcome.exit_code) == (RunStatus.SUCCEEDED, 0)
    assert calls == [("staging", 3, "U0ANA", "hunter2")]
    assert the_job.output.tail() == "rotated 3 keys in staging with [redacted]\n"


def test_a_python_runbook_that_raises_or_overruns(tmp_path: Path) -> None:
    def broken() -> None:
        """Breaks."""
        raise RuntimeError("no database")

    def slow(*, run: RunContext) -> None:
        """Takes its time, but listens."""
        while not run.should_stop():
            time.sleep(0.01)
        run.print("asked to stop")

    def make(fn, timeout: float = 5):  # type: ignore[no-untyped-def]
        return command_from_function(fn, name=None, allowed=["*"], description=None,
                                     confirm=False, timeout=timeout, concurrency=1,
                                     channels=(), secrets=(), redact=())

    failed = job(make(broken))
    outcome = PythonExecutor().run(failed)
    assert (outcome.status, outcome.exit_code) == (RunStatus.FAILED, 1)
    assert outcome.detail == "RuntimeError: no database"
    assert "Traceback" in failed.output.tail()
    stopped = job(make(slow, timeout=0.3))
    outcome = PythonExecutor(kill_grace=2).run(stopped)
    assert outcome.status is RunStatus.TIMED_OUT
    assert stopped.output.tail() == "asked to stop\n"


def test_shutting_down_interrupts_a_running_script(tmp_path: Path) -> None:
    sleeper = script(tmp_path, "sleeper.sh", "#!/bin/sh\necho waiting\nsleep 100\n")
    the_job = job(command([str(sleeper)], tmp_path, timeout=60))

    def shut_down_once_it_runs() -> None:
        wait_for(lambda: "waiting" in the_job.output.tail(), what="the script to start")
        the_job.stop.set()

    threading.Thread(target=shut_down_once_it_runs, daemon=True).start()
    started = time.monotonic()
    outcome = LocalExecutor(kill_grace=0.5).run(the_job)
    assert outcome.status is RunStatus.INTERRUPTED and time.monotonic() - started < 5
