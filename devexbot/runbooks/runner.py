"""From a request to a finished run: permission, channel, arguments, confirmation and the
concurrency claim are decided at once (the caller answers Slack within 3 s with the
decision); the run itself goes to a worker thread that streams it into a Slack thread and
records it."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from devexbot.config import RunbookSettings
from devexbot.publish.pacing import Pacing
from devexbot.runbooks.actions import RunButton
from devexbot.runbooks.executors import Executor, Job, Outcome
from devexbot.runbooks.model import RunbookCommand, RunStatus
from devexbot.runbooks.output import Output
from devexbot.runbooks.parse import Arguments, bind
from devexbot.runbooks.redact import Redactor
from devexbot.runbooks.render import (
    ago,
    confirm_blocks,
    final_blocks,
    outcome_line,
    progress_blocks,
    ran_text,
    rerun_args,
    shown_args,
)
from devexbot.runbooks.runs import Busy, Requester, RunStore, Taken
from devexbot.runbooks.stream import RunThread
from devexbot.slack.authz import ALLOWED, Authorizer
from devexbot.store.models import utcnow

log = logging.getLogger(__name__)

Block = dict[str, Any]


@dataclass(frozen=True)
class Refused:
    """Not run; `text` says why (to the person who asked only)."""

    text: str


@dataclass(frozen=True)
class AskParameters:
    """Required parameters are missing: open the modal."""

    command: RunbookCommand
    given: Mapping[str, str]


@dataclass(frozen=True)
class AskConfirmation:
    text: str
    blocks: list[Block]


@dataclass(frozen=True)
class Started:
    run_id: int


Decision = Refused | AskParameters | AskConfirmation | Started


@dataclass
class _Active:
    job: Job
    future: Future[None] | None = None
    done: threading.Event = field(default_factory=threading.Event)


class RunbookRunner:
    def __init__(self, *, store: RunStore, authorizer: Authorizer, client: WebClient,
                 pacing: Pacing, settings: RunbookSettings, executors: Mapping[str, Executor],
                 environ: Mapping[str, str] | None = None,
                 channel_id: Callable[[str], str] | None = None) -> None:
        self.store, self.authorizer, self.client, self.pacing = store, authorizer, client, pacing
        # A channel a config names (`#ops`) to its ID: Slack's pace is per channel, and the
        # cards count their posts to it by ID.
        self.channel_id = channel_id or (lambda channel: channel)
        self.settings = settings
        self.executors = dict(executors)
        self._environ = environ if environ is not None else os.environ
        self._pool = ThreadPoolExecutor(max_workers=settings.workers,
                                        thread_name_prefix="runbook")
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active: dict[int, _Active] = {}

    # --- deciding (fast: the caller answers Slack with the decision) -----------------------

    def request(self, command: RunbookCommand, args: Arguments, who: Requester, *,
                confirmed: bool = False, existing: int | None = None,
                rerun_of: int | None = None, scheduled: bool = False) -> Decision:
        """Decide on a request to run `command`; a refusal is recorded, a run is started.
        A `scheduled` run is the config's own doing: no person's permission is asked."""
        redact = self.redactor(command, args.given)
        shown = shown_args(command, args.values if args.complete else args.given, redact)
        access = ALLOWED if scheduled else self.authorizer.check(who.user_id, command.allowed)
        if not access.allowed:
            why_not = access.why_not
            self._refuse(command, who, shown, f"not allowed: {why_not}" if why_not else
                         "not allowed", existing, rerun_of)
            return Refused(f"You may not run `{command.name}`: ask someone who may "
                           "(see `/devex help`)." + (f" {why_not}." if why_not else ""))
        if not scheduled and not command.allows_channel(who.channel_id, who.channel_name):
            where = ", ".join(f"<#{c}>" if not c.startswith("#") else c
                              for c in command.channels)
            self._refuse(command, who, shown, "wrong channel", existing, rerun_of)
            return Refused(f"`{command.name}` runs only in {where}.")
        if args.errors:
            return Refused("\n".join(args.errors) + f"\n`/devex help {command.name}` "
                                                    "shows how to run it.")
        if args.missing:
            return AskParameters(command, args.given)
        if missing := [s for s in command.secrets if s not in self._environ]:
            self._refuse(command, who, shown, f"secret {missing[0]} is not set", existing,
                         rerun_of)
            return Refused(f"`{command.name}` cannot run: the bot's environment has no "
                           f"{missing[0]}. Tell whoever runs the bot.")
        if command.confirm and not confirmed:
            pending = self.store.record(command, who, shown, RunStatus.CONFIRMING,
                                        rerun_of=rerun_of)
            # The prompt is ephemeral: only the person who typed the values sees them again.
            button = RunButton(run=pending.id, args={
                k: v for k, v in args.given.items() if command.param(k) is not None})
            if len(button.model_dump_json()) > 2000:
                self.store.mark_refused(pending.id, "arguments too long to confirm")
                return Refused("Those arguments are too long to confirm with a button: "
                               "shorten them.")
            text, blocks = confirm_blocks(command, shown, button)
            return AskConfirmation(text, blocks)
        claimed = self.store.claim(command, who, shown, existing=existing, rerun_of=rerun_of)
        if isinstance(claimed, Taken):
            return Refused("That run was already started.")
        if isinstance(claimed, Busy):
            text = self._busy(command, claimed)
            if existing is not None:
                self.store.mark_refused(existing, text)
            else:
                self.store.record(command, who, shown, RunStatus.REFUSED, reason=text,
                                  rerun_of=rerun_of)
            return Refused(text)
        self._start(command, args, who, claimed.id, redact, shown)
        return Started(claimed.id)

    def confirm(self, command: RunbookCommand, button: RunButton, who: Requester) -> Decision:
        """The Run click of a confirmation: run what was confirmed, once."""
        pending = self.store.take_confirmation(button.run, who.user_id, RunStatus.RUNNING)
        if isinstance(pending, str):
            return Refused(pending)
        origin = Requester(who.user_id, pending.channel, who.user_name, pending.channel_name)
        return self.request(command, bind(command, button.args), origin, confirmed=True,
                            existing=pending.id, rerun_of=pending.rerun_of)

    def cancel(self, button: RunButton, user_id: str) -> str:
        cancelled = self.store.take_confirmation(button.run, user_id, RunStatus.CANCELLED)
        return cancelled if isinstance(cancelled, str) else \
            f"Cancelled: `{cancelled.command}` did not run."

    def redactor(self, command: RunbookCommand, given: Mapping[str, Any]) -> Redactor:
        values = [self._environ.get(name, "") for name in command.secrets]
        values += [str(given[p.name]) for p in command.params if p.secret and p.name in given]
        return Redactor(values=values, patterns=[*self.settings.redact, *command.redact])

    def _refuse(self, command: RunbookCommand, who: Requester, shown: Mapping[str, str],
                reason: str, existing: int | None, rerun_of: int | None) -> None:
        if existing is not None:
            self.store.mark_refused(existing, reason)
        else:
            self.store.record(command, who, shown, RunStatus.REFUSED, reason=reason,
                              rerun_of=rerun_of)

    def _busy(self, command: RunbookCommand, busy: Busy) -> str:
        holder = busy.holder
        since = ago(holder.started_at or holder.created_at, utcnow())
        if command.concurrency == 1:
            return (f"`{command.name}` is already running, started by <@{holder.user_id}> "
                    f"{since}.")
        return (f"`{command.name}` is already running {busy.running} times (its limit); "
                f"the oldest was started by <@{holder.user_id}> {since}.")

    # --- running (in a worker thread) -----------------------------------------------------

    def _start(self, command: RunbookCommand, args: Arguments, who: Requester, run_id: int,
               redact: Redactor, shown: Mapping[str, str]) -> None:
        job = Job(run_id=run_id, command=command, values=args.values, user_id=who.user_id,
                  channel_id=who.channel_id,
                  output=Output(redact, limit=self.settings.output_limit),
                  secrets={name: self._environ[name] for name in command.secrets},
                  deadline=time.monotonic() + command.timeout, stop=self._stop)
        active = _Active(job)
        with self._lock:
            self._active[run_id] = active
        again = RunButton(run=run_id, args=rerun_args(command, args.values, redact))
        try:
            active.future = self._pool.submit(self._run, active, who, shown, again)
        except RuntimeError:  # shutting down: the pool takes no more work
            self._finished(active, Outcome(RunStatus.INTERRUPTED, None, "the bot is stopping"))
            self._forget(active)

    def _run(self, active: _Active, who: Requester, shown: Mapping[str, str],
             again: RunButton) -> None:
        job = active.job
        thread = RunThread(self.client, self.pacing, self.channel_id(who.channel_id),
                           interval=self.settings.update_interval, stop=self._stop)
        ran = ran_text(who.user_id, job.command.name, shown)
        try:
            worker, result = self._execute(job)
            text, blocks = progress_blocks(0, "", None)
            if thread.open(ran, text, blocks):
                self.store.messages(job.run_id, channel=thread.channel, ts=thread.ts,
                                    reply_ts=thread.reply_ts)
            self._stream(job, worker, thread)
            outcome = result[0]
        except Exception as exc:  # a bug of ours must still end the run and free its slot
            log.exception("runbook run %s failed", job.run_id)
            outcome = Outcome(RunStatus.ERROR, None, f"internal error: {type(exc).__name__}")
        run = self._finished(active, outcome)
        seconds = time.monotonic() - job.started
        text, blocks = final_blocks(outcome.status, outcome.exit_code, seconds,
                                    job.output.tail(), outcome.detail, job.url, again)
        parent = f"{ran} · " + outcome_line(outcome.status, outcome.exit_code, seconds, None)
        try:
            thread.finish(text, blocks, parent)
        finally:
            self._forget(active)
        log.info("runbook %s run %s by %s: %s", job.command.name, run.id, who.user_id,
                 outcome.status)

    def _execute(self, job: Job) -> tuple[threading.Thread, list[Outcome]]:
        """Start the executor in a thread of its own; its outcome lands in the list."""
        result: list[Outcome] = []
        executor = self.executors[job.command.executor]

        def execute() -> None:
            try:
                result.append(executor.run(job))
            except Exception as exc:
                log.exception("runbook executor failed on run %s", job.run_id)
                result.append(Outcome(RunStatus.ERROR, None,
                                      f"internal error: {type(exc).__name__}"))

        worker = threading.Thread(target=execute, name=f"runbook-{job.run_id}-exec",
                                  daemon=True)
        worker.start()
        return worker, result

    def _stream(self, job: Job, worker: threading.Thread, thread: RunThread) -> None:
        """Show new output in the thread, at most once per interval, until the run ends."""
        shown: tuple[int, str | None] = (0, None)
        while worker.is_alive():
            worker.join(timeout=0.1)
            now = (job.output.version, job.note)
            if now != shown and worker.is_alive() and thread.due():
                tail = job.output.tail()
                text, blocks = progress_blocks(time.monotonic() - job.started, tail, job.note)
                if thread.show(text, blocks):
                    shown = now
                    self.store.progress(job.run_id, output_tail=tail, url=job.url)

    def _finished(self, active: _Active, outcome: Outcome) -> Any:
        job = active.job
        return self.store.finish(job.run_id, status=outcome.status, exit_code=outcome.exit_code,
                                 output_tail=job.output.tail(), url=job.url,
                                 reason=outcome.detail)

    def _forget(self, active: _Active) -> None:
        with self._lock:
            self._active.pop(active.job.run_id, None)
        active.done.set()

    # --- lifecycle ------------------------------------------------------------------------

    def running(self) -> list[int]:
        with self._lock:
            return sorted(self._active)

    def close(self, timeout: float = 30.0) -> None:
        """Stop running scripts (their groups are killed), record them, stop the workers."""
        self._stop.set()
        with self._lock:
            futures = [a.future for a in self._active.values() if a.future is not None]
        wait(futures, timeout=timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
