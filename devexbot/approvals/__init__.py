"""Approvals: deployments that wait for people, the policies that say who decides, and
what the bot does once they have (approve on GitHub, start a promotion job, call back)."""
