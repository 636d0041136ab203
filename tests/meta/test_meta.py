"""Learned initialisations and functa end to end, on a small synthetic family of images."""

import dataclasses
import json

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import inr
from inr import meta

from .._compiles import compilations

SIZE = 12


def blobs(n: int, seed: int) -> np.ndarray:
    """``n`` coloured Gaussian blobs at random places: a family with shared structure."""
    r = np.random.default_rng(seed)
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    centre, width, colour = (
        r.uniform(0.25, 0.75, (n, 2)),
        r.uniform(0.05, 0.15, n),
        r.uniform(0.2, 1, (n, 3)),
    )
    g = np.exp(
        -((x - centre[:, 0, None, None]) ** 2 + (y - centre[:, 1, None, None]) ** 2)
        / width[:, None, None]
    )
    return (g[..., None] * colour[:, None, None]).astype(np.float32)


MODEL = inr.Siren(24, 1, 3, first_w0=10.0)
CONFIG = meta.MetaConfig(inner_steps=2, batch_size=4, steps=60, log_every=20)


@pytest.fixture(scope="module")
def learned():
    return meta.meta_train(blobs(48, 0), model=MODEL, optimizer=optax.adam(1e-3), config=CONFIG)


def test_a_learned_init_beats_the_standard_init_after_two_steps(learned):
    held_out = blobs(6, 1)
    after = lambda fit: np.mean(
        [inr.psnr(fit[i].render(SIZE, SIZE), held_out[i]) for i in range(6)]
    )  # noqa: E731
    ours = after(inr.fit_images(held_out, init=learned, steps=2))
    standard = after(inr.fit_images(held_out, model=MODEL, steps=2))
    assert ours > standard + 5.0


