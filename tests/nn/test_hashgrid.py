"""The hash grid against a direct NumPy reading of the paper's formulas."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import inr
from inr.nn.hash_encoding import PRIMES, grid_layout, spatial_hash


def _numpy_hash(v, table_size):
    """Eq. 4 with Python integers: XOR of v_i * pi_i, taken mod 2^32, then mod T."""
    h = 0
    for vi, pi in zip(v, PRIMES, strict=False):
        h ^= (int(vi) * pi) % 2**32
    return h % table_size


def _numpy_encoding(grid: inr.HashGrid, table: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The encoding point by point, level by level, corner by corner (float64)."""
    d = points.shape[-1]
    res, rows, dense, offset = grid.layout(d)
    out = np.zeros((len(points), grid.levels, grid.features))
    for p, x in enumerate(points):
        u = np.clip((x + 1) / 2, 0, 1)
        for level in range(grid.levels):
            pos = u * res[level]
            cell = np.clip(np.floor(pos), 0, res[level] - 1)
            t = pos - cell
            if grid.interpolation == "smoothstep":
                t = t * t * (3 - 2 * t)
            for corner in itertools.product((0, 1), repeat=d):
                v = cell.astype(np.int64) + corner
                if dense[level]:
                    row = sum(int(v[i]) * int(res[level] + 1) ** i for i in range(d))
                else:
                    row = _numpy_hash(v, 2**grid.log2_table_size)
                w = np.prod([t[i] if corner[i] else 1 - t[i] for i in range(d)])
                out[p, level] += w * table[offset[level] + row]
    return out.reshape(len(points), -1)


def _init(grid, d, seed=0):
    params = grid.init(jax.random.PRNGKey(seed), jnp.zeros((1, d)))
    # Features of order one, so that comparisons are not dominated by 1e-4 noise.
    table = jax.random.normal(jax.random.PRNGKey(seed + 1), params["params"]["table"].shape)
    return {"params": {"table": table}}


def test_hash_matches_the_papers_formula(rng):
    v = rng.integers(0, 2**20, (200, 3))
    for d in (2, 3):
        got = np.asarray(spatial_hash(v[:, :d], 2**14))
        np.testing.assert_array_equal(got, [_numpy_hash(x, 2**14) for x in v[:, :d]])
    # A table size that is not a power of two is a true modulo.
    got = np.asarray(spatial_hash(v[:, :2], 1000))
    np.testing.assert_array_equal(got, [_numpy_hash(x, 1000) for x in v[:, :2]])


def test_layout_keeps_coarse_levels_dense():
    res, rows, dense, offset = grid_layout(2, 6, 2**10, 4, 2.0)
    np.testing.assert_array_equal(res, [4, 8, 16, 32, 64, 128])
    np.testing.assert_array_equal(dense, [True, True, True, False, False, False])
    np.testing.assert_array_equal(rows, [25, 81, 289, 1024, 1024, 1024])
    np.testing.assert_array_equal(offset, np.concatenate([[0], np.cumsum(rows)[:-1]]))


@pytest.mark.parametrize("interpolation", ["linear", "smoothstep"])
@pytest.mark.parametrize("d", [2, 3])
def test_encoding_matches_numpy(rng, d, interpolation):
    grid = inr.HashGrid(
        levels=5, features=3, log2_table_size=9, base_resolution=3, growth=1.7,
        interpolation=interpolation,
    )  # fmt: skip
    params = _init(grid, d)
    points = rng.uniform(-1.05, 1.05, (24, d)).astype(np.float32)
    got = np.asarray(jax.jit(grid.apply)(params, points))  # eagerly, each operation compiles
    want = _numpy_encoding(grid, np.asarray(params["params"]["table"], np.float64), points)
    assert got.shape == (24, 15)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_coarse_only_grid_is_bilinear_interpolation_of_its_table(rng):
    """One dense level of resolution N: the table is an (N+1)^2 image of vertex values."""
    n = 6
    grid = inr.HashGrid(levels=1, features=2, base_resolution=n, log2_table_size=8)
    params = _init(grid, 2)
    image = np.asarray(params["params"]["table"]).reshape(n + 1, n + 1, 2)  # [row=y, col=x]
    points = rng.uniform(-1, 1, (100, 2))
    col, row = (points[:, 0] + 1) / 2 * n, (points[:, 1] + 1) / 2 * n
    c0, r0 = (
        np.minimum(np.floor(col), n - 1).astype(int),
        np.minimum(np.floor(row), n - 1).astype(int),
    )
    fc, fr = (col - c0)[:, None], (row - r0)[:, None]
    want = (
        image[r0, c0] * (1 - fr) * (1 - fc)
        + image[r0, c0 + 1] * (1 - fr) * fc
        + image[r0 + 1, c0] * fr * (1 - fc)
        + image[r0 + 1, c0 + 1] * fr * fc
    )
    np.testing.assert_allclose(grid.apply(params, points.astype(np.float32)), want, atol=1e-5)


