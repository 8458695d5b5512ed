"""Delivery metrics (DORA's four keys) from the deploys, commits, reverts and hotfixes the
cards saw: the commits each deploy carried, and the figures read back."""
