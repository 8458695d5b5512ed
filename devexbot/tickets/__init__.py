"""Tickets: the issue tracker's titles and statuses on cards, and the comments and
transitions deploys and decisions owe it (durable jobs, retried from the database)."""