def test_weights_reproduce_vertex_features_and_partition_unity():
    """At a vertex the encoding is that vertex's row; a constant table encodes to itself."""
    grid = inr.HashGrid(levels=1, features=1, base_resolution=4, log2_table_size=8)
    ones = {"params": {"table": jnp.ones((25, 1))}}
    pts = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (50, 2)), jnp.float32)
    np.testing.assert_allclose(grid.apply(ones, pts), 1.0, rtol=1e-6)
    ramp = {"params": {"table": jnp.arange(25.0)[:, None]}}
    vertex = jnp.array([[-1 + 2 * 3 / 4, -1 + 2 * 1 / 4]])  # x index 3, y index 1
    np.testing.assert_allclose(grid.apply(ramp, vertex), [[3 + 1 * 5]], rtol=1e-6)


@pytest.mark.parametrize("interpolation", ["linear", "smoothstep"])
def test_derivatives_match_finite_differences(rng, interpolation):
    """Autodiff through the gather and the blend, against central differences.

    The points keep 3 steps from every cell edge of every level, where a
    linear grid's derivative jumps; a smooth readout (sin of a projection)
    stands in for the MLP, whose ReLU kinks would do the same.
    """
    grid = inr.HashGrid(levels=4, features=2, log2_table_size=8, base_resolution=4,
                        interpolation=interpolation)  # fmt: skip
    params = _init(grid, 2)
    w = jax.random.normal(jax.random.PRNGKey(5), (8, 1))
    f = jax.jit(lambda p: jnp.sin(grid.apply(params, p) @ w))  # one program, not one per operation
    h = 1e-3
    res = grid.layout(2)[0]
    points = rng.uniform(-0.9, 0.9, (400, 2))
    frac = ((points[:, None, :] + 1) / 2 * res[None, :, None]) % 1
    away = ((frac > 3 * h * res.max()) & (frac < 1 - 3 * h * res.max())).all(axis=(1, 2))
    points = jnp.asarray(points[away][:20], jnp.float32)
    assert len(points) == 20
    grad = inr.gradient(f, points, jnp.ones(2))
    for axis in range(2):
        e = jnp.zeros(2).at[axis].set(h)
        fd = (f(points + e) - f(points - e)) / (2 * h)
        # Central differences err by h^2 f'''/6, a percent of these slopes.
        scale = float(jnp.abs(fd).max())
        np.testing.assert_allclose(grad[:, 0, axis], fd[:, 0], rtol=1e-2, atol=1e-2 * scale)


def test_second_derivatives_vanish_inside_linear_cells_but_not_smoothstep():
    points = jnp.array([[0.13, -0.41], [0.52, 0.33]], jnp.float32)
    for interpolation, zero in (("linear", True), ("smoothstep", False)):
        grid = inr.HashGrid(levels=2, features=1, base_resolution=4, log2_table_size=8,
                            interpolation=interpolation)  # fmt: skip
        params = _init(grid, 2)
        f = jax.jit(lambda p, g=grid, q=params: g.apply(q, p))
        lap = inr.laplacian(f, points, jnp.ones(2))
        assert np.allclose(lap, 0.0, atol=1e-4) == zero


def test_bad_sizes_are_named_errors():
    for kwargs, name in [
        (dict(levels=0), "levels"),
        (dict(features=-1), "features"),
        (dict(log2_table_size=40), "log2_table_size"),
        (dict(growth=0.5), "growth"),
        (dict(interpolation="cubic"), "interpolation"),
        (dict(levels=40), "resolution"),
    ]:
        with pytest.raises(ValueError, match=name):
            inr.HashGrid(**kwargs)
    with pytest.raises(ValueError, match="2-D or 3-D"):
        inr.HashGrid().init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))


# -- fitting ------------------------------------------------------------------

_ADAM = optax.adam(1e-2, b1=0.9, b2=0.99, eps=1e-15)  # instant-ngp's


def _small_grid(**kw):
    grid = inr.HashGrid(levels=6, features=2, log2_table_size=12, base_resolution=4, **kw)
    return inr.MLP(32, hidden_layers=1, out_features=1, encoding=grid)


def test_fit_image_on_random_batches_renders_the_whole_image(camera64):
    """A step sees 512 of the 4096 pixels; the render is still the whole image."""
    result = inr.fit_image(camera64, model=_small_grid(), optimizer=_ADAM, steps=200, points=512)
    full = inr.fit_image(camera64, model=_small_grid(), optimizer=_ADAM, steps=200)
    sampled_db = inr.psnr(result.render(64, 64), camera64)
    assert sampled_db > 27 and inr.psnr(full.render(64, 64), camera64) > sampled_db
    assert result.history["psnr"].shape == (200,)
    assert result.render(16, 32).shape == (16, 32)


