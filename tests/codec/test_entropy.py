"""The codec's entropy model and coder: exact integers back, tables that are Laplaces."""

import decimal

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from inr.codec import coding, entropy, tables
from inr.codec.bitstream import Reader, Writer

pytest.importorskip("constriction")


def _laplace_cdf(x, b):
    return np.where(
        x < 0, 0.5 * np.exp(np.minimum(x, 0) / b), 1 - 0.5 * np.exp(-np.maximum(x, 0) / b)
    )


def _context_params(levels: int, seed: int = 0) -> dict:
    keys = jax.random.split(jax.random.PRNGKey(seed), 4)
    f = entropy.feature_count(2)
    return {"w0": 0.3 * jax.random.normal(keys[0], (f, 8)), "b0": jnp.full(8, 0.1),
            "w1": 0.3 * jax.random.normal(keys[1], (8, 8)), "b1": jnp.zeros(8),
            "w2": 0.3 * jax.random.normal(keys[2], (8, 2)), "b2": jnp.array([0.0, 0.5]),
            "grids": 0.2 * jax.random.normal(keys[3], (levels, 2))}  # fmt: skip


def test_rows_are_quantized_laplaces_that_sum_to_the_precision():
    for s in (0, 20, tables.SCALES - 1):
        for f in (0, tables.FRACTIONS - 1):
            counts = tables.row(s, f)
            k = tables.support(s)
            assert counts.shape == (2 * k + 2,) and counts.sum() == 2**tables.PRECISION
            assert counts.min() >= 1
            b = np.exp(tables.log_scale(s))
            mu = (f + 0.5) / tables.FRACTIONS
            j = np.arange(-k, k + 1)
            mass = _laplace_cdf(j + 0.5 - mu, b) - _laplace_cdf(j - 0.5 - mu, b)
            # Every bin gets at least one count: the rest come from the largest.
            atol = (2 * k + 2) * 2.0**-tables.PRECISION
            np.testing.assert_allclose(counts[:-1] / 2**tables.PRECISION, mass, atol=atol)


def test_rows_do_not_depend_on_the_callers_decimal_context():
    """A caller's :mod:`decimal` precision must not move a probability the decoder relies on."""
    cases = ((3, 0), (30, 17), (tables.SCALES - 1, tables.FRACTIONS - 1))
    want = [tables.row(s, f) for s, f in cases]
    tables.row.cache_clear()
    tables._powers.cache_clear()
    try:
        with decimal.localcontext(decimal.Context(prec=6, rounding=decimal.ROUND_FLOOR)):
            got = [tables.row(s, f) for s, f in cases]
    finally:
        tables.row.cache_clear()
        tables._powers.cache_clear()
    for a, b in zip(want, got, strict=True):
        np.testing.assert_array_equal(a, b)


