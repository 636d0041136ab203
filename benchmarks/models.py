"""The shipped models as files: their parameters and cards, and the presets' sizes.

Counts the parameters of ``RestoratorConfig.preset(name, task=...)`` for
every preset and task (``jax.eval_shape``: nothing is computed), and loads
every shipped weight file for its parameter count and its card (data,
licence, and for the meta-learned files the training command, steps,
machine and wall time they recorded), so the guides and model cards quote
them from one file.

    python benchmarks/models.py
"""

from __future__ import annotations

import argparse
import math

import jax
from _timing import RESULTS, print_table, write_json

import inr
from inr import meta
from inr.restorator import PRESETS, TASKS, RestoratorConfig
from inr.restorator.inference import init_params

SHIPPED = ("restore", "upscale", "diffusion", "celeba", "celeba-diffusion", "celeba-refsr")


def count(params) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(params))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", default=str(RESULTS / "models.json"), help="where the results go")
    args = p.parse_args()
    key = jax.random.PRNGKey(0)
    presets = []
    for name in PRESETS:
        for task in TASKS:
            config = RestoratorConfig.preset(name, task=task)
            shapes = jax.eval_shape(lambda k, c=config: init_params(c, k), key)
            presets.append({"preset": name, "task": task, "parameters": count(shapes)})
    shipped = []
    for name in SHIPPED:
        model = inr.load_restorator(f"pretrained:{name}")
        row = {"model": f"pretrained:{name}", "parameters": count(model.params)}
        shipped.append({**row, "card": model.card})
    init = meta.load_init("pretrained:celeba-init")
    functa = meta.load_functa("pretrained:celeba-functa")
    for name, params, card in (
        ("pretrained:celeba-init", init.params, init.card),
        ("pretrained:celeba-functa", functa.params, functa.card),
    ):
        shipped.append({"model": name, "parameters": count(params), "card": card})
    write_json(
        args.json,
        {
            "presets": presets,
            "shipped": shipped,
            "tables": [
                print_table(presets, ["preset", "task", "parameters"]),
                print_table(shipped, ["model", "parameters"]),
            ],
        },
    )


if __name__ == "__main__":
    main()
