"""Command text to typed arguments: quoting, positions, keys, and every parameter type's
bounds. Plain data in, plain data out."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devexbot.runbooks.model import (
    ArgumentError,
    LocalRun,
    Param,
    ParamType,
    RunbookCommand,
    check_argv,
    substitute,
)
from devexbot.runbooks.parse import read_words, split_words

CLEANUP = RunbookCommand(
    name="cleanup-test-data",
    description="Delete test fixtures older than N days",
    params=(
        Param("env", ParamType.CHOICE, default="test", choices=("test", "staging")),
        Param("days", ParamType.INT, default=7, min=1, max=90),
        Param("note", ParamType.STR, default=""),
    ),
    execution=LocalRun(argv=("scripts/cleanup.sh",), cwd=__import__("pathlib").Path(".")),
    allowed=("*",),
)
DEPLOY = RunbookCommand(
    name="deploy", description="Deploy a service",
    params=(Param("service", pattern=r"[a-z][a-z0-9-]*"), Param("force", ParamType.BOOL,
                                                                default=False)),
    execution=CLEANUP.execution, allowed=("*",))


def parse(command: RunbookCommand, text: str):  # type: ignore[no-untyped-def]
    return read_words(command, split_words(text))


def test_keys_positions_and_defaults() -> None:
    args = parse(CLEANUP, "staging days=30")
    assert args.complete and args.values == {"env": "staging", "days": 30, "note": ""}
    assert parse(CLEANUP, "").values == {"env": "test", "days": 7, "note": ""}
    # Positional values fill the parameters that no key named, in declared order.
    assert parse(CLEANUP, "days=3 staging hello").values == {
        "env": "staging", "days": 3, "note": "hello"}
    assert parse(CLEANUP, "--days=3 ENV=staging").values["days"] == 3


@pytest.mark.parametrize(("text", "note"), [
    ('note="two words"', "two words"),
    ("note='it''s'", "its"),
    ('"note=two words"', "two words"),
    ("note=\u201ccurly quotes\u201d", "curly quotes"),  # a phone's smart quotes
    ("test 7 'a b c'", "a b c"),
    ('note="a=b"', "a=b"),
    ("note=&lt;b&gt;&amp;", "<b>&"),  # Slack sends &, <, > as entities
])
def test_quoted_values(text: str, note: str) -> None:
    args = parse(CLEANUP, text)
    assert args.errors == () and args.values["note"] == note


def test_unknown_keys_are_refused_with_the_valid_ones() -> None:
    args = parse(CLEANUP, "enviroment=staging")
    assert not args.complete
    assert args.errors == ("`cleanup-test-data` has no parameter `enviroment`; "
                           "valid: `env`, `days`, `note`",)


@pytest.mark.parametrize(("text", "error"), [
    ("days=1 days=2", "`days` is given twice"),
    ("test 7 note extra", "too many values: `cleanup-test-data` takes `env`, `days`, `note`"),
    ("env=prod", "`env` must be one of test, staging, not `prod`"),
    ("days=0", "`days` must be a whole number from 1 to 90, not 0"),
    ("days=91", "`days` must be a whole number from 1 to 90, not 91"),
    ("days=7.5", "`days` must be a whole number from 1 to 90, not `7.5`"),
    ("days=seven", "`days` must be a whole number from 1 to 90, not `seven`"),
    ("days=", "`days` must be a whole number from 1 to 90, not ``"),
    ("note=--force", "`note` must not start with `-`"),
    ("note=" + "x" * 501, "`note` must be at most 500 characters"),
])
def test_each_type_and_bound(text: str, error: str) -> None:
    assert error in parse(CLEANUP, text).errors


def test_bounds_are_inclusive() -> None:
    assert parse(CLEANUP, "days=1").values["days"] == 1
    assert parse(CLEANUP, "days=90").values["days"] == 90
    assert parse(CLEANUP, "days=+5").values["days"] == 5


def test_required_parameters_are_reported_missing_not_wrong() -> None:
    args = parse(DEPLOY, "")
    assert args.missing == ("service",) and args.errors == ()
    assert parse(DEPLOY, "api").values == {"service": "api", "force": False}


@pytest.mark.parametrize(("word", "value"), [("yes", True), ("true", True), ("1", True),
                                             ("no", False), ("False", False), ("off", False)])
def test_booleans(word: str, value: bool) -> None:
    assert parse(DEPLOY, f"api force={word}").values["force"] is value


def test_bool_and_pattern_refusals() -> None:
    assert "`force` must be true or false, not `maybe`" in parse(DEPLOY, "api maybe").errors
    assert parse(DEPLOY, "API").errors == ("`service` must match `[a-z][a-z0-9-]*`, not `API`",)
    # A pattern decides alone: it may allow a leading dash, or not.
    assert parse(DEPLOY, "-rf").errors[0].startswith("`service` must match")


def test_an_open_quote_is_a_friendly_error() -> None:
    with pytest.raises(ArgumentError, match="Quote values with spaces"):
        split_words('note="unfinished')


def test_nul_characters_never_reach_a_process() -> None:
    assert parse(CLEANUP, "note=a\x00b").errors == ("`note` must not contain a NUL character",)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
               max_size=60).filter(lambda s: not s.startswith("-")))
def test_any_quoted_value_arrives_exactly_as_typed(value: str) -> None:
    args = read_words(CLEANUP, split_words("note=" + shlex.quote(value)))
    assert args.errors == () and args.values["note"] == value


def test_placeholders_are_substituted_as_whole_arguments() -> None:
    assert substitute("--days={days}", {"days": "7"}) == "--days=7"
    assert substitute("{{literal}} {note}", {"note": "$(id)"}) == "{literal} $(id)"
    check_argv(["run.sh", "{env}", "{{x}}"], CLEANUP.params)
    with pytest.raises(ValueError, match=r"\{region\} is not a parameter"):
        check_argv(["run.sh", "{region}"], CLEANUP.params)
    with pytest.raises(ValueError, match="unmatched brace"):
        check_argv(["run.sh", "{env"], CLEANUP.params)


def test_usage_is_generated_from_the_parameters() -> None:
    assert CLEANUP.usage("/devex ") == (
        "/devex cleanup-test-data [env=test|staging] [days=1..90] [note=text]")
    assert DEPLOY.usage("/") == "/deploy service=text [force=true|false]"
