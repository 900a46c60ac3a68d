"""The ONNX adapter: read ConvTranspose nodes and their input sizes from a model (without loading
external weight data), analyse them with the core, and rewrite them into a form every TensorRT
parser builds correctly."""
