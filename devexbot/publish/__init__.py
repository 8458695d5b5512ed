"""Bringing Slack up to date: the outbox (claim, plan, send, finish), pacing, channels, routing."""
