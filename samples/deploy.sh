#!/usr/bin/env bash
# Build a TensorRT engine file for an ONNX model with every deconvolution computing what ONNX means, and keep it
# only when its outputs match onnxruntime's. Three paths (docs/deploying.md):
#
#   samples/deploy.sh run     MODEL [OUTDIR]   polygraphy run --trt --onnxrt --deconv-fix --save-engine
#   samples/deploy.sh convert MODEL [OUTDIR]   polygraphy-deconv npps, then polygraphy convert --trt-npps
#   samples/deploy.sh trtexec MODEL [OUTDIR]   polygraphy-deconv fix --verify, then trtexec --onnx --saveEngine
#   samples/deploy.sh all     MODEL [OUTDIR]   each of the three, into OUTDIR/run, OUTDIR/convert, OUTDIR/trtexec
#
#   OUTDIR defaults to ./deconv-deploy. ATOL, RTOL (default 1e-4) are the comparison's tolerances; SEED (1) seeds
#   the random inputs; INPUT_SHAPES (e.g. "x:[1,3,64,64]") binds dynamic input sizes for the analysis and the
#   inputs; TRTEXEC_ARGS adds trtexec options (e.g. "--shapes=x:1x3x64x64 --fp16").
#
# Writes into OUTDIR:
#   model.engine    the engine, moved into place only when the comparison PASSED (an earlier one is removed first)
#   report.json     run: the findings and the patch applied to each unit (--deconv-report)
#   patch_model.py  convert: the network postprocess script
#   fixed.onnx      trtexec: the rewritten model the engine is built from
#   inputs.json, outputs.json   the seeded inputs and the reference outputs (onnxruntime on MODEL) compared with
#   polygraphy.log  Polygraphy's log
# What each path compares: run and convert compare the engine with onnxruntime on MODEL itself; trtexec first
# checks the rewrite on onnxruntime (fix --verify), then the engine against onnxruntime on MODEL.
#
# Exit code: 0 the engine matches onnxruntime; 1 a step failed or the outputs differ (no model.engine is left);
# 2 usage error; 3 TensorRT (the Python package Polygraphy takes, or trtexec for the trtexec path) is not installed here:
# checked first, and nothing is written then. Needs this package installed; TensorRT comes with NVIDIA's
# TensorRT containers (the Dockerfile at the repository root) or NVIDIA's package index.
set -euo pipefail

usage() {
  echo "usage: samples/deploy.sh run|convert|trtexec|all MODEL [OUTDIR]" >&2
  exit 2
}

[[ $# -ge 2 && $# -le 3 ]] || usage
path=$1
model=$2
outdir=${3:-deconv-deploy}
case "$path" in run | convert | trtexec | all) ;; *) usage ;; esac
atol=${ATOL:-1e-4}
rtol=${RTOL:-1e-4}
seed=${SEED:-1}
python=${PYTHON:-python3}
shapes=()
[[ -n "${INPUT_SHAPES:-}" ]] && read -r -a shapes <<<"$INPUT_SHAPES"

if [[ ! -f "$model" ]]; then
  echo "deploy: error: no such model file: $model" >&2
  exit 1
fi

# TensorRT first, where Polygraphy takes it (tensorrt, or tensorrt_rtx under POLYGRAPHY_USE_TENSORRT_RTX=1): without
# it nothing below can build an engine, so nothing is created.
if ! "$python" -c 'from polygraphy.mod.trt_importer import lazy_import_trt; lazy_import_trt().Builder' >/dev/null 2>&1; then
  echo "deploy: error: TensorRT's Python package (TensorRT-RTX's under POLYGRAPHY_USE_TENSORRT_RTX=1) is not" \
    "installed for $python; use NVIDIA's TensorRT container (docker build -t polygraphy-deconv . at the repository" \
    "root), pip install tensorrt, or pip install tensorrt-rtx with POLYGRAPHY_USE_TENSORRT_RTX=1; nothing was written" >&2
  exit 3
fi
if [[ "$path" == trtexec || "$path" == all ]] && ! command -v trtexec >/dev/null 2>&1; then
  echo "deploy: error: trtexec is not on PATH (NVIDIA's TensorRT containers have it in /usr/src/tensorrt/bin);" \
    "nothing was written" >&2
  exit 3
fi

with_shapes=()
[[ ${#shapes[@]} -gt 0 ]] && with_shapes=(--input-shapes "${shapes[@]}")

# Reference: onnxruntime on the original model, on seeded random inputs saved for the engine's run.
reference() {
  local dir=$1
  polygraphy run "$model" --onnxrt --seed "$seed" "${with_shapes[@]}" \
    --save-inputs "$dir/inputs.json" --save-outputs "$dir/outputs.json" --log-file "$dir/polygraphy.log"
}

# The engine's outputs on the same inputs against the reference. elemwise: an element fails only when it
# exceeds both atol and rtol (Polygraphy's default, stated so the gate does not move with Polygraphy's defaults).
compare_engine() {
  local dir=$1 engine=$2
  polygraphy run "$engine" --model-type engine --trt \
    --load-inputs "$dir/inputs.json" --load-outputs "$dir/outputs.json" \
    --atol "$atol" --rtol "$rtol" --check-error-stat elemwise --log-file "$dir/polygraphy.log"
}

deploy_one() {
  local kind=$1 dir=$2
  mkdir -p "$dir"
  local candidate="$dir/.model.engine.partial"
  rm -f "$candidate" "$dir/model.engine"  # a failed run must not leave an earlier engine looking current
  case "$kind" in
    run)
      # --deconv-fix patches the parsed network before the engine is built; the engine is saved when it is
      # built, before the comparison: it becomes model.engine only after PASSED.
      polygraphy run "$model" --trt --onnxrt --deconv-fix --deconv-report "$dir/report.json" \
        --seed "$seed" "${with_shapes[@]}" \
        --atol "$atol" --rtol "$rtol" --check-error-stat elemwise \
        --save-inputs "$dir/inputs.json" --save-outputs "$dir/outputs.json" \
        --save-engine "$candidate" --log-file "$dir/polygraphy.log"
      ;;
    convert)
      # A postprocess script runs after the parse: npps refuses a model the parser rejects (use trtexec's path).
      polygraphy-deconv npps "$model" -o "$dir/patch_model.py" "${with_shapes[@]}"
      polygraphy convert "$model" --trt-npps "$dir/patch_model.py" -o "$candidate" "${with_shapes[@]}" \
        --log-file "$dir/polygraphy.log"
      reference "$dir"
      compare_engine "$dir" "$candidate"
      ;;
    trtexec)
      # trtexec loads no Python: the fix is in the model itself, checked on onnxruntime before the build.
      polygraphy-deconv fix "$model" -o "$dir/fixed.onnx" --verify --seed "$seed" "${with_shapes[@]}"
      # shellcheck disable=SC2086  # TRTEXEC_ARGS is a list of options
      trtexec --onnx="$dir/fixed.onnx" --saveEngine="$candidate" ${TRTEXEC_ARGS:-}
      reference "$dir"
      compare_engine "$dir" "$candidate"
      ;;
  esac
  mv -f "$candidate" "$dir/model.engine"
  echo "deploy: $kind: $dir/model.engine matches onnxruntime on $model (atol $atol, rtol $rtol)"
}

cleanup() {
  find "$outdir" -name .model.engine.partial -delete 2>/dev/null || true
}
trap cleanup EXIT

if [[ "$path" == all ]]; then
  for kind in run convert trtexec; do
    deploy_one "$kind" "$outdir/$kind"
  done
else
  deploy_one "$path" "$outdir"
fi