def test_a_fit_from_an_init_is_its_inner_loop(learned):
    image = blobs(1, 2)[0]
    fit = inr.fit_image(image, init=learned, steps=2)
    signal = inr.SignalValues.create(image)
    loss = lambda p, k: signal.loss(MODEL, p, signal.draw(None, k))[0]  # noqa: E731
    adapted = meta.adapt(loss, learned.params, learned.rates, 2)
    for a, b in zip(jax.tree.leaves(fit.params), jax.tree.leaves(adapted), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_an_init_saves_and_loads(learned, tmp_path):
    path = meta.save_init(tmp_path / "blobs.msgpack", learned)
    back = meta.load_init(path)
    assert back.model == learned.model and back.shape == learned.shape and back.card["steps"] == 60
    for a, b in zip(jax.tree.leaves(back), jax.tree.leaves(learned), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="is not a init file"):
        meta.load_init(tmp_path / "nothing.msgpack")


def test_an_interrupted_run_resumes_to_the_same_parameters(tmp_path):
    data, small = (
        blobs(16, 3),
        meta.MetaConfig(method="fomaml", inner_steps=2, batch_size=2, steps=6, log_every=2),
    )
    whole = meta.meta_train(data, model=MODEL, optimizer=optax.adam(1e-3), config=small)
    folder = inr.Checkpoints(tmp_path / "run", save_every=2)
    first = meta.MetaConfig(method="fomaml", inner_steps=2, batch_size=2, steps=4, log_every=2)
    meta.meta_train(data, model=MODEL, optimizer=optax.adam(1e-3), config=first, checkpoints=folder)
    resumed = meta.meta_train(
        data, model=MODEL, optimizer=optax.adam(1e-3), config=small, checkpoints=folder
    )
    for a, b in zip(jax.tree.leaves(whole.params), jax.tree.leaves(resumed.params), strict=True):
        np.testing.assert_array_equal(a, b)
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [2, 4, 6]
    other = meta.MetaConfig(method="maml", inner_steps=2, batch_size=2, steps=8, log_every=2)
    longer = meta.MetaConfig(method="fomaml", inner_steps=2, batch_size=2, steps=8, log_every=2)
    refused = {  # another method, another optimiser, other signals: never resumed
        "options": dict(data=data, optimizer=optax.adam(1e-3), config=other),
        "optimizer": dict(data=data, optimizer=optax.adam(2e-3), config=longer),
        "data": dict(data=data[::-1], optimizer=optax.adam(1e-3), config=longer),
    }
    for name, kw in refused.items():
        with pytest.raises(ValueError, match=f"different settings .*{name}"):
            meta.meta_train(kw.pop("data"), model=MODEL, checkpoints=folder, **kw)


def test_a_second_run_on_new_signals_compiles_nothing(learned):
    """Other signals of the same shapes, another length and seed: the same program."""
    config = meta.MetaConfig(inner_steps=2, batch_size=4, steps=7, log_every=20, seed=3)
    with compilations() as n:
        meta.meta_train(blobs(48, 9), model=MODEL, optimizer=optax.adam(1e-3), config=config)
    assert n[0] == 0


def test_a_fresh_modulated_siren_is_a_siren_and_its_latent_shifts_every_layer():
    model = meta.ModulatedSiren(16, 2, 3, latent_features=5)
    x = jnp.linspace(-1, 1, 14).reshape(7, 2)
    params = model.init(jax.random.PRNGKey(0), x)["params"]
    assert params["latent"].shape == (5,) and params["modulation"]["kernel"].shape == (5, 3 * 16)
    plain = inr.Siren(16, 2, 3)
    siren = {"params": {k: v for k, v in params.items() if k.startswith("SineLayer")}}
    np.testing.assert_allclose(model.apply({"params": params}, x), plain.apply(siren, x), atol=1e-6)
    kernel = jnp.ones((5, 48))
    shifted = {
        "params": {
            **params,
            "latent": jnp.ones(5),
            "modulation": {**params["modulation"], "kernel": kernel},
        }
    }
    assert model.apply(shifted, x).shape == (7, 3)
    assert not np.allclose(model.apply(shifted, x), plain.apply(siren, x), atol=1e-3)


@pytest.fixture(scope="module")
def functa():
    model = meta.ModulatedSiren(24, 1, 3, latent_features=8, first_w0=10.0)
    config = meta.MetaConfig(inner_steps=3, batch_size=4, steps=60, log_every=20)
    return meta.meta_train(blobs(48, 0), model=model, optimizer=optax.adam(1e-3), config=config)


def test_latents_fit_many_signals_at_once_and_render_at_any_size(functa):
    held_out = blobs(5, 4)
    z = meta.fit_latents(held_out, functa)
    assert z.shape == (5, 8) and np.isfinite(z).all()
    one = meta.fit_latents(held_out[2:3], functa)
    np.testing.assert_allclose(one[0], z[2], rtol=1e-4, atol=1e-6)
    # The fit of a latent is the inner loop it was meta-learned with: SGD at the learned rates.
    signal = inr.SignalValues.create(held_out[3])
    loss = lambda w, k: signal.loss(
        functa.model, meta.functa.with_latent(functa.params, w), signal.draw(None, k)
    )[0]  # noqa: E731
    inner = meta.adapt(loss, jnp.zeros(8), functa.rates, functa.inner_steps)
    np.testing.assert_allclose(z[3], inner, rtol=1e-4, atol=1e-6)
    with compilations() as n:  # other signals of the same shapes: the same program
        meta.fit_latents(blobs(5, 7), functa)
    assert n[0] == 0
    pictures = functa.render(z)
    zero = functa.render(np.zeros((5, 8), np.float32))
    mse = lambda a: np.mean((a - held_out) ** 2)  # noqa: E731
    assert pictures.shape == held_out.shape and mse(pictures) < 0.7 * mse(zero)
    assert functa.render(z[0], 40, 30).shape == (40, 30, 3)
    half = functa.render(z[0], 24, 24, region=(0, 0, 0.5, 0.5))
    np.testing.assert_allclose(half, functa.render(z[0], 48, 48)[:24, :24], atol=1e-6)
    morph = functa.render(0.5 * (z[0] + z[1]))
    assert morph.shape == (SIZE, SIZE, 3)


def test_a_functa_and_its_latents_save_and_load(functa, tmp_path):
    back = meta.load_functa(meta.save_functa(tmp_path / "f.msgpack", functa))
    z = meta.fit_latents(blobs(3, 5), back)
    np.testing.assert_allclose(z, meta.fit_latents(blobs(3, 5), functa), rtol=1e-6)
    path = meta.save_latents(tmp_path / "z.npz", z, back, files=["a", "b", "c"])
    latents, info = meta.load_latents(path)
    np.testing.assert_array_equal(latents, z)
    assert info["files"] == ["a", "b", "c"] and info["latent_features"] == 8
    with pytest.raises(ValueError, match="latents must be finite"):
        meta.save_latents(tmp_path / "bad.npz", np.full((2, 8), np.nan), back)
    with pytest.raises(ValueError, match="is not a functa file"):
        meta.load_functa(
            meta.save_init(
                tmp_path / "i.msgpack",
                meta.meta_train(
                    blobs(4, 0),
                    model=MODEL,
                    config=meta.MetaConfig(steps=1, batch_size=2, inner_steps=1),
                ),
            )
        )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: meta.MetaConfig(method="sgd"), "method must be one of"),
        (lambda: meta.MetaConfig(method="reptile"), "learn_rates needs method"),
        (lambda: meta.MetaConfig(inner_steps=0), "inner_steps must be"),
        (lambda: meta.meta_train(blobs(2, 0), config={"steps": 3}), "config must be"),
        (
            lambda: meta.meta_train(
                blobs(2, 0),
                model=meta.ModulatedSiren(),
                config=meta.MetaConfig(method="reptile", learn_rates=False),
            ),
            "needs method",
        ),
        (lambda: inr.fit_image(blobs(1, 0)[0], init="celeba"), "init must be None, an inr.Init or"),
        (lambda: meta.load_init("pretrained:faces"), "pretrained inits are"),
        (lambda: meta.fit_latents(blobs(2, 0), "functa"), "functa must be"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_functa_can_start_from_a_learned_init(learned):
    model = meta.ModulatedSiren(24, 1, 3, latent_features=8, first_w0=10.0)
    config = meta.MetaConfig(inner_steps=1, batch_size=2, steps=1)
    still = optax.sgd(0.0)  # no outer update: the start is what comes back
    functa = meta.meta_train(blobs(4, 0), model=model, optimizer=still, config=config,
                             start=learned.params)  # fmt: skip
    layout = inr.Layout((SIZE, SIZE, 3), 2)
    plain = inr.FitResult(learned.params, jnp.full(3, 0.5), {}, MODEL, layout)
    np.testing.assert_allclose(
        functa.render(np.zeros(8, np.float32)), plain.render(SIZE, SIZE), atol=1e-6
    )
    with pytest.raises(ValueError, match="start does not fit the network"):
        meta.meta_train(blobs(4, 0), model=meta.ModulatedSiren(16, 1, 3, latent_features=8),
                        config=config, start=learned.params)  # fmt: skip


def test_an_earlier_result_goes_on_with_its_parameters_and_rates(learned):
    config = dataclasses.replace(CONFIG, steps=1)
    fresh = meta.meta_train(blobs(4, 0), model=MODEL, optimizer=optax.sgd(0.0), config=config)
    still = meta.meta_train(blobs(4, 0), model=MODEL, optimizer=optax.sgd(0.0), config=config,
                            start=learned)  # fmt: skip
    for ours, theirs in ((still.params, learned.params), (still.rates, learned.rates)):
        chex.assert_trees_all_close(ours, theirs, atol=0.0)
    # Meta-SGD moved the rates, so a start from the parameters alone would differ.
    moved = jax.tree.map(lambda a, b: float(jnp.abs(a - b).max()), learned.rates, fresh.rates)
    assert max(jax.tree.leaves(moved)) > 1e-6
    functa = meta.ModulatedSiren(24, 1, 3, latent_features=8, first_w0=10.0)
    with pytest.raises(ValueError, match="start's rates do not fit"):
        meta.meta_train(blobs(4, 0), model=functa, config=config, start=learned)
