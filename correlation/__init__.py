"""The functional core: normalised events, payload parsers, the fold into a CommitCard.

Nothing in this package does IO or imports the application, a database, Slack, GitHub
or Jenkins clients; it is tested with plain data.
"""

from correlation.card import CommitCard
from correlation.events import Event, ParseError, Slot
from correlation.fold import fold, join
from correlation.status import Status

__all__ = ["CommitCard", "Event", "ParseError", "Slot", "Status", "fold", "join"]