def test_integer_latents_come_back_exactly_escapes_included():
    rng = np.random.default_rng(0)
    shapes = [(13, 17, 1), (7, 9, 3), (4, 5, 2), (2, 3, 3)]
    latents = [np.round(rng.laplace(0, 1.5, s)).astype(np.int64) for s in shapes]
    latents[0][3, 4, 0], latents[2][1, 1, 1] = 3000, -900  # far outside any row: escapes
    qcontext = entropy.quantize_params(_context_params(sum(s[-1] for s in shapes)))
    writer = Writer()
    coding.write_latents(writer, qcontext, latents)
    back = coding.read_latents(Reader(writer.bytes()), qcontext, shapes)
    for a, b in zip(latents, back, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("step", [0, 4, entropy.FRACTION])
def test_a_coarser_weight_step_rounds_each_weight_to_its_multiple(step):
    """Step ``k``: every fixed-point weight is the float's nearest multiple of ``2^-k``."""
    params = _context_params(3)
    qparams = entropy.quantize_params(params, step)
    unit = 2 ** (entropy.FRACTION - step)
    for name, values in qparams.items():
        assert np.all(values % unit == 0)
        want = np.round(np.asarray(params[name], np.float64) * 2.0**step)
        np.testing.assert_array_equal(values // unit, want)
    with pytest.raises(ValueError, match="step"):
        entropy.quantize_params(params, entropy.FRACTION + 1)


def test_weights_come_back_exactly():
    rng = np.random.default_rng(1)
    tensors = {"a": rng.integers(-300, 300, (5, 7)), "b": np.zeros(4, np.int64),
               "c": np.array([40000, -3])}  # fmt: skip
    writer = Writer()
    scales = coding.write_tensors(writer, tensors)
    back = coding.read_tensors(Reader(writer.bytes()), {k: v.shape for k, v in tensors.items()},
                               scales)  # fmt: skip
    for name, values in tensors.items():
        np.testing.assert_array_equal(values, back[name])


def test_the_integer_model_is_the_float_model_it_was_quantized_from():
    params = _context_params(3)
    qparams = entropy.quantize_params(params)
    rng = np.random.default_rng(2)
    grid, parent = rng.integers(-4, 5, (9, 11)), rng.integers(-4, 5, (5, 6))
    previous = rng.integers(-4, 5, (9, 11))
    features = entropy.contexts(grid, parent, previous, np).reshape(-1, entropy.feature_count(2))
    mu, log_b = entropy.predict_int(qparams, features, 1)
    want_mu, want_log_b = entropy.predict(entropy.dequantize_params(qparams),
                                          jnp.asarray(features, jnp.float32), 1)  # fmt: skip
    scale = 2.0**entropy.FRACTION
    np.testing.assert_allclose(mu / scale, want_mu, atol=0.02)
    np.testing.assert_allclose(log_b / scale, want_log_b, atol=0.02)


@pytest.mark.parametrize("shape", [(6, 7), (7, 6), (1, 5), (9,), (3, 4, 5), (2, 1, 3)])
def test_every_pass_reads_only_earlier_passes(shape):
    """A decoder has only the earlier passes when it predicts a pass: the contexts agree."""
    rng = np.random.default_rng(3)
    grid = rng.integers(-3, 4, shape)
    parent = rng.integers(-3, 4, tuple((n + 1) // 2 for n in shape))
    previous = rng.integers(-3, 4, shape)
    passes = entropy.phase(shape)
    assert sorted(np.unique(passes)) == list(range(2 ** len(shape))) or min(shape) == 1
    full = entropy.contexts(grid, parent, previous, np)
    for step in range(2 ** len(shape)):
        decoded = np.where(passes < step, grid, 0)
        here = passes == step
        np.testing.assert_array_equal(
            full[here], entropy.contexts(decoded, parent, previous, np)[here]
        )
    # The first pass sees no neighbour; in 2-D the last sees all eight.
    neighbours = slice(1 + 3 ** len(shape), 1 + 2 * 3 ** len(shape) - 1)
    assert np.all(full[passes == 0][:, neighbours] == 0)
    if shape == (6, 7):
        inner = np.zeros(shape, bool)
        inner[1:-1, 1:-1] = True
        assert np.all(
            full[(passes == 3) & inner][:, neighbours]
            == grid_neighbours(grid)[(passes == 3) & inner]
        )


def grid_neighbours(grid):
    """The eight neighbours of every inner position, in the entropy model's order."""
    out = np.zeros((*grid.shape, 8), grid.dtype)
    offsets = [(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a, b) != (0, 0)]
    for k, (a, b) in enumerate(offsets):
        out[1:-1, 1:-1, k] = grid[1 + a : grid.shape[0] - 1 + a, 1 + b : grid.shape[1] - 1 + b]
    return out


def test_bits_are_the_laplace_mass_of_each_integer():
    # Both tails far out, both sides of the interval's edge |q - mu| = 1/2, narrow and wide
    # scales, integers and relaxed values: float64 CDF differences are the reference.
    rng = np.random.default_rng(3)
    offsets = np.concatenate([[0.0, 0.49, 0.5, 0.51, -0.5, 3.0, -7.5, 40.0, -40.0],
                              rng.uniform(-12, 12, 200)])  # fmt: skip
    scales = np.concatenate([[0.5, 2.0, 0.1, 1.0, 0.3, 4.0, 0.7, 0.1, 0.1],
                             np.exp(rng.uniform(-2.5, 2.5, 200))])  # fmt: skip
    mu = jnp.asarray(rng.uniform(-3, 3, len(offsets)), jnp.float32)
    q = jnp.asarray(np.asarray(mu, np.float64) + offsets, jnp.float32)
    log_b = jnp.log(jnp.asarray(scales, jnp.float32))
    b = np.exp(np.asarray(log_b, np.float64))
    x = np.abs(np.asarray(q, np.float64) - np.asarray(mu, np.float64))  # the mass is symmetric
    p = _laplace_cdf(0.5 - x, b) - _laplace_cdf(-0.5 - x, b)  # the lower tail: no cancelling
    want = -np.log2(np.maximum(p, tables.SMALLEST))
    assert np.sum(p > tables.SMALLEST) > 100  # most of them between the clamp and certainty
    np.testing.assert_allclose(entropy.bits(q, mu, log_b), want, rtol=1e-4, atol=1e-5)
    grad = jax.grad(lambda m: jnp.sum(entropy.bits(q, m, log_b)))(mu)
    assert np.all(np.isfinite(np.asarray(grad)))


def test_integer_products_are_exact_at_any_magnitude():
    """BLAS in float64 where every sum stays below 2^53, integers beyond: the same as int64."""
    rng = np.random.default_rng(5)
    for big in (10, 2**20, 2**45):
        a = rng.integers(-big, big, (40, 22), dtype=np.int64)
        b = rng.integers(-400, 400, (22, 32), dtype=np.int64)
        np.testing.assert_array_equal(entropy._product(a, b), a @ b)
