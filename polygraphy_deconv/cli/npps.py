"""`polygraphy-deconv npps MODEL -o SCRIPT.py [--input-shapes ...] [--trt-version V]`: write a Polygraphy
network postprocess script bound to MODEL, for `polygraphy convert MODEL --trt-npps SCRIPT.py -o OUT.engine`.

A postprocess step runs after the parse: a model with a node the parser rejects is refused here with one
line that says to rewrite it with `polygraphy-deconv fix` first.
"""

from __future__ import annotations

import argparse
from typing import Any

from polygraphy_deconv.cli.options import add_input_shapes_option
from polygraphy_deconv.core.trt_parser import NEWEST_RULES, PARSER_RULES, ParserRules, parser_rules


def _rules(version: str) -> ParserRules:
    try:
        return parser_rules(version)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "npps",
        help="Write a Polygraphy network postprocess script that patches MODEL's deconvolutions "
        "(for polygraphy convert --trt-npps).",
        description="Write SCRIPT.py, a network postprocess script for `polygraphy convert MODEL --trt-npps "
        "SCRIPT.py -o OUT.engine` (or --trt-network-postprocess-script): right after the parse it patches every "
        "deconvolution whose window differs from its ONNX ConvTranspose, as `polygraphy run --deconv-fix` does, "
        "and fails the build with one message on a deconvolution it cannot patch. The script names MODEL by its "
        "absolute path and binds the --input-shapes given here. A model with a node TensorRT's parser rejects is "
        "refused (a postprocess step cannot run before the parse): rewrite it with `polygraphy-deconv fix` and "
        "convert the fixed model. Exit 0 when written; 1 with one line on stderr for bad input or a refused "
        "model (nothing written); 2 for usage errors.",
    )
    parser.add_argument("model", metavar="MODEL", help="the ONNX model")
    parser.add_argument("-o", "--output", metavar="SCRIPT.py", required=True, help="where to write the script")
    parser.add_argument(
        "--trt-version", type=_rules, default=NEWEST_RULES, dest="trt_rules", metavar="|".join(PARSER_RULES),
        help=f"the TensorRT version that will parse MODEL, for refusing nodes it rejects (default: {NEWEST_RULES})",
    )
    add_input_shapes_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os

    from polygraphy_deconv.core.finding import Verdict
    from polygraphy_deconv.deploy.npps_script import check_script_name, script_text
    from polygraphy_deconv.errors import DeconvError
    from polygraphy_deconv.onnx_model.input_shapes import parse_input_shapes
    from polygraphy_deconv.onnx_model.loaded import load
    from polygraphy_deconv.output_files import check_output_path, write_atomically
    from polygraphy_deconv.report.schema import verdict_counts
    from polygraphy_deconv.text import shown

    shapes = parse_input_shapes(args.input_shapes)
    check_script_name(args.output)
    check_output_path(args.output, "output path", [args.model])
    analysis = load(args.model, shapes, rules=args.trt_rules).analysis  # the one read of the model
    check_output_path(args.output, "output path", analysis.input_files)

    rejected = [node.finding for node in analysis.nodes if node.finding.parser.parse_error is not None]
    if rejected:
        names = ", ".join(f"'{shown(f.node)}'" for f in rejected[:3]) + (", ..." if len(rejected) > 3 else "")
        bound = "".join(f" {argument}" for argument in ["--input-shapes", *args.input_shapes]) if args.input_shapes else ""
        raise DeconvError(
            f"{len(rejected)} ConvTranspose node(s) of {shown(args.model)} do not parse on TensorRT {args.trt_rules} "
            f"({names}), and a postprocess script runs only after the parse: run `polygraphy-deconv fix "
            f"{shown(args.model)} -o FIXED.onnx{shown(bound)}` first and convert FIXED.onnx (no script needed), or build "
            "with `polygraphy run --trt --deconv-fix`, which rewrites them before the parse"
        )

    counts = verdict_counts(node.finding.verdict for node in analysis.nodes)
    to_patch = sum(1 for node in analysis.nodes if node.finding.verdict.needs_patch)
    summary = f"{len(analysis.nodes)} ConvTranspose, {counts[Verdict.OK.value]} ok, {to_patch} to patch"
    if counts[Verdict.UNDECIDED.value]:
        summary += f", {counts[Verdict.UNDECIDED.value]} undecided"
    text = script_text(analysis.path, shapes, summary, args.trt_rules)
    write_atomically(args.output, lambda handle: handle.write(text.encode()))

    script = os.path.abspath(args.output)
    print(f"wrote {shown(args.output)}: {summary}")
    if counts[Verdict.UNDECIDED.value]:
        print("  note: undecided nodes depend on dynamic sizes; bind them with --input-shapes for a patch")
    print(f"  polygraphy convert {shown(analysis.path)} --trt-npps {shown(script)} -o {shown(_engine_name(analysis.path))}")
    return 0


def _engine_name(model: str) -> str:
    import os

    return os.path.splitext(os.path.basename(model))[0] + ".engine"
