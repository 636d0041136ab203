"""Run by tests/test_distributed.py: one of two processes of a CPU multi-host job.

    python tests/_multihost.py PROCESS_ID PORT DATA_DIR WORK_DIR

Each process has 2 forced CPU devices and runs ``examples/train.py`` with
the multi-host flags (gloo collectives on localhost): it joins the job,
trains a tiny restorator on its share of the files with checkpoints and
exports it from process 0.  Then it renders and writes what it saw to
``WORK_DIR/process{ID}.json``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Two devices per process; small fits, whose time is compiling them (LLVM's level 0 changes no
# floating-point semantics: tests/conftest.py).
os.environ["XLA_FLAGS"] = (
    "--xla_force_host_platform_device_count=2 --xla_backend_optimization_level=0"
)

import jax  # noqa: E402

jax.config.update("jax_cpu_collectives_implementation", "gloo")

import numpy as np  # noqa: E402

import inr  # noqa: E402
from inr.restorator.data import expand_sources  # noqa: E402


def main(pid: str, port: str, data: str, work: str) -> None:
    work = Path(work)
    # The example's command line: it joins the job and trains data parallel.
    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    from train import main as train

    flags = "--task colorize --input-size 16 --batch-size 8 --points 64 --lr 1e-2 --steps 6"
    tiny = "--features 8,16 --latent 8 --hidden 16 --blocks 1 --save-every 3"
    job = f"--coordinator localhost:{port} --num-processes 2 --process-id {pid}"
    where = f"--data {data} --checkpoint-dir {work / 'ckpt'} --export {work / 'model.msgpack'}"
    model = train(f"{flags} {tiny} {job} {where}".split())
    gray = inr.rgb_to_gray(inr.load_image(sorted(Path(data).glob("*.png"))[0]))
    np.save(work / f"render{pid}.npy", model.restore(gray, size=(21, 19)))
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
