"""`polygraphy-deconv inspect MODEL [--json PATH] [--input-shapes NAME:[d,...] ...]`: a table of every
ConvTranspose, its windows and the verdict. Exit 0 whenever the model could be analysed, also when it
has no ConvTranspose at all (that is an answer, not an error)."""

from __future__ import annotations

import argparse
from typing import Any

from polygraphy_deconv.cli.options import add_input_shapes_option
from polygraphy_deconv.core.trt_parser import NEWEST_RULES, PARSER_RULES, ParserRules, parser_rules


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "inspect",
        help="Show what TensorRT's ONNX parser builds for each ConvTranspose (no TensorRT needed).",
        description="Show, for each ConvTranspose, the output window ONNX means, the one TensorRT's ONNX "
        "parser builds, the verdict and the patch. External weight data is never read (not even opened). "
        "Exit 0 whenever the model could be analysed, also when it has no ConvTranspose node ('0 ConvTranspose "
        "nodes'); 1 with one line on stderr when it cannot (not an ONNX model, an invalid ConvTranspose node, "
        "an unwritable --json path); 2 for usage errors.",
    )
    parser.add_argument("model", metavar="MODEL", help="the ONNX model")
    parser.add_argument("--json", metavar="PATH", help="also write the findings as JSON (schema polygraphy-deconv/findings)")
    parser.add_argument(
        "--all", action="store_true", dest="all_rows",
        help="list every node and note (by default, a model with more than 50 ok nodes lists only the others, at "
        "most 20 configurations that are not ok are listed, and nodes alike share one block naming 5 of them)",
    )
    parser.add_argument(
        "--trt-version", type=trt_version_rules, default=NEWEST_RULES, dest="trt_rules", metavar="|".join(PARSER_RULES),
        help="predict with the ONNX parser rules of this TensorRT version: 8.6 (also 8.5), 10 or 11; a full version "
        f"such as 10.8 picks its rules (default: {NEWEST_RULES}, the newest); the JSON findings name the rules used "
        "(tensorrt_rules)",
    )
    add_input_shapes_option(parser)
    parser.set_defaults(run=run)


def trt_version_rules(version: str) -> ParserRules:
    """argparse type of --trt-version: the parser rules of a TensorRT version."""
    try:
        return parser_rules(version)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args: argparse.Namespace) -> int:

    from polygraphy_deconv.onnx_model.input_shapes import parse_input_shapes
    from polygraphy_deconv.onnx_model.loaded import load
    from polygraphy_deconv.output_files import check_output_path, write_atomically
    from polygraphy_deconv.report.inspect_table import print_inspect_report
    from polygraphy_deconv.report.schema import document_text, findings_document, record_texts, verdict_counts

    shapes = parse_input_shapes(args.input_shapes)
    if args.json is not None:
        check_output_path(args.json, "--json", [args.model])
    analysis = load(args.model, shapes, rules=args.trt_rules).analysis  # the one read of the model
    findings = [node.finding for node in analysis.nodes]

    if args.json is not None:
        check_output_path(args.json, "--json", analysis.input_files)
        # The findings go in as JSON text: nodes of one configuration are encoded once.
        document = findings_document(
            "inspect", analysis.path, [], {"nodes": len(findings), "verdicts": verdict_counts(f.verdict for f in findings)},
            tensorrt_rules=args.trt_rules,
        )
        if analysis.notes:
            document["notes"] = list(analysis.notes)
        texts = record_texts(findings, [node.bias for node in analysis.nodes], analysis.same_configuration)
        text = document_text(document, texts)
        write_atomically(args.json, lambda handle: handle.write(text.encode()), like=args.model)

    print_inspect_report(  # the model as the user named it (the JSON has its absolute path)
        findings, model=args.model, biases=[n.bias for n in analysis.nodes], model_notes=analysis.notes,
        all_rows=args.all_rows, same_configuration=analysis.same_configuration,
    )
    return 0
