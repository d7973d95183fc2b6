#!/usr/bin/env bash
# The GPU path measured in one go, in at most 8 minutes on one GPU (each part has its own time limit):
#   1. config/paper.yaml's retina CNN training, one epoch of its hour of data: samples/s of insilico's
#      device-side input pipeline against the plain DataLoader reference in the same run;
#   2. Brain-Score PLS scoring on the GPU against the CPU (same data, same run);
#   3. batched fixed points on the GPU against one state at a time;
#   4. one short training of each network branch (retina CNN, IT CNN and ConvRNN, dynamics RNN stack,
#      grid-cell RNN stack, bottleneck networks) through the pipeline's own rules, in a scratch copy
#      of the workflow at the default config.
# Usage: benchmarks/gpu_check.sh OUT_DIR [--toy]
# --toy: CPU, tiny sizes and config/tiny.yaml (seconds each; limits 5x, GPU_CHECK_SCALE): what CI
# runs so that the script keeps working. Every part's output goes to OUT_DIR/gpu_check.txt, its timings to OUT_DIR/timings.csv.
set -euo pipefail
OUT=${1:?usage: benchmarks/gpu_check.sh OUT_DIR [--toy]}
MODE=${2:-gpu}
REPO=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG="$OUT/gpu_check.txt"
: >"$LOG"
echo "part,seconds,status" >"$OUT/timings.csv"

# part NAME LIMIT_S COMMAND...: run a part under its time limit, log its output and its time.
part() {
  local name=$1 limit=$2 start status
  shift 2
  echo "== $name (limit ${limit} s): $*" | tee -a "$LOG"
  start=$(date +%s)
  if timeout "$((limit * SCALE))" "$@" >>"$LOG" 2>&1; then status=ok; else status="failed ($?)"; fi
  echo "$name,$(($(date +%s) - start)),$status" | tee -a "$OUT/timings.csv"
}

if [ "$MODE" = "--toy" ]; then
  DEVICE=cpu
  CONFIG=(--configfile config/tiny.yaml)
  RETINA=(--size 12 --history 8 --frames 600 --batch-size 128 --channels 4 4 --kernels 5 3)
  RETINA_EPOCH=(--frames 1200)
  PLS=(--stimuli 64 --features 32 --neuroids 8 --splits 2 --objects 4 --reference-fits 1)
  PLS_DEVICE=(--bins 2)
  PLS_CPU=(--bins 2)
  FIXED=(--networks 2 --hidden 8 --train-steps 10 --states 16 --reference-states 2 --max-iters 20)
  LIMIT=180
  SCALE=${GPU_CHECK_SCALE:-5}  # toy limits only catch a hang, on a CPU shared with other work
else
  DEVICE=cuda
  CONFIG=()
  # config/paper.yaml's retina CNN on synthetic data of its shape; the reference materialises every
  # window in host memory (frames x history x size^2 x 4 bytes), so it runs on 20000 frames, and
  # insilico's pipeline also on the paper's whole hour (360000 frames): one real epoch.
  RETINA=($(cd "$REPO" && "$PYTHON" - <<'EOF'
import yaml
from pathlib import Path
from insilico.branches import validate
from insilico.core.config import load_schema

config = yaml.safe_load(Path("config.yaml").read_text())
paper = yaml.safe_load(Path("config/paper.yaml").read_text())


def merge(base, top):
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


merge(config, paper)
config = validate(config, load_schema(Path("schemas/config.schema.yaml")))
data, retina = config["data"]["simulated"]["retina"], config["retina"]
cnn = retina["models"]["cnn"]["params"]
print(
    f"--size {data['size']} --history {retina['history']} --batch-size "
    f"{retina['train']['batch_size']} --channels {' '.join(map(str, cnn['channels']))} "
    f"--kernels {' '.join(map(str, cnn['kernels']))} --frames 20000"
)
EOF
  ))
  RETINA_EPOCH=(--frames 360000)
  # Brain-Score scale; the CPU fits the same splits for 2 of the 19 bins (fits/s compare).
  PLS=(--stimuli 3200 --features 1000 --neuroids 168 --reference-fits 2)
  PLS_DEVICE=(--bins 19)
  PLS_CPU=(--bins 2)
  FIXED=(--networks 64 --hidden 128 --states 1024 --reference-states 4)
  LIMIT=180
  SCALE=1
fi

cd "$REPO"
{
  echo "gpu_check: mode $MODE, commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), \
torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU')"
  nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null || true
} >>"$LOG" 2>&1

part retina_samples_per_s 75 "$PYTHON" benchmarks/bench_retina_training.py --device "$DEVICE" "${RETINA[@]}"
part retina_one_epoch 75 "$PYTHON" benchmarks/bench_retina_training.py --device "$DEVICE" \
  "${RETINA[@]}" "${RETINA_EPOCH[@]}" --skip-reference
part pls_cpu 60 "$PYTHON" benchmarks/bench_it_pls.py --device cpu "${PLS[@]}" "${PLS_CPU[@]}"
part pls_device 30 "$PYTHON" benchmarks/bench_it_pls.py --device "$DEVICE" "${PLS[@]}" "${PLS_DEVICE[@]}"
part fixed_points 45 "$PYTHON" benchmarks/bench_dynamics_fixed_points.py --device "$DEVICE" "${FIXED[@]}"

# One short training per network branch, through the pipeline's rules (GPU rules claim the GPU), in
# a scratch copy of this workflow, or of a finished run (GPU_CHECK_WORKFLOW, e.g. the tests' tiny
# run: then only the trainings run again); benchmarks of earlier jobs are left out.
SCRATCH="$OUT/workflow"
rm -rf "$SCRATCH"
if [ -n "${GPU_CHECK_WORKFLOW:-}" ]; then
  cp -a "$GPU_CHECK_WORKFLOW" "$SCRATCH"
else
  mkdir -p "$SCRATCH"
  cp -r Snakefile config.yaml config rules scripts schemas profiles report src envs "$SCRATCH"/
fi
rm -rf "$SCRATCH/results/benchmarks"
TRAININGS=(
  results/retina/sim01/naturalscene/models/cnn/seed0/model.pt
  results/it/models/cnn/trained/seed0/model.pt
  results/it/models/convrnn/trained/seed0/model.pt
  results/dynamics/flipflop/models/chunk0.pt
  results/dynamics/grid_cells/models/chunk0.pt
  results/bottleneck/models/nbn1/dvvs0_seed0.pt
)
part branch_trainings "$LIMIT" bash -c 'cd "$0" && "$1" -m snakemake --cores all "${@:2}"' \
  "$SCRATCH" "$PYTHON" "${CONFIG[@]}" --forcerun "${TRAININGS[@]}" -- "${TRAININGS[@]}"
# The training jobs' own benchmarks (wall s, CPU s, peak memory) as the budget table reads them.
(cd "$SCRATCH" && "$PYTHON" - "$OUT/trainings.csv" <<'EOF'
import sys

from insilico.core import budgets

jobs = [job for job in budgets.read_jobs("results/benchmarks") if "train" in job.job]
budgets.write_jobs(jobs, sys.argv[1])
EOF
) >>"$LOG" 2>&1
cat "$OUT/trainings.csv" >>"$LOG"
rm -rf "$SCRATCH"
cat "$OUT/timings.csv"
! grep -q failed "$OUT/timings.csv"
