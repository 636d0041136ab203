#!/usr/bin/env bash
# Functa's meta-training on a lent GPU, in time-limited pieces.
#
#   bash benchmarks/functa_gpu.sh pack FACES [COUNT]   # here: COUNT faces (default 9000)
#   bash benchmarks/functa_gpu.sh train SECONDS [ARGS]  # there: train, export to $OUT
#
# `pack` writes .device/faces.tgz (ignored by git): the first COUNT images of
# FACES (a training folder, never a validation one) as 64x64 JPEG quality 95,
# since the device's transfer holds 64 MiB in all and the raw crops do not
# fit.  `train` unpacks them, trains with examples/train_meta.py until SECONDS
# have passed (ARGS follow the run's own and win; without any it goes on
# from the shipped model: `--more pretrained:celeba-functa`), then exports the
# last checkpoint to $OUT/celeba-functa.msgpack beside its metrics.jsonl and
# log.  Carry .device/faces.tgz; leave a minute of the call for the export.
set -uo pipefail
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
case "${1:-}" in
pack)
  python3 - "$2" "${3:-9000}" <<'PY'
import sys, tarfile, tempfile
from pathlib import Path
import imageio.v3 as iio
from inr import meta

faces = meta.image_folder(sys.argv[1], 64, limit=int(sys.argv[2]))
with tempfile.TemporaryDirectory() as tmp:
    for i, face in enumerate(faces):
        iio.imwrite(Path(tmp) / f"{i:06d}.jpg", face, extension=".jpg", quality=95)
    Path(".device").mkdir(exist_ok=True)
    with tarfile.open(".device/faces.tgz", "w:gz") as tar:
        # Named after its source (celeba-train): the card's data and licence come from it.
        tar.add(tmp, arcname="-".join(Path(sys.argv[1]).resolve().parts[-2:]))
print(f"{len(faces)} faces in .device/faces.tgz")
PY
  ;;
train)
  seconds=$2
  shift 2
  (($#)) || set -- --more pretrained:celeba-functa
  out=${OUT:-/tmp/out}
  mkdir -p "$out" /tmp/functa
  tar xzf .device/faces.tgz -C /tmp/functa || exit
  data=/tmp/functa/$(tar tzf .device/faces.tgz | head -n 1 | cut -d / -f 1)
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  args=(--data "$data" --kind functa --method maml --latent 256 --inner-lr 0.1
        --outer-lr 1e-4 --batch-size 32 --log-every 200 --save-every 200
        --checkpoint-dir /tmp/functa/run "$@")
  timeout "$seconds" python3 examples/train_meta.py "${args[@]}" --steps 100000000 \
    2>&1 | tee "$out/log.txt"
  # The last line of metrics.jsonl follows the last checkpoint: export from there.
  step=$(tail -n 1 /tmp/functa/run/metrics.jsonl 2>/dev/null |
    python3 -c "import json,sys; print(json.load(sys.stdin)['step'])" 2>/dev/null)
  [[ -n "$step" ]] || { echo "!! no checkpoint within $seconds s: nothing to export"; exit 1; }
  python3 examples/train_meta.py "${args[@]}" --steps "$step" --name celeba-functa \
    --export "$out/celeba-functa.msgpack" 2>&1 | tee -a "$out/log.txt"
  cp /tmp/functa/run/metrics.jsonl "$out/metrics.jsonl"
  ;;
*)
  sed -n 2,13p "$0"
  exit 2
  ;;
esac
