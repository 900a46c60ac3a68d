"""The cost of the `inspect` report on a model of many nodes that are not ok (issue 10, item 8).

A model of `nodes` ConvTranspose nodes, every one shifted (k3 s2, output_shape = L - 1: an odd total
padding, which onnxruntime starts at 1 and TensorRT's parser at 0), spread over `configurations`
distinct input sizes. Measured in one process: the analysis (analyse_model), then the report of it
(print_inspect_report into a plain console in memory, as when piped); the ratio is analysis + report
against the analysis alone. Target: the report
adds at most half the analysis time (ratio <= 1.5).
"""

from __future__ import annotations

import io
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build_shifted_model(path: str, nodes: int, configurations: int = 1) -> None:
    """`nodes` shifted ConvTranspose nodes reading `configurations` inputs of different heights."""
    weight = numpy_helper.from_array(np.ones((1, 1, 3, 3), dtype=np.float32), "W")
    inputs = []
    for config in range(configurations):
        inputs.append(helper.make_tensor_value_info(f"x{config}", TensorProto.FLOAT, [1, 1, 5 + config, 6]))
    graph_nodes, outputs = [], []
    for index in range(nodes):
        config = index % configurations
        height = 5 + config
        # L = (I - 1) * 2 + 3 = 2I + 1; output_shape 2I leaves a total padding of 1 (odd): shifted.
        graph_nodes.append(
            helper.make_node(
                "ConvTranspose",
                [f"x{config}", "W"],
                [f"y{index}"],
                name=f"decoder.up{index}",
                strides=[2, 2],
                output_shape=[2 * height, 12],
            )
        )
        outputs.append(helper.make_tensor_value_info(f"y{index}", TensorProto.FLOAT, None))
    graph = helper.make_graph(graph_nodes, "shifted", inputs, outputs, [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def report_seconds(path: str, repeats: int) -> tuple[float, float]:
    """(analysis alone, analysis + report), each the median of `repeats` runs in this process (each run
    times its analysis, then the report of that analysis)."""
    from polygraphy_deconv.onnx_model.analysis import analyse_model
    from polygraphy_deconv.report.inspect_table import make_console, print_inspect_report

    alone, whole = [], []
    for attempt in range(repeats + 1):  # the first run warms up (imports, caches) and is not counted
        start = time.perf_counter()
        analysis = analyse_model(path)
        analysed = time.perf_counter()
        findings = [node.finding for node in analysis.nodes]
        stream = io.StringIO()
        print_inspect_report(
            findings,
            model=analysis.path,
            biases=[n.bias for n in analysis.nodes],
            model_notes=analysis.notes,
            console=make_console(stream),
        )
        reported = time.perf_counter()
        assert f"{len(findings)} ConvTranspose: {len(findings)} shifted" in stream.getvalue()
        if attempt:
            alone.append(analysed - start)
            whole.append(reported - start)
    return statistics.median(alone), statistics.median(whole)


def report_rows(workdir: str, repeats: int, nodes: int, row: Callable[[str, str, str, float, str], str]) -> list[str]:
    """Rows of benchmarks/run.py (`row` formats one): `nodes` shifted nodes in one configuration, and in 1,000."""
    rows = []
    for configurations in (1, 1000):
        path = os.path.join(workdir, f"shifted_{configurations}.onnx")
        build_shifted_model(path, nodes, configurations)
        alone, whole = report_seconds(path, repeats)
        rows.append(
            row(
                f"inspect report, {nodes:,} shifted nodes in {configurations:,} configuration(s): analysis + report "
                "against the analysis alone (in one process)",
                f"{whole:.2f} s",
                f"{alone:.2f} s",
                whole / alone,
                "<= 1.5",
            )
        )
    return rows
