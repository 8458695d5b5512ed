"""What a card shows besides its events, looked up outside the outbox's flush: tickets'
titles and statuses (Jira), what a waiting deploy carries (GitHub's compare) and the
pieces of failed builds' logs (GitHub, Jenkins), and what a pull request's repository allows
merging by (GitHub). The worker records what it finds in the
database and marks the card dirty when that changes what it shows; a flush only reads."""
