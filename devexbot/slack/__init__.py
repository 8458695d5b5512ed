"""Slack: routing cards to channels, the outbox that keeps messages current, the Bolt app."""
