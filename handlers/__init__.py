"""The edges where the world comes in: webhook receivers and Slack listeners."""
