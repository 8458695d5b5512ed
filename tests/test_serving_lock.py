"""Which databases `serve` locks: a SQLite file, by its absolute path; nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from devexbot.store.serving_lock import AlreadyServing, database_file, serving


@pytest.mark.parametrize(
    ("url", "locked"),
    [
        ("sqlite:///./devexbot.db", "devexbot.db"),
        ("sqlite:///data/bot.db", "data/bot.db"),
        ("sqlite:///file:bot.db?mode=rwc&uri=true", "bot.db"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
        ("postgresql://bot@db/devexbot", None),
        ("postgresql+psycopg://bot@db/devexbot", None),
    ],
)
def test_the_file_a_database_url_locks(url: str, locked: str | None) -> None:
    assert database_file(url) == (Path(locked).resolve() if locked else None)


def test_a_second_holder_is_refused_until_the_first_lets_go(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/devexbot.db"
    with serving(url):
        refused = pytest.raises(AlreadyServing, match=r"already serving .*\.db \(pid \d+ on")
        with refused, serving(url):
            pass
        with serving("sqlite://"), serving("sqlite://"):
            pass  # an in-memory database belongs to its process
    with serving(url):
        pass
