""""Me": a person's preferences, their Slack Home tab and the web's `/me` page, and the
digest of what their quiet hours held."""
