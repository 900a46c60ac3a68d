# polygraphy-deconv on NVIDIA's TensorRT container: Polygraphy with the --deconv-* flags, the
# polygraphy-deconv command, the sample models and the test suite. Build from the repository root:
#
#   docker build -t polygraphy-deconv .                                          TensorRT 10 (25.01: TensorRT 10.8)
#   docker build --build-arg TRT_TAG=26.08 -t polygraphy-deconv:trt11 .          TensorRT 11 (26.08: TensorRT 11.2)
#
#   docker run --gpus all --rm polygraphy-deconv                          the bundled sample: TensorRT (patched) vs onnxruntime
#   docker run --gpus all --rm -v "$PWD":/models polygraphy-deconv polygraphy run /models/m.onnx --trt --onnxrt --deconv-fix
#   docker run --gpus all --rm polygraphy-deconv pytest -m tensorrt      the real-TensorRT tests
#
#   docker build --target deploy -t polygraphy-deconv:deploy .                    a model to a verified engine file
#   docker run --gpus all --rm -v "$PWD":/work polygraphy-deconv:deploy all /work/m.onnx /work/engines
#
#   docker build --target rtx -t polygraphy-deconv:rtx .          TensorRT-RTX from the package index, no NVIDIA registry
#   docker run --rm polygraphy-deconv:rtx                         check on the bundled sample: the engine is built (no GPU
#                                                                 needed); with an RTX GPU (--gpus all) it is compared too
#

# TRT_TAG is the container release (YY.MM); the TensorRT it ships is listed in NVIDIA's TensorRT container
# release notes. The container's TensorRT is kept exactly as shipped: this package does not depend on it
# (TensorRT is tied to the container's CUDA) and pip is constrained to its installed version.
ARG TRT_TAG=25.01

FROM nvcr.io/nvidia/tensorrt:${TRT_TAG}-py3 AS polygraphy-deconv

# The TensorRT containers from 24.xx on are Ubuntu 24.04, whose Python refuses system-wide pip installs
# (PEP 668) unless told otherwise; older pips ignore the variable.
ENV PIP_BREAK_SYSTEM_PACKAGES=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

WORKDIR /opt/polygraphy-deconv
COPY pyproject.toml README.md LICENSE ./
COPY polygraphy_deconv ./polygraphy_deconv
COPY samples ./samples
COPY tests ./tests

# The test extra is installed too, so `pytest -m tensorrt` runs in the image as it is. The constraint
# file pins every installed tensorrt* distribution to its shipped version; Polygraphy may be upgraded
# if the container's is older than this package supports. The last line fails the build if Polygraphy
# does not load the plugin (it would only log "Failed to load plugin" at run time).
RUN python3 -m pip list --format=freeze | { grep -iE '^tensorrt' || true; } > /tmp/keep-tensorrt.txt \
    && python3 -m pip install --no-cache-dir --constraint /tmp/keep-tensorrt.txt ".[test]" \
    && rm /tmp/keep-tensorrt.txt \
    && polygraphy run --help | grep -e "--deconv-fix" > /dev/null

# The base image's entrypoint (NVIDIA's banner and environment set-up) is kept; the default command is
# the plugin on the bundled sample.
CMD ["polygraphy", "run", "/opt/polygraphy-deconv/samples/models/mixed.onnx", "--trt", "--onnxrt", "--deconv-fix"]

# deploy: samples/deploy.sh as the command: `run`, `convert` or `trtexec` (or `all`) MODEL OUTDIR builds an engine
# file by that path (polygraphy run --deconv-fix --save-engine; polygraphy-deconv npps + polygraphy convert
# --trt-npps; polygraphy-deconv fix --verify + trtexec), compares its outputs with onnxruntime on MODEL, and keeps
# OUTDIR/model.engine only when they match; the container exits non-zero otherwise (1: a step or the comparison
# failed, 3: no TensorRT or trtexec), so a pipeline step running it fails. Without arguments it deploys the bundled
# shifted sample all three ways into /tmp/engines.
# The engine is built when the container runs, not during `docker build`: TensorRT builds an engine for the GPU it
# runs on (an engine is specific to the GPU model and the TensorRT version), and `docker build` has no GPU.
FROM polygraphy-deconv AS deploy
# trtexec ships in the TensorRT containers under /opt/tensorrt/bin (/usr/src/tensorrt is a link to it).
ENV PATH="${PATH}:/opt/tensorrt/bin:/usr/src/tensorrt/bin"
# NVIDIA's entrypoint (banner, environment checks) still runs first, then deploy.sh with the arguments.
ENTRYPOINT ["/opt/nvidia/nvidia_entrypoint.sh", "/opt/polygraphy-deconv/samples/deploy.sh"]
CMD ["all", "/opt/polygraphy-deconv/samples/models/shifted_output_shape_2d.onnx", "/tmp/engines"]

# rtx: TensorRT-RTX, NVIDIA's RTX-GPU sibling of TensorRT, from the package index (`pip install tensorrt-rtx`: the
# bindings and the libraries, no CUDA toolkit needed) on a plain Python image; nothing from NVIDIA's registry.
# Polygraphy uses it under POLYGRAPHY_USE_TENSORRT_RTX=1. Without a GPU, `polygraphy-deconv check` inspects, fixes
# and verifies on onnxruntime, then parses, patches and builds the engine on TensorRT-RTX and ends with
# "check: BUILT, NOT RUN"; on an RTX GPU (Turing and later; not Hopper) the engine is compared with onnxruntime too.
FROM python:3.11-slim AS rtx
# The TensorRT-RTX release the project's tests run on; another 1.x: --build-arg TRT_RTX_VERSION=...
ARG TRT_RTX_VERSION=1.7.1.116
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV POLYGRAPHY_USE_TENSORRT_RTX=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /opt/polygraphy-deconv
COPY pyproject.toml README.md LICENSE ./
COPY polygraphy_deconv ./polygraphy_deconv
COPY samples ./samples
# The constraint pins TensorRT-RTX to TRT_RTX_VERSION; the last line fails the build if Polygraphy does not load
# the plugin.
RUN echo "tensorrt-rtx==${TRT_RTX_VERSION}" > /tmp/tensorrt-rtx.txt \
    && python3 -m pip install --no-cache-dir --constraint /tmp/tensorrt-rtx.txt ".[tensorrt-rtx]" \
    && rm /tmp/tensorrt-rtx.txt \
    && polygraphy run --help | grep -e "--deconv-fix" > /dev/null
CMD ["polygraphy-deconv", "check", "/opt/polygraphy-deconv/samples/models/mixed.onnx"]

# The default target (`docker build -t polygraphy-deconv .`): the image above, with its NVIDIA entrypoint and the
# plugin on the bundled sample as its command.
FROM polygraphy-deconv
