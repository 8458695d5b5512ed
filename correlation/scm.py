"""Which GitHub repository a Git remote URL names.

CI tools report the remote they cloned (`https://github.com/o/r.git`, `git@github.com:o/r`,
`ssh://git@github.com:22/o/r.git`, ...), not the `owner/repo` cards are keyed by. GitHub's
own URLs are read directly; other hosts (mirrors, GitHub Enterprise, Gitea) are mapped by
the `scm_repos` config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from correlation.events import ParseError, normalise_repo

GITHUB_HOSTS = frozenset({"github.com", "www.github.com", "ssh.github.com"})

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]+):(?P<path>[^/].*)?$")
_OWNER_PREFIX = re.compile(r"^[A-Za-z0-9_.-]+/$")


def remote_location(url: str) -> str | None:
    """`host/path` of a Git remote URL in any of its forms, lower-case, without the user,
    password, port, query, `.git` suffix or trailing slash; None if it is not a remote URL."""
    url = url.strip()
    scheme = _SCHEME.match(url)
    if scheme:
        authority, _, path = url[scheme.end():].partition("/")
        host = authority.rpartition("@")[2].partition(":")[0]
    else:
        scp = _SCP_LIKE.match(url)
        if scp is None:
            return None
        host, path = scp["host"], scp["path"] or ""
    path = re.split(r"[?#]", path, maxsplit=1)[0].strip("/").removesuffix(".git").strip("/")
    if not host:
        return None
    return f"{host}/{path}".lower() if path else host.lower()


def _owner_repo(path: str) -> str | None:
    try:
        return normalise_repo(path)
    except ParseError:
        return None


@dataclass(frozen=True)
class ScmRepos:
    """Remote URLs of non-GitHub hosts mapped to `owner/repo`.

    A key ending in `/` maps every repository under it: the rest of the remote's path is
    appended to the value (`https://git.example.com/mirrors/` -> `octo-org/`, or `""` for a
    GitHub Enterprise host whose paths already are `owner/repo`). The longest key wins.
    """

    exact: Mapping[str, str] = field(default_factory=dict)
    prefixes: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str]) -> ScmRepos:
        """Build from the config's `scm_repos`; ValueError names a key or value we cannot use."""
        exact: dict[str, str] = {}
        prefixes: list[tuple[str, str]] = []
        for remote, repo in mapping.items():
            location = remote_location(remote)
            if location is None:
                raise ValueError(f"{remote!r} is not a Git remote URL")
            if remote.strip().endswith("/"):
                if repo and not _OWNER_PREFIX.match(repo):
                    raise ValueError(
                        f"{remote!r} ends with / so it maps many repositories: its value must "
                        f"be an owner followed by / (like octo-org/) or empty, not {repo!r}"
                    )
                prefixes.append((location + "/", repo.lower()))
            elif "/" not in location:
                raise ValueError(f"{remote!r} names no repository; end it with / to map a host")
            else:
                exact[location] = normalise_repo(repo)
        prefixes.sort(key=lambda item: len(item[0]), reverse=True)
        return cls(exact, tuple(prefixes))

    def repo_of(self, url: str) -> str | None:
        """`owner/repo` of a remote URL, or None if it is neither GitHub's nor mapped."""
        location = remote_location(url)
        if location is None:
            return None
        if location in self.exact:
            return self.exact[location]
        for prefix, owner in self.prefixes:
            if location.startswith(prefix):
                return _owner_repo(owner + location[len(prefix):])
        host, _, path = location.partition("/")
        return _owner_repo(path) if host in GITHUB_HOSTS else None
