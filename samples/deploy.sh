#!/usr/bin/env bash
# Build a TensorRT engine for an ONNX model with its deconvolutions patched to the ONNX meaning, and keep it
# only if it matches onnxruntime: the plugin inside one `polygraphy run` pipeline.
#
#   samples/deploy.sh [MODEL] [OUTDIR]          (defaults: samples/models/mixed.onnx, ./deconv-deploy)
#   ATOL=1e-3 RTOL=1e-3 samples/deploy.sh m.onnx out/
#
# Writes into OUTDIR:
#   report.json     the findings: every ConvTranspose, its verdict and the patch applied (--deconv-report)
#   outputs.json    both runners' outputs on the same seeded inputs (--save-outputs; reload them with
#                   `polygraphy run ... --load-outputs OUTDIR/outputs.json` to check a later build)
#   model.engine    the patched engine, moved into place only when the comparison PASSED
#   polygraphy.log  the run's log
# Exit code: 0 when TensorRT and onnxruntime agree within the tolerances, non-zero otherwise.
# Needs TensorRT (NVIDIA's TensorRT container: see docker/Dockerfile) and this package installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model=${1:-"$here/models/mixed.onnx"}
outdir=${2:-deconv-deploy}
atol=${ATOL:-1e-4}
rtol=${RTOL:-1e-4}
polygraphy=${POLYGRAPHY:-polygraphy}

if [[ ! -f "$model" ]]; then
  echo "error: no such model: $model" >&2
  exit 1
fi
mkdir -p "$outdir"
candidate="$outdir/.model.engine.partial"
trap 'rm -f "$candidate"' EXIT

# --deconv-fix patches the parsed network before the engine is built; --deconv-report keeps the findings.
# elemwise: an element fails only when it exceeds both atol and rtol (Polygraphy's default, stated here so
# the gate does not change with Polygraphy's defaults).
"$polygraphy" run "$model" \
  --trt --onnxrt \
  --deconv-fix --deconv-report "$outdir/report.json" \
  --seed 1 \
  --atol "$atol" --rtol "$rtol" --check-error-stat elemwise \
  --save-outputs "$outdir/outputs.json" \
  --save-engine "$candidate" \
  --log-file "$outdir/polygraphy.log"

mv -f "$candidate" "$outdir/model.engine"
echo "deploy: $outdir/model.engine matches onnxruntime (atol $atol, rtol $rtol); findings in $outdir/report.json"
