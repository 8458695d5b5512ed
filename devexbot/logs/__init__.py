"""How the bot writes its log: one line per event, as text or as JSON, each carrying the
delivery, card and trace it is about; a traceback only for what the bot did not expect."""
