"""Playing the demo's story: each delivery at its time, and at each person's step (a gate)
a wait for the visitor's click, told on the console."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from devexbot.demo.delivery import DemoSecrets, deliver
from devexbot.demo.gates import Gates
from devexbot.demo.scenario import Gate, Story


class World(Protocol):
    """The demo's GitHub and Jenkins: what they were told, and their gates."""

    @property
    def gates(self) -> Gates: ...

    def saw(self, sender: str, payload: dict[str, object]) -> None: ...


def play(
    base_url: str,
    keys: DemoSecrets,
    *,
    speed: float = 1.0,
    say: Callable[[str], None] = print,
    stop: threading.Event | None = None,
    until: float | None = None,
    world: World | None = None,
    patience: float = 0.0,
) -> int:
    """Send every step at its time (offsets divided by `speed`), or those up to `until`
    seconds into the story; at each gate, wait up to `patience` seconds for the visitor
    to act through `world` (without a world, the story's own people act). Returns how many
    deliveries were sent."""
    stop = stop or threading.Event()
    story = Story(datetime.now(UTC), speed)
    began = time.monotonic()

    def clock() -> str:
        elapsed = int(time.monotonic() - began)
        return f"{elapsed // 60}:{elapsed % 60:02d}"

    sent = 0
    for item in story.timeline():
        if until is not None and item.offset > until:
            break
        due = began + story.seconds(item.offset)
        if isinstance(item, Gate):
            if not _gate(story, item, due, world, patience, stop,
                         lambda line: say(f"  {clock()}  {line}")):
                break
            continue
        if not story.wanted(item):
            continue
        if stop.wait(max(0.0, due - time.monotonic())):
            break
        payload = item.payload
        try:
            status: int | str = deliver(base_url, keys, item.sender, payload)
        except OSError as exc:  # the bot is gone: stopped, or never started
            if stop.is_set():
                break
            status = f"not delivered: {getattr(exc, 'reason', exc)}"
        if world is not None:
            world.saw(item.sender, payload)
        mark = "" if status in (200, 202) else \
            f"  ({status})" if isinstance(status, str) else f"  (answered {status})"
        say(f"  {clock()}  {item.label}{mark}")
        sent += 1
    return sent


def _gate(story: Story, gate: Gate, due: float, world: World | None, patience: float,
          stop: threading.Event, say: Callable[[str], None]) -> bool:
    """Wait at the gate for the visitor: until its time, then `patience` seconds more.
    Record what happened and how far the story moved; False when stopped."""
    act = None
    if world is None:
        stop.wait(max(0.0, due - time.monotonic()))
    else:
        gates = world.gates
        act = gates.wait(gate.name, due - time.monotonic(), stop, last=False)
        if act is None and not stop.is_set():
            if patience > 0:
                say(f"your turn: {gate.ask} (or {gate.default.by} will, in {patience:.0f} s)")
            act = gates.wait(gate.name, patience, stop)
    if stop.is_set():
        return False
    story.shifts[gate.offset] = time.monotonic() - due
    story.acts[gate.name] = act or gate.default
    if act is not None:
        what = {"retry": "re-ran CI's failed jobs", "merge": "merged PR #12",
                "approve": f"{act.decision} test"}[gate.name]
        say(f"you {what}, through the bot")
    return True
