#!/usr/bin/env bash
# Every benchmark whose figures the README reports for a GPU, in one go.
#
# Usage: bash benchmarks/run_gpu.sh [OUT_DIR]   (default benchmarks/results)
# Needs a CUDA build of jax plus the `bench` extra (a CUDA build of torch for
# siren-pytorch); inr itself may come from `pip install --no-deps -e .` or
# `PYTHONPATH=$PWD` (with no network, `pip install -e` needs
# `--no-build-isolation`).  Each benchmark writes OUT_DIR/<name>_gpu.json; one that
# fails or runs past its time limit does not stop the others.  The limits add
# up to about 35 minutes; ONLY="hash_grid decode" runs just the benchmarks named.
# SIGNALS=DIR adds the audio table (SIREN's steps to its published error).
set -uo pipefail
out=$(realpath "${1:-benchmarks/results}")
here=$(dirname "$0")
export PYTHONUNBUFFERED=1
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import jax; print('jax', jax.__version__, jax.devices())"
# First the checks that only mean something here (the gpu test tier).
echo "== pytest -m gpu"
XLA_PYTHON_CLIENT_PREALLOCATE=false timeout 600 python3 -m pytest -q -m gpu -p no:cacheprovider \
    "$here/../tests/test_gpu.py" "$here/../tests/nn/test_hash_kernel.py" || echo "!! gpu tier: $?"

run() {  # run NAME SECONDS ARGS...: time-limited, logged, never fatal
  local name=$1 limit=$2
  shift 2
  [[ -z "${ONLY:-}" || " $ONLY " == *" $name "* ]] || return 0
  echo "== $name $*"
  timeout "$limit" python3 "$here/$name.py" "$@" || echo "!! $name exited with $?"
}
run siren_fit 240 --json "$out/siren_fit_gpu.json"
run sampler 180 --json "$out/sampler_gpu.json"
# A GPU needs more points than the CPU default to be busy for 100 calls.
run sampler 120 --points 4194304 --model none --json "$out/sampler_gpu_4m.json"
run poisson 120 --json "$out/poisson_gpu.json"
run decode 90 --json "$out/decode_gpu.json"
# The upscaler's render too: the `base` decoder, 64x64 in, 1024x1024 out.
run decode 90 --model pretrained:upscale --json "$out/decode_upscale_gpu.json"
# The hash grid at instant-ngp's sample configuration, time to quality at 1024x1024
# against SIREN, at 4096x4096 from random pixels, and a gradient fit at 256x256.
run hash_grid 400 --size 1024 --siren-steps 2000 --hash-steps 1000 --large 4096 --gradients 256 \
    --plot "$out/hash_grid_gpu.png" --json "$out/hash_grid_gpu.json"
# The open issues' GPU goals: NeRF's lego at 200x200 (NERF=the lego folder) and Helmholtz.
# On an H200 a step is about 0.8 ms: 50,000 steps meet the 33 dB goal in under a minute.
[[ -n "${NERF:-}" ]] && run nerf 240 --data "$NERF" --size 200 --steps 20000 50000 --plain-steps \
    --json "$out/nerf_gpu.json"
# Least squares forms its normal equations on the host: 8192 features outran 170 s there.
run pde 300 --features 4096 6144 --square-features 4096 --siren-steps 25000 --wave-steps 3000 \
    --json "$out/pde_gpu.json"
# Training throughput; DATA (default: the built-in samples) names training folders.
run train_throughput 300 ${DATA:+--data $DATA} --steps 50 --rounds 3 --json "$out/train_throughput_gpu.json"
# Kernel-time breakdowns behind docs/performance.md (printed, not saved).
run profile_kernels 90 fit_images
run profile_kernels 90 fit_images_bf16
run profile_kernels 90 decode
run profile_kernels 90 hash_grid
run profile_kernels 90 hash_grid_pallas
if [[ -n "${SIGNALS:-}" ]]; then
  run signals 600 --data "$SIGNALS" --only audio --siren-steps 9001 --json "$out/signals_audio_gpu.json"
fi
