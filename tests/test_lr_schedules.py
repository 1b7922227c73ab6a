"""common/lr_schedules.py at chosen epochs and steps, against the formulas of the reference recipes."""
import math

import pytest

from common.lr_schedules import anneal_lr, exponential_decay, warmup_inverse_sqrt


@pytest.mark.parametrize('epoch, multiplier', [
    (0, 1.0), (499, 1.0), (500, 0.3), (999, 0.3), (1000, 0.1), (1500, 0.03), (2000, 0.01), (5000, 0.01),
])
def test_anneal_by_0_3_alternates_thirds_and_tenths(epoch, multiplier):
    assert anneal_lr(1e-3, epoch, ['500', '1000', '1500', '2000'], 0.3) == pytest.approx(1e-3 * multiplier)


@pytest.mark.parametrize('epoch, reached', [(0, 0), (10, 1), (19, 1), (20, 2), (100, 2)])
def test_other_factors_compound(epoch, reached):
    assert anneal_lr(0.1, epoch, [10, 20], 0.5) == pytest.approx(0.1 * 0.5 ** reached)


def test_no_anneal_steps_keeps_the_base_rate():
    assert anneal_lr(0.1, 1000, [], 0.1) == 0.1


@pytest.mark.parametrize('step, expected', [
    (1, 0.1 * 1 / 1000 ** 1.5),
    (500, 0.1 * 500 / 1000 ** 1.5),
    (1000, 0.1 / math.sqrt(1000)),  # the peak
    (1001, 0.1 / math.sqrt(1001)),
    (40000, 0.1 / 200),
])
def test_warmup_then_inverse_sqrt(step, expected):
    assert warmup_inverse_sqrt(0.1, step, 1000) == pytest.approx(expected)


def test_rate_rises_to_the_peak_then_falls():
    rates = [warmup_inverse_sqrt(0.1, step, 100) for step in range(1, 400)]
    peak = max(range(len(rates)), key=rates.__getitem__) + 1
    assert peak == 100 and rates[-1] < rates[99]


def test_no_warmup_keeps_the_base_rate():
    assert warmup_inverse_sqrt(0.1, 1, 0) == warmup_inverse_sqrt(0.1, 50000, 0) == 0.1


@pytest.mark.parametrize('step, warmup', [(0, 1000), (5, -1)])
def test_invalid_step_or_warmup_is_named(step, warmup):
    with pytest.raises(ValueError, match=f'got step {step}, warmup_steps {warmup}'):
        warmup_inverse_sqrt(0.1, step, warmup)


def test_exponential_decay_multiplies_once_per_epoch():
    assert exponential_decay(3e-4, 0, 0.9998) == 3e-4
    assert exponential_decay(3e-4, 2, 0.9998) == pytest.approx(3e-4 * 0.9998 * 0.9998)
    assert exponential_decay(0.1, 1000, 1.0) == 0.1  # gamma 1: no decay
