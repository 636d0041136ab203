"""The installed wheel, outside the source tree: import, every shipped model, a fit, the README.

Run by ``.ci/run`` in a fresh environment that holds only the built wheel
(with the extras the README uses), from a folder outside the checkout:

    python smoke.py README.md [RUN_FOLDER]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

import inr
from inr import meta

readme = Path(sys.argv[1]).resolve()
here = Path(inr.__file__).resolve()
assert readme.parent not in here.parents, f"inr imported from the checkout: {here}"
print(f"inr {inr.__version__} from {here.parent}")

gray = np.linspace(0, 1, 24 * 20, dtype=np.float32).reshape(24, 20)
colour = np.stack([gray, gray[::-1], 1 - gray], -1)
for name in inr.restorator.PRETRAINED:
    model = inr.load_restorator(f"pretrained:{name}")
    assert "non-commercial" in model.card["licence"], name
    image = colour if model.config.task == "upscale" else gray
    extra = {"reference": colour} if model.config.reference else {}
    out = model.restore(image, size=(32, 28), **extra)
    assert out.shape == (32, 28, 3) and np.isfinite(out).all(), name
    print(f"{model}: restored")
init = meta.load_init("pretrained:celeba-init")
face = inr.resize(colour, (64, 64))
assert inr.fit_image(face, init=init, steps=1).render(8, 8).shape == (8, 8, 3)
functa = meta.load_functa("pretrained:celeba-functa")
assert functa.render(meta.fit_latents(face[None], functa), 8, 8).shape == (1, 8, 8, 3)
fit = inr.fit_image(gray[..., None], model=inr.Siren(16, 1), steps=20)
assert fit.render(12, 10).shape == (12, 10, 1)
tiny = inr.RestoratorConfig(task="colorize", input_size=16, features=(8, 16), latent=8, hidden=16)
recipe = inr.TrainConfig(inr.restorator.Examples(points_per_image=64), steps=2, batch_size=2)
runs = Path(sys.argv[2] if len(sys.argv) > 2 else "smoke-run").resolve()
trained = inr.train_restorator(colour[None].repeat(2, 0), tiny, recipe, checkpoints=runs)
assert inr.load_restorator(runs).config == trained.config
print("meta models, a fit, a resumable training run: ok")

namespace: dict = {}
for i, block in enumerate(re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)):
    exec(compile(block, f"README.md python block {i}", "exec"), namespace)
    print(f"README block {i}: ok")
