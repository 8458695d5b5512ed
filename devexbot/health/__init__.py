"""Whether the bot's dependencies answer: what it last saw of each, for `/readyz`."""
