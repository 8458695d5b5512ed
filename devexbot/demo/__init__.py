"""`devexbot demo`: a timed, realistic story played through the bot's real webhook endpoints,
signed as GitHub, the Jenkins Notification plugin and a deploy script sign; the buttons on
its cards act on a small GitHub and Jenkins of the demo's own."""

from __future__ import annotations

from devexbot.demo.delivery import DemoSecrets, deliver
from devexbot.demo.player import play

__all__ = ["DemoSecrets", "deliver", "play"]
