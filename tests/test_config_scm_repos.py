"""The `scm_repos` config: remotes of other hosts mapped to GitHub repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from devexbot.config import load_config, parse_config
from devexbot.errors import ConfigError

EXAMPLE = Path(__file__).parent.parent / "config" / "devexbot.example.yaml"


def test_the_example_config_maps_its_remotes() -> None:
    scm = load_config(EXAMPLE, required=True).scm
    assert scm.repo_of("git@git.example.com:team/octo-tools.git") == "octo-org/octo-tools"
    assert scm.repo_of("https://git.example.com/mirrors/api.git") == "octo-org/api"
    assert scm.repo_of("https://github.octo.example.com/Platform/Infra") == "platform/infra"
    assert scm.repo_of("https://git.example.com/elsewhere/x.git") is None
    assert scm.repo_of("git@github.com:octo-org/octo-app.git") == "octo-org/octo-app"


def test_the_longest_key_wins() -> None:
    scm = parse_config('scm_repos:\n  "https://git.example.com/": "a/"\n'
                       '  "https://git.example.com/team/": "b/"\n').scm
    assert scm.repo_of("https://git.example.com/team/app") == "b/app"
    assert scm.repo_of("https://git.example.com/app") == "a/app"


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('"not a url": octo-org/app', "'not a url' is not a Git remote URL"),
        ('"https://git.example.com/team/app.git": just-a-name', "not an owner/repo name"),
        ('"https://git.example.com/team/": octo-org/app', "its value must be an owner followed"),
        ('"https://git.example.com": octo-org/app', "names no repository; end it with /"),
    ],
)
def test_an_unusable_entry_is_reported_with_its_line(entry: str, problem: str) -> None:
    text = f"environments: [test]\nscm_repos:\n  {entry}\n"
    with pytest.raises(ConfigError) as raised:
        parse_config(text, source="devexbot.yaml")
    assert raised.value.message.startswith("devexbot.yaml:3: scm_repos: ")  # the entry's line
    assert problem in raised.value.message
