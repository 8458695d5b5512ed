"""CommitCards as plain data for renderer tests: small builders, and hypothesis strategies
for random (and hostile) cards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from correlation.card import (
    Approval,
    Author,
    CheckLine,
    CommitCard,
    DeploymentLine,
    PullRequest,
)
from correlation.status import Status, overall

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
NEW_SHA = "4f7e1c0d8b2a9e6f3c5d7a1b0e9f8c2d4a6b8e0f"
REPO = "octo-org/octo-app"
AT = datetime(2026, 11, 20, 10, tzinfo=UTC)


def check(name: str, status: Status = Status.SUCCESS, **fields: Any) -> CheckLine:
    fields.setdefault("url", f"https://ci.example.com/{name.replace(' ', '-')}")
    return CheckLine(source=fields.pop("source", "github"), name=name, status=status,
                     updated_at=fields.pop("updated_at", AT), **fields)


def deployment(environment: str, status: Status = Status.SUCCESS, **fields: Any) -> DeploymentLine:
    fields.setdefault("url", f"https://{environment}.example.com")
    return DeploymentLine(environment=environment, status=status,
                          updated_at=fields.pop("updated_at", AT), **fields)


def card(**fields: Any) -> CommitCard:
    """A card for octo-org/octo-app 6dcb09b on feature/login; `overall` follows the parts."""
    fields.setdefault("repo", REPO)
    fields.setdefault("sha", SHA)
    fields.setdefault("branch", "feature/login")
    fields.setdefault("message", "Add login page")
    fields.setdefault("author", Author(login="ana", name="Ana Lima"))
    fields.setdefault("url", f"https://github.com/{REPO}/commit/{SHA}")
    fields.setdefault("checks", ())
    fields.setdefault("deployments", ())
    fields.setdefault(
        "overall",
        overall([c.status for c in fields["checks"]] + [d.status for d in fields["deployments"]]),
    )
    return CommitCard(**fields)


def button(i: int) -> dict[str, Any]:
    return {"type": "button", "action_id": f"action-{i}", "value": str(i),
            "text": {"type": "plain_text", "text": f"Do {i}"}}


# --- hypothesis ---------------------------------------------------------------------------

HOSTILE = [
    "<!channel>", "<!here|here>", "<@U024BE7LH>", "a & b", "<https://evil.example|click>",
    "```", "*bold* _it_ ~s~", "line\nbreak", "tab\there", "😀" * 40, "\u200b", "&amp;", ">",
    "@channel", "back`tick", "\x1b[31mred\x1b[0m",
]
statuses = st.sampled_from(list(Status))
short_text = st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE))
long_text = st.builds(lambda piece, n: piece * n,
                      st.sampled_from(["a", "&", "😀", "<", "é ", "x\n"]), st.integers(0, 4000))
any_text = st.one_of(short_text, short_text, long_text)
urls = st.one_of(
    st.none(),
    st.just("https://ci.example.com/build/1?a=1&b=<2>|3"),
    st.just("javascript:alert(1)"),
    st.builds(lambda n: "https://example.com/" + "a" * n, st.integers(0, 3000)),
    st.builds(lambda s: f"https://example.com/{s}", st.text(max_size=30)),
)
names_ = st.one_of(st.sampled_from(["build", "test", "lint", "CI / build", "CI / test",
                                    "CI / lint", "CI / e2e", "Deploy / ship", "ci/jenkins"]),
                   any_text)
details = st.fixed_dictionaries(
    {},
    optional={
        "run_id": st.one_of(st.integers(1, 3), st.text(max_size=3), st.none(), st.just(True)),
        "workflow_name": st.one_of(st.just("CI"), short_text, st.integers()),
        "failed_tests": st.one_of(
            st.lists(st.one_of(any_text, st.fixed_dictionaries(
                {"name": any_text}, optional={"message": any_text}), st.integers()),
                max_size=30),
            any_text),
        "annotations": st.one_of(
            st.integers(-1, 50),
            st.lists(st.fixed_dictionaries(
                {}, optional={"path": short_text, "start_line": st.integers(0, 9999),
                              "message": any_text, "title": short_text}), max_size=20)),
        "output_summary": any_text,
        "failed_steps": st.lists(short_text, max_size=10),
        "tests": st.dictionaries(st.sampled_from(["failed", "skipped", "passed", "total", "x"]),
                                 st.one_of(st.integers(0, 10**6), st.text(max_size=3))),
        "log_url": urls,
    },
)
checks = st.builds(
    CheckLine,
    source=st.sampled_from(["github", "jenkins"]),
    name=names_,
    status=statuses,
    url=urls,
    updated_at=st.just(AT),
    kind=st.sampled_from(["check", "status", "workflow", "job", "jenkins"]),
    summary=st.one_of(st.none(), any_text),
    details=details,
)
approvals = st.builds(
    Approval,
    state=st.sampled_from(["waiting", "approved", "rejected", "weird"]),
    by=st.lists(short_text, max_size=12).map(tuple),
    reviewers=st.lists(short_text, max_size=12).map(tuple),
    comment=st.one_of(st.none(), any_text),
)
deployments = st.builds(
    DeploymentLine,
    environment=st.one_of(st.sampled_from(["staging", "production"]), any_text),
    status=statuses,
    url=urls,
    updated_at=st.just(AT),
    approval=st.one_of(st.none(), approvals),
    description=st.one_of(st.none(), any_text),
)
pull_requests = st.builds(
    PullRequest,
    number=st.integers(1, 10**6),
    title=any_text,
    state=st.sampled_from(["open", "closed", "merged"]),
    url=urls,
    review=st.sampled_from([None, "approved", "changes_requested", "pending", "<odd>"]),
    draft=st.booleans(),
)
tickets = st.fixed_dictionaries(
    {}, optional={"key": short_text, "url": urls, "title": any_text, "status": short_text}
)


@st.composite
def cards(draw: st.DrawFn) -> CommitCard:
    card_checks = tuple(draw(st.lists(checks, max_size=draw(st.sampled_from([3, 12, 220])))))
    card_deployments = tuple(draw(st.lists(deployments, max_size=35)))
    return CommitCard(
        repo=draw(st.one_of(st.just(REPO), any_text.filter(bool))),
        sha=draw(st.sampled_from([SHA, NEW_SHA])),
        branch=draw(st.one_of(st.none(), any_text)),
        message=draw(st.one_of(st.none(), any_text)),
        author=draw(st.one_of(st.none(), st.builds(Author, login=st.one_of(st.none(), short_text),
                                                   name=st.one_of(st.none(), any_text)))),
        url=draw(urls),
        pull_request=draw(st.one_of(st.none(), pull_requests)),
        checks=card_checks,
        deployments=card_deployments,
        tickets=tuple(draw(st.lists(tickets, max_size=8))),
        overall=overall([c.status for c in card_checks] + [d.status for d in card_deployments]),
        updated_at=AT + timedelta(minutes=draw(st.integers(0, 60))),
    )
