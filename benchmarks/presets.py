"""The restorators' sizes: parameters of each preset and of each shipped model.

Counts the parameters of ``RestoratorConfig.preset(name, task=...)`` for
every preset and task (``jax.eval_shape``: nothing is computed) and of each
shipped weight file, so the guides and model cards quote sizes from a file.

    python benchmarks/presets.py
"""

from __future__ import annotations

import argparse
import math

import jax
from _timing import RESULTS, print_table, write_json

import inr
from inr.restorator import PRESETS, TASKS, RestoratorConfig
from inr.restorator.inference import init_params

SHIPPED = ("restore", "upscale", "diffusion", "celeba", "celeba-diffusion", "celeba-refsr")


def count(params) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(params))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--json", default=str(RESULTS / "presets.json"))
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
        shipped.append({"model": f"pretrained:{name}", "parameters": count(model.params)})
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
