"""The storm simulation of benchmarks/backoff_storm.py on a small scenario:
deterministic, and the three policies behave as the benchmark reports."""

import pytest

from benchmarks import backoff_storm

SMALL = backoff_storm.Scenario(clients=200)


@pytest.fixture(scope="module")
def runs():
    return backoff_storm.run_all(SMALL)


def by_name(runs):
    return {run.policy.name: run.summary() for run in runs}


def test_same_seed_same_numbers_other_seed_other_numbers(runs):
    again = backoff_storm.run_all(SMALL)
    assert by_name(again) == by_name(runs)
    assert [run.series for run in again] == [run.series for run in runs]
    other = backoff_storm.Simulation(
        backoff_storm.Scenario(clients=200, seed=2),
        backoff_storm.Adaptive).run()
    assert other.summary()["goodput"] != by_name(runs)["adaptive"]["goodput"]


def test_adaptive_recovers_where_never_shrink_does_not(runs):
    result = by_name(runs)
    fixed, never, adaptive = (result[name] for name in (
        "fixed", "never-shrink", "adaptive"))
    assert never["recover_all_s"] is None
    assert adaptive["recover_all_s"] is not None
    assert adaptive["answers_to_recover_median"] <= 3
    assert adaptive["probe_worst_wait_s"] < never["probe_worst_wait_s"] / 2
    assert (adaptive["overload_goodput_per_s"]
            >= 0.95 * never["overload_goodput_per_s"])
    assert fixed["wasted_share"] > 5 * never["wasted_share"]
    assert fixed["probe_worst_wait_s"] == SMALL.default_timeout


def test_table_names_every_policy(runs):
    table = backoff_storm.format_table(runs)
    for name in ("fixed", "never-shrink", "adaptive"):
        assert "| %s " % name in table
