#!/usr/bin/env bash
# Runs the exported TRL recipe as a user would (its README's accelerate line, from another directory) for two
# steps on the CPU: a CPO run and a DPO run with an NLL term, on the tiny demo model copied to a path with a
# space in it. Not part of the test suite (it needs Python); tests/train/recipe.test.ts checks the text.
#   python3 -m venv /tmp/venv-trl && /tmp/venv-trl/bin/pip install trl==1.13.0 transformers==5.17.0 peft accelerate datasets torch
#   VENV=/tmp/venv-trl bash scripts/check-trl-recipe.sh [MODEL_DIR]      (the versions are RECIPE_PINS in src/train/recipe.ts)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:?set VENV to a virtualenv with the recipe requirements}
SRC_MODEL=${1:-public/models/tiny}
OUT=$(mktemp -d "/tmp/trl recipe.XXXXXX")
trap 'rm -rf "$OUT"' EXIT
cp -r "$SRC_MODEL" "$OUT/tiny model"
node --import tsx scripts/check-trl-recipe.ts "$OUT" "$OUT/tiny model"
export PATH="$VENV/bin:$PATH" HF_HUB_OFFLINE=1 ACCELERATE_USE_CPU=1 TOKENIZERS_PARALLELISM=false
"$VENV/bin/python" -c "import trl, transformers, peft, torch; print('trl', trl.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'torch', torch.__version__)"
for d in "$OUT"/*/; do
  [ -f "$d/train_cpo.py" ] || continue
  echo "== $d"
  line=$(grep -m1 '^    accelerate launch' "$d/README.md" | sed 's/^    //')
  line=${line/accelerate launch/accelerate launch --cpu --num_processes 1}
  script="$d/train_cpo.py" rep='"$script"'
  line=${line/train_cpo.py/$rep}
  echo "$line"
  (cd /tmp && eval "$line" 2>&1 | tail -n 20)
  test -f "$d/output/adapter_model.safetensors" || { echo "no adapter written in $d/output"; exit 1; }
  "$VENV/bin/python" - "$d" <<'PY'
import json, sys, os
d = sys.argv[1]
import glob
state = json.load(open(sorted(glob.glob(os.path.join(d, "output", "checkpoint-*", "trainer_state.json")))[-1]))
logs = [h for h in state["log_history"] if "loss" in h]
print("steps", state["global_step"], "losses", [round(h["loss"], 4) for h in logs])
assert state["global_step"] == 2, state["global_step"]
PY
done
echo "recipe check passed"
