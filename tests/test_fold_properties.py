"""The fold is order-independent and duplicate-proof: a join-semilattice per slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from correlation import Event, Status, fold, join
from correlation.github import parse_github
from tests.scenario import EXPECTED_CARD, commit_stream

ARRIVED = datetime(2026, 11, 21, tzinfo=UTC)
SCENARIO = [
    event
    for event_type, payload in commit_stream()
    for event in parse_github(event_type, payload, received_at=ARRIVED)
]


def test_scenario_folds_to_the_expected_card() -> None:
    assert fold(SCENARIO).to_json() == EXPECTED_CARD


@settings(max_examples=300)
@given(st.permutations(SCENARIO), st.lists(st.sampled_from(SCENARIO), max_size=40))
def test_any_permutation_with_any_duplicates_folds_to_the_same_card(
    order: list[Event], duplicates: list[Event]
) -> None:
    assert fold(order + duplicates).to_json() == EXPECTED_CARD


BASE = datetime(2026, 11, 20, 10, tzinfo=UTC)
events = st.builds(
    Event,
    repo=st.just("o/r"),
    sha=st.just("a" * 40),
    source=st.sampled_from(["github", "jenkins", "deploy"]),
    kind=st.sampled_from(["check", "status", "deployment", "job", "approval"]),
    name=st.sampled_from(["build", "test", "staging", "production"]),
    # Few distinct times, so ties on time are common and the tie-breaks are exercised.
    at=st.integers(0, 5).map(lambda m: BASE + timedelta(minutes=m)),
    status=st.sampled_from(list(Status)),
    data=st.fixed_dictionaries(
        {"url": st.sampled_from(["https://a", "https://b"]),
         "state": st.sampled_from(["waiting", "approved", "rejected"])}
    ),
    # Build numbers and run attempts; some sources number nothing.
    generation=st.sampled_from([(), (1,), (2,), (7, 1), (7, 2), (8, 1)]),
)


# Decisions taken from the card: the bot's own approval and approver events.
decisions = st.one_of(
    st.builds(
        Event, repo=st.just("o/r"), sha=st.just("a" * 40), source=st.just("devexbot"),
        kind=st.just("approval"), name=st.sampled_from(["staging", "production"]),
        at=st.integers(0, 5).map(lambda m: BASE + timedelta(minutes=m)),
        status=st.sampled_from([Status.SUCCESS, Status.FAILURE, Status.NEUTRAL]),
        data=st.fixed_dictionaries({
            "state": st.sampled_from(["approved", "rejected", "expired"]),
            "request": st.sampled_from(["r1", "r2"]),
            "comment": st.sampled_from(["", "no"])}),
    ),
    st.builds(
        lambda env, user, state, minute: Event(
            "o/r", "a" * 40, "devexbot", "approver", f"{env}:{user}",
            BASE + timedelta(minutes=minute), Status.SUCCESS,
            {"environment": env, "login": user, "state": state}),
        st.sampled_from(["staging", "production"]), st.sampled_from(["U0A", "U0B", "ben"]),
        st.sampled_from(["approved", "rejected"]), st.integers(0, 5),
    ),
)


@settings(max_examples=300)
@given(st.lists(st.one_of(events, decisions), min_size=1, max_size=30),
       st.randoms(use_true_random=False))
def test_generated_events_fold_the_same_in_any_order(batch: list[Event], rnd: object) -> None:
    shuffled = batch + batch[: len(batch) // 2]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert fold(shuffled) == fold(batch)


@given(st.lists(events, max_size=15), st.lists(events, max_size=15), st.lists(events, max_size=15))
def test_join_is_associative_commutative_and_idempotent(
    a: list[Event], b: list[Event], c: list[Event]
) -> None:
    left = join(join(join({}, a), b), c)
    right = join(join({}, a), join(join({}, b), c).values())
    assert left == right
    assert join(join({}, b), a) == join(join({}, a), b)
    assert join(left, a + b + c) == left


def test_a_later_stage_wins_a_tie_on_event_time() -> None:
    queued = Event("o/r", "a" * 40, "github", "check", "build", BASE, Status.PENDING)
    running = Event("o/r", "a" * 40, "github", "check", "build", BASE, Status.RUNNING)
    assert fold([running, queued]).checks[0].status is Status.RUNNING
    assert fold([queued, running]).checks[0].status is Status.RUNNING


def test_an_older_event_arriving_late_does_not_undo_a_newer_one() -> None:
    done = Event("o/r", "a" * 40, "github", "check", "build", BASE + timedelta(minutes=3),
                 Status.SUCCESS)
    late_queued = Event("o/r", "a" * 40, "github", "check", "build", BASE, Status.PENDING)
    assert fold([done, late_queued]).checks[0].status is Status.SUCCESS


def test_a_later_generation_wins_even_with_an_earlier_clock() -> None:
    attempt1 = Event("o/r", "a" * 40, "github", "workflow", "ci", BASE + timedelta(minutes=9),
                     Status.FAILURE, generation=(7, 1))
    attempt2 = Event("o/r", "a" * 40, "github", "workflow", "ci", BASE, Status.RUNNING,
                     generation=(7, 2))
    assert fold([attempt1, attempt2]).checks[0].status is Status.RUNNING
    assert fold([attempt2, attempt1]).checks[0].status is Status.RUNNING


def test_generations_survive_the_stored_state() -> None:
    event = Event("o/r", "a" * 40, "jenkins", "build", "app", BASE, Status.SUCCESS,
                  {"build_number": 31}, generation=(31,))
    assert Event.from_dict(event.to_dict()).precedence == event.precedence
    # State stored before generations existed reads as generation ().
    legacy = {k: v for k, v in event.to_dict().items() if k != "generation"}
    assert Event.from_dict(legacy).generation == ()
