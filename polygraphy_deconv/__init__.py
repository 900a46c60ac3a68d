"""polygraphy-deconv: find and fix TensorRT deconvolutions whose output window differs from ONNX ConvTranspose.

The package is split into a pure core (`polygraphy_deconv.core`: window math, TensorRT parser
prediction, patch plans) and adapters around it (`onnx_model`, `trt_network`, `plugin`, `report`, `cli`).
Importing this package must stay cheap: Polygraphy imports the plugin for every subcommand.
"""

__version__ = "0.1.0"
