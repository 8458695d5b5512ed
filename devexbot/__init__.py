"""devexbot: one live Slack card per commit, with buttons that act."""

__version__ = "0.1.0"
