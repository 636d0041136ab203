"""Run by tests/test_distributed.py: one of two processes of a CPU multi-host job.

    python tests/_multihost.py PROCESS_ID PORT DATA_DIR WORK_DIR

Each process has 2 forced CPU devices, joins the job through
``inr.distributed.initialize`` (gloo collectives on localhost), trains a tiny
restorator on its share of the files with checkpoints, renders, and writes
what it saw to ``WORK_DIR/process{ID}.json``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"

import jax  # noqa: E402

jax.config.update("jax_cpu_collectives_implementation", "gloo")

import numpy as np  # noqa: E402

import inr  # noqa: E402
from inr.restorator.data import expand_sources  # noqa: E402

TINY = dict(features=(8, 16), latent=8, hidden=16, blocks=1, pos_frequencies=2)


def main(pid: str, port: str, data: str, work: str) -> None:
    work = Path(work)
    inr.distributed.initialize(f"localhost:{port}", 2, int(pid))
    model = inr.train_restorator(
        data,
        config=inr.RestoratorConfig(**TINY),
        task="colorize",
        input_size=16,
        batch_size=8,
        points_per_image=64,
        lr=1e-2,
        steps=6,
        save_every=3,
        checkpoint_dir=work / "ckpt",
        progress=False,
    )
    gray = inr.rgb_to_gray(inr.load_image(sorted(Path(data).glob("*.png"))[0]))
    np.save(work / f"render{pid}.npy", model.restore(gray, size=(21, 19)))
    if pid == "0":
        inr.save_restorator(work / "model.msgpack", model)
    leaves = jax.tree.leaves(model.params)
    report = {
        "processes": jax.process_count(),
        "devices": jax.device_count(),
        "files": len(inr.distributed.process_shard(expand_sources(data))),
        "checksum": sum(float(np.sum(np.asarray(x, np.float64))) for x in leaves),
    }
    (work / f"process{pid}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:5])
