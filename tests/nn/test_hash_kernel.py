"""The Pallas hash-encoding kernels against the XLA encoding.

Off a GPU the kernels run in Pallas's interpreter, so these check the rows,
weights and sums they compute; that they lower to a Triton kernel for a
GPU is checked without one.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import inr
from inr.nn.hash_encoding import encode
from inr.nn.hash_kernel import encode_pallas

# Each has a dense level and hashed ones.
GRIDS = {
    "2-D linear": (2, dict(levels=3, features=3, log2_table_size=5, base_resolution=3, growth=1.7)),
    "3-D smoothstep": (
        3,
        dict(
            levels=2, log2_table_size=5, base_resolution=2, growth=1.5, interpolation="smoothstep"
        ),
    ),
}


def _table(grid, d, seed=1, dtype=jnp.float32):
    rows = int(grid.layout(d)[1].sum())
    return jax.random.normal(jax.random.PRNGKey(seed), (rows, grid.features)).astype(dtype)


@pytest.mark.parametrize("name", GRIDS)
def test_values_and_first_derivatives_equal_the_xla_encoding(rng, name):
    d, kwargs = GRIDS[name]
    grid = inr.HashGrid(**kwargs)
    spec, table = grid.spec(d), _table(grid, d)
    # 40 points in blocks of 16: the last block is padded. Outside [-1, 1] they clamp.
    x = jnp.asarray(rng.uniform(-1.05, 1.05, (40, d)), jnp.float32)
    g = jnp.asarray(rng.normal(size=(40, grid.levels * grid.features)), jnp.float32)
    # Jitted: eagerly, every operation of every level compiles alone.
    both = jax.jit(lambda x, t: (encode_pallas(x, t, spec, block=16), encode(x, t, spec)))
    np.testing.assert_allclose(*both(x, table), atol=1e-6)
    # The coarse levels put many points in each cell: the table's gradient
    # sums over rows that points share, and over rows no point touched (zero).
    loss = lambda f: lambda x, t: jnp.sum(f(x, t) * g)  # noqa: E731
    want = jax.jit(jax.grad(loss(lambda x, t: encode(x, t, spec)), (0, 1)))(x, table)
    got = jax.jit(jax.grad(loss(lambda x, t: encode_pallas(x, t, spec, block=16)), (0, 1)))(
        x, table
    )
    np.testing.assert_allclose(got[1], want[1], atol=1e-5)
    assert float(jnp.abs(got[1]).max()) > 1.0
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-4)


def test_a_bfloat16_table_is_read_and_updated_in_its_dtype(rng):
    d, kwargs = GRIDS["2-D linear"]
    grid = inr.HashGrid(**kwargs, param_dtype=jnp.bfloat16)
    spec, table = grid.spec(d), _table(grid, d, dtype=jnp.bfloat16)
    x = jnp.asarray(rng.uniform(-1, 1, (64, d)), jnp.float32)
    out, want = jax.jit(lambda t: (encode_pallas(x, t, spec, block=64), encode(x, t, spec)))(table)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, want, atol=1e-6)
    dtable = jax.jit(jax.grad(lambda t: jnp.sum(encode_pallas(x, t, spec, block=64))))(table)
    assert dtable.dtype == jnp.bfloat16


def test_a_fit_through_the_kernel_takes_the_xla_fits_steps(camera64):
    """Same start, same Adam steps: the two implementations stay together."""
    image = camera64[::4, ::4]  # 16x16: the interpreter is slow
    kwargs = dict(levels=3, features=2, log2_table_size=6, base_resolution=2)

    def fit(implementation):
        grid = inr.HashGrid(**kwargs, implementation=implementation)
        model = inr.MLP(16, hidden_layers=1, out_features=1, encoding=grid)
        return inr.fit_image(image, model=model, optimizer=optax.adam(1e-2), steps=5)

    xla, fitted = fit("xla").history["loss"], fit("pallas")
    pallas = fitted.history["loss"]
    program = jax.make_jaxpr(fitted.model.apply)(fitted.params, jnp.zeros((8, 2)))
    assert "pallas_call" in str(program)
    np.testing.assert_allclose(pallas, xla, rtol=1e-4)
    assert pallas[-1] < pallas[0]


def test_many_fits_at_once_through_the_kernel_equal_the_xla_fits(camera64):
    """``fit_images`` vmaps the kernels and runs them under ``shard_map``."""
    images = np.stack([camera64[:8, :8], camera64[-8:, -8:]])
    grid = dict(levels=2, features=2, log2_table_size=5, base_resolution=2)

    def fit(implementation):
        model = inr.MLP(8, hidden_layers=1, out_features=1,
                        encoding=inr.HashGrid(**grid, implementation=implementation))  # fmt: skip
        return inr.fit_images(images, model=model, optimizer=optax.adam(1e-2), steps=3)

    np.testing.assert_allclose(fit("pallas").history["loss"], fit("xla").history["loss"], rtol=1e-4)


@pytest.mark.parametrize("implementation", ["xla", "pallas"])
def test_no_points_encode_to_no_features(implementation):
    grid = inr.HashGrid(levels=2, features=3, log2_table_size=5, implementation=implementation)
    params = grid.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    assert grid.apply(params, jnp.zeros((0, 2))).shape == (0, 6)
    assert grid.apply(params, jnp.zeros((4, 0, 2))).shape == (4, 0, 6)


def test_the_kernels_lower_to_triton_for_a_gpu():
    """The CUDA lowering, done on any machine: one Triton call each way."""
    grid = inr.HashGrid()
    spec = grid.spec(2)
    table = jnp.zeros((int(grid.layout(2)[1].sum()), grid.features))
    x = jnp.zeros((2**12, 2))

    def loss(table):
        return jnp.sum(encode_pallas(x, table, spec, interpret=False) ** 2)

    lowered = jax.jit(jax.grad(loss)).trace(table).lower(lowering_platforms=("cuda",))
    assert lowered.as_text().count("__gpu$xla.gpu.triton") == 2


def test_bad_options_are_named_errors():
    with pytest.raises(ValueError, match="implementation"):
        inr.HashGrid(implementation="cuda")
    grid = inr.HashGrid(levels=2, log2_table_size=6)
    with pytest.raises(ValueError, match="block"):
        encode_pallas(jnp.zeros((4, 2)), _table(grid, 2), grid.spec(2), block=48)


def test_forward_mode_derivatives_say_they_need_the_xla_encoding():
    grid = inr.HashGrid(levels=2, log2_table_size=6, implementation="pallas")
    model = inr.MLP(8, hidden_layers=1, out_features=1, encoding=grid)
    params = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 2)))
    with pytest.raises(TypeError, match="custom_vjp"):
        inr.gradient(lambda x: model.apply(params, x), jnp.zeros((4, 2)), jnp.ones(2))