@pytest.mark.slow
def test_fit_images_on_random_batches_equals_separate_fits(camera64):
    """Image 0 of a batch is keyed as a lone fit with the batch's seed (init and draws).

    The other images share its draws but not its initialisation (``PRNGKey(seed + i)``),
    so no lone fit reproduces them; ``test_fit`` checks them full batch.
    """
    stack = np.stack([camera64[::-1], camera64])
    options = dict(model=_small_grid(), optimizer=_ADAM, steps=20, points=256)
    both = inr.fit_images(stack, seed=4, **options)
    one = inr.fit_image(stack[0], seed=4, **options)
    np.testing.assert_allclose(both[0].render(64, 64), one.render(64, 64), atol=1e-4)
    assert inr.psnr(both[1].render(64, 64), camera64) > inr.psnr(both[1].render(64, 64), stack[0])


@pytest.mark.slow  # a long fit
def test_gradient_fits_through_a_grid_reach_the_exact_reconstruction(camera64):
    """Second-order mixed derivatives flow through the grid and the MLP.

    Growth 1.5 keeps the levels' vertices off the half-pixel points where
    the gradients are supervised: a smoothstep level's derivative is zero
    at its vertices, so a level aligned with them cannot learn from them.
    """
    grid = inr.HashGrid(levels=12, features=2, log2_table_size=14, base_resolution=4,
                        growth=1.5, interpolation="smoothstep")  # fmt: skip
    grad = inr.image_gradient(camera64)
    exact = inr.reconstruct(grad, mean=float(camera64.mean()))
    result = inr.fit_gradients(
        grad,
        mean=float(camera64.mean()),
        model=inr.MLP(32, hidden_layers=1, out_features=1, encoding=grid),
        optimizer=_ADAM,
        steps=300,
    )
    assert inr.psnr(result.render(64, 64), exact) > 45


@pytest.mark.slow
def test_a_4096_square_image_fits_on_random_batches():
    """2^15 random pixels per step, of 16 M; the render of any region is the image there."""
    image = inr.resize(inr.sample_image("astronaut"), (4096, 4096))
    grid = inr.HashGrid(levels=16, features=2, log2_table_size=19, base_resolution=16)
    model = inr.MLP(64, hidden_layers=1, out_features=3, encoding=grid)
    fit = inr.fit_image(image, model=model, optimizer=_ADAM, steps=200, points=2**15)
    part = fit.render(256, 256, region=(0.25, 0.25, 0.3125, 0.3125))
    assert inr.psnr(part, image[1024:1280, 1024:1280]) > 25


def test_a_bfloat16_table_halves_memory_and_rounds_only_the_features(rng):
    grid = inr.HashGrid(levels=3, features=2, log2_table_size=8, base_resolution=4)
    half = inr.HashGrid(levels=3, features=2, log2_table_size=8, base_resolution=4,
                        param_dtype=jnp.bfloat16)  # fmt: skip
    params = _init(grid, 2)
    table = params["params"]["table"]
    assert (
        half.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))["params"]["table"].dtype == jnp.bfloat16
    )
    points = jnp.asarray(rng.uniform(-1, 1, (30, 2)), jnp.float32)
    low = half.apply({"params": {"table": table.astype(jnp.bfloat16)}}, points)
    assert low.dtype == jnp.float32
    # bfloat16 keeps 8 significant bits: each feature within 2^-8 of its size.
    np.testing.assert_allclose(
        low, grid.apply(params, points), atol=2**-8 * float(jnp.abs(table).max())
    )


@pytest.mark.slow
def test_gradient_fits_keep_their_values_with_the_multiscale_terms_kept(camera64):
    """Derivatives at the supervised points do not pin a grid's values between them.

    Under the paper's loss alone (the last 30% of a default gradient fit) a
    long fit drifts away from the exact reconstruction; ``anneal=None``
    keeps the multi-scale terms, and with them the values.
    """
    grid = inr.HashGrid(levels=12, features=2, log2_table_size=14, base_resolution=4,
                        growth=1.5, interpolation="smoothstep")  # fmt: skip
    grad = inr.image_gradient(camera64)
    exact = inr.reconstruct(grad, mean=float(camera64.mean()))
    db = {}
    for anneal in (0.7, None):
        model = inr.MLP(32, hidden_layers=1, out_features=1, encoding=grid)
        fit = inr.fit_gradients(
            grad, mean=float(camera64.mean()), model=model, optimizer=_ADAM, steps=600,
            anneal=anneal,
        )  # fmt: skip
        db[anneal] = inr.psnr(fit.render(64, 64), exact)
    assert db[None] > 45 and db[0.7] < 40
