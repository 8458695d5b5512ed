"""The `signing_keys` table: keys the bot makes for itself when none is configured, once, in
the database, so that every replica signs alike and a restart keeps everyone signed in.
Nothing outside the database (no token a reader holds) leads to them."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from devexbot.store.engine import Database
from devexbot.store.models import Base, UTCDateTime, utcnow

KEY_BYTES = 32


class SigningKey(Base):
    __tablename__ = "signing_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # what it signs
    key: Mapped[str] = mapped_column(String(128))  # hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def signing_key(db: Database, name: str) -> bytes:
    """The key called `name`: 32 random bytes made by the first replica that asks for it,
    read by every other one."""
    for _ in range(2):
        with db.read() as session:
            found = session.get(SigningKey, name)
            if found is not None:
                return bytes.fromhex(found.key)
        try:
            with db.write() as session:
                session.add(SigningKey(name=name, key=secrets.token_hex(KEY_BYTES)))
        except IntegrityError:
            continue  # another replica made it first: read theirs
    with db.read() as session:
        made = session.get(SigningKey, name)
    if made is None:
        raise RuntimeError(f"the {name} key could neither be made nor read")
    return bytes.fromhex(made.key)
