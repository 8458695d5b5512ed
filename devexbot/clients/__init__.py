"""The outside systems the bot calls: GitHub, Jenkins, Jira."""
