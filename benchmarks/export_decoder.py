"""Export a real decoder network to ONNX for the benchmarks: MONAI's 2D UNet (its up path uses
ConvTranspose k3 s2 p1 output_padding 1), random weights, weights as external data.

Needs torch and monai (not project dependencies): run it in a separate environment, e.g.
    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 monai onnx
    /tmp/torchenv/bin/python benchmarks/export_decoder.py benchmarks/models/monai_unet.onnx
The exported file is committed, so the benchmarks themselves need neither.
"""

from __future__ import annotations

import os
import sys

import onnx
import torch
from monai.networks.nets import UNet


def main(path: str) -> None:
    torch.manual_seed(0)
    net = UNet(
        spatial_dims=2, in_channels=1, out_channels=2, channels=(16, 32, 64, 128, 256), strides=(2, 2, 2, 2),
        num_res_units=2,
    ).eval()
    x = torch.randn(1, 1, 64, 64)
    tmp = path + ".tmp.onnx"
    torch.onnx.export(net, (x,), tmp, input_names=["image"], output_names=["logits"], opset_version=17, dynamo=False)
    model = onnx.load(tmp)
    os.remove(tmp)
    location = os.path.basename(path) + ".data"
    onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True, location=location, size_threshold=0)
    kinds = [n.op_type for n in model.graph.node]
    print(f"{path}: {len(kinds)} nodes, {kinds.count('ConvTranspose')} ConvTranspose, torch {torch.__version__}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/models/monai_unet.onnx")
