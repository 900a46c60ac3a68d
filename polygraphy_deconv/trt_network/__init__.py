"""The TensorRT-network adapter: find every deconvolution unit of a parsed network (units.py), compare it
with its ONNX node (comparison.py) and patch it in place (patching.py).

TensorRT is reached through `import tensorrt as trt` inside functions (and under TYPE_CHECKING for the
type checker), so importing this package stays cheap and `scripts/check-trt-types` checks every
attribute against the real API.
"""
