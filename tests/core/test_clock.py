"""The platform clock: `now()`, and the act's own time of a recorded procedure."""

from __future__ import annotations

import datetime as dt

import pytest

from licita.core import clock


def test_act_time_is_now_outside_a_recorded_act(frozen_clock):
    assert clock.act_time() == clock.now() == frozen_clock.at


def test_recorded_act_dates_the_act_and_leaves_now_alone(frozen_clock):
    happened = frozen_clock.at - dt.timedelta(days=3)

    with clock.recorded_act(happened):
        assert clock.act_time() == happened
        assert clock.now() == frozen_clock.at

    assert clock.act_time() == frozen_clock.at


def test_recorded_act_is_reset_when_the_block_raises(frozen_clock):
    with pytest.raises(RuntimeError), clock.recorded_act(frozen_clock.at - dt.timedelta(hours=1)):
        raise RuntimeError

    assert clock.act_time() == frozen_clock.at


def test_recorded_act_refuses_naive_and_future_times(frozen_clock):
    with pytest.raises(ValueError, match="aware"), clock.recorded_act(dt.datetime(2026, 3, 1, 12, 0)):
        pass
    with pytest.raises(ValueError, match="future"), clock.recorded_act(frozen_clock.at + dt.timedelta(seconds=1)):
        pass
