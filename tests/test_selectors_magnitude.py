"""k-DPP and greedy log-det at extreme magnitudes: same picks or a clear error."""

import numpy as np
import pytest

from skactive.exceptions import NumericalRangeError
from skactive.kernels import kdpp_select, logdet_select


@pytest.fixture
def pool():
    rng = np.random.RandomState(0)
    return rng.normal(size=(30, 4)), rng.dirichlet(np.ones(3), size=30)


@pytest.mark.parametrize("e", [-520, -300, 300, 520])
def test_kdpp_power_of_two_scale_keeps_picks(pool, e):
    H, P = pool
    expected = kdpp_select(P, H, 5, random_state=0)
    assert kdpp_select(P, H * 2.0**e, 5, random_state=0) == expected


@pytest.mark.parametrize("embedding", ["gradient", "fisher"])
@pytest.mark.parametrize("e", [-500, 500])
def test_logdet_scale_with_lam_keeps_picks(pool, embedding, e):
    # Scaling H by c and lam by c**2 leaves every log-det gain unchanged.
    H, P = pool
    expected = logdet_select(H, P, 5, embedding=embedding)
    got = logdet_select(H * 2.0**e, P, 5, embedding=embedding, lam=4.0**e)
    assert got == expected


@pytest.mark.parametrize("embedding", ["gradient", "fisher"])
def test_logdet_out_of_range_is_a_clear_error(pool, embedding):
    H, P = pool
    with pytest.raises(NumericalRangeError, match="Greedy log-det's gains leave float64's range"):
        logdet_select(H * 1e155, P, 5, embedding=embedding)


def test_kdpp_huge_pool_unique_picks(pool):
    H, P = pool
    picks = kdpp_select(P, H * 1e155, 5, random_state=0)
    assert len(set(picks)) == 5 and all(0 <= i < 30 for i in picks)
