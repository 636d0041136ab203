import jax
import jax.numpy as jnp
import numpy as np
import pytest

import inr


@pytest.mark.parametrize("n, chunk", [(100, 7), (100, 100), (100, 1000), (1, 4)])
def test_chunked_equals_direct(n, chunk):
    pts = jax.random.normal(jax.random.PRNGKey(0), (n, 2))
    fn = lambda p: jnp.stack([jnp.sin(p[:, 0]) * p[:, 1], p.sum(-1)], -1)
    out = jax.jit(lambda p: inr.evaluate_chunked(fn, p, chunk))(pts)
    np.testing.assert_allclose(out, fn(pts), rtol=1e-6)


def test_a_count_runs_the_chunks_that_hold_it_and_zeros_the_rest():
    pts = jax.random.normal(jax.random.PRNGKey(1), (64, 2))
    fn = lambda p: jnp.sin(p) + 2.0  # nowhere zero
    run = jax.jit(lambda p, c: inr.evaluate_chunked(fn, p, 8, count=c))
    for count in (0, 1, 8, 9, 63, 64, 100):
        out = np.asarray(run(pts, count))
        held = -(-min(count, 64) // 8) * 8  # the whole chunks holding the first `count`
        np.testing.assert_allclose(out[:held], fn(pts[:held]), rtol=1e-6)
        assert not out[held:].any()
    assert run._cache_size() == 1  # the count is data: one program for all of them


@pytest.mark.parametrize("grid", [False, True])
def test_a_few_points_run_a_few_chunks_of_a_block(grid):
    """A block of `chunk` points runs in `slices` chunks, and only those holding points run."""
    runs = []

    def fn(args, p):
        jax.debug.callback(lambda: runs.append(1))
        return p.sum(-1, keepdims=True) * args

    chunk, slices = 1024, 16
    slice_ = chunk // slices
    for n in (100, 1000, 2500):
        runs.clear()
        if grid:  # n points as a grid of n/10 x 10
            axes = (np.arange(n // 10, dtype=np.float32), np.arange(10, dtype=np.float32))
            out = inr.render.evaluate_grid(fn, np.float32(2), axes, chunk=chunk, slices=slices)
            want = 2 * np.asarray(inr.coords.points_from_axes(*axes)).sum(-1, keepdims=True)
        else:
            x = np.random.default_rng(n).normal(size=(n, 2)).astype(np.float32)
            out, want = (
                inr.render.evaluate(fn, np.float32(2), x, chunk=chunk, slices=slices),
                2 * x.sum(-1, keepdims=True),
            )
        np.testing.assert_allclose(out, want, rtol=1e-6)
        blocks, left = divmod(n, chunk)
        assert len(runs) == blocks * slices + -(-left // slice_)


def test_bad_slices_are_named():
    with pytest.raises(ValueError, match="slices"):
        inr.render.evaluate(lambda a, p: p, np.float32(1), np.zeros((3, 2)), slices=0)
