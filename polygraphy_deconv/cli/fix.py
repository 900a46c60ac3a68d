"""`polygraphy-deconv fix MODEL -o OUT [--verify] [--input-shapes ...] [--seed N]`: rewrite every
ConvTranspose TensorRT would build wrong into a form every parser >= 8.5 builds right.

With --verify the original and the fixed model are compared on onnxruntime with Polygraphy's comparator;
on a mismatch the command prints FAILED and exits 1. OUT is kept then: it was written completely, and
it is what one wants to look at. Dynamic dims not bound by --input-shapes get the smallest sizes at which
ONNX shape inference finds the model consistent and onnxruntime runs it (verify.verification_shapes); where
none is found, the
command asks for --input-shapes before writing anything.

A node that needs a rewrite and cannot get one (output_shape on unbound dynamic sizes) fails the command
with one line naming it (exit 1, nothing written): never an unchanged copy that looks fixed.
"""

from __future__ import annotations

import argparse
from typing import Any

from polygraphy_deconv.cli.options import add_input_shapes_option, add_seed_option, add_verify_memory_option


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fix",
        help="Write a model whose ConvTranspose nodes every TensorRT parser builds as ONNX means them.",
        description="Rewrite each ConvTranspose that TensorRT's ONNX parser would build with a different output "
        "window (explicit pads, plus Pad and a bias Add where the window extends past the full result). "
        "Nodes already correct are left untouched; with nothing to rewrite (also: no ConvTranspose at all) "
        "OUT is a copy of MODEL and --in-place leaves MODEL as it is (exit 0). External data is kept, never "
        "loaded: when OUT is in another folder, MODEL's data files are copied (sparse files stay sparse) into "
        "one file named OUT.data, which is never written over a file that is not an earlier OUT's data; in "
        "MODEL's folder OUT refers to MODEL's data files. A data file that is missing, of the wrong size or "
        "outside MODEL's folder is an error. OUT is written in the format its extension names (.onnx, .json, "
        ".textproto, .onnxtxt), with MODEL's permissions, completely or not at all (temporary file + rename), "
        "and never over MODEL or its data unless --in-place. A node that needs a rewrite and cannot get one "
        "(output_shape on dynamic sizes: bind them with --input-shapes) is an error, and nothing is written. "
        "Exit 1 with one line on stderr on bad input, 2 for usage errors.",
    )
    parser.add_argument("model", metavar="MODEL", help="the ONNX model")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("-o", "--output", metavar="OUT", help="where to write the fixed model (not MODEL itself)")
    target.add_argument("--in-place", action="store_true", help="overwrite MODEL (atomically)")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="compare the original and the fixed model on onnxruntime (Polygraphy's comparator, seeded random "
        "inputs; dynamic dims not bound by --input-shapes at the smallest sizes ONNX shape inference finds "
        "consistent and onnxruntime runs, else it asks for --input-shapes before writing); exit 1 on a mismatch "
        "(OUT is kept)",
    )
    add_seed_option(parser, "the --verify inputs")
    add_verify_memory_option(parser)
    add_input_shapes_option(parser, verifies=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from polygraphy_deconv.errors import DeconvError
    from polygraphy_deconv.onnx_model.input_shapes import parse_input_shapes
    from polygraphy_deconv.onnx_model.rewrite import FixResult
    from polygraphy_deconv.onnx_model.writing import fix_file
    from polygraphy_deconv.report.inspect_table import (
        make_console,
        print_notes,
        print_rewrites,
        print_wrapped,
        summary_line,
    )
    from polygraphy_deconv.text import shown

    if args.in_place and args.verify:
        raise DeconvError(
            "--verify compares the fixed model with the original, which --in-place replaces; "
            "write to -o OUT, verify, then move OUT over the model"
        )
    from polygraphy_deconv.onnx_model.loaded import load

    shapes = parse_input_shapes(args.input_shapes)
    loaded = load(args.model, shapes)  # the one read of the model: every step below takes it from here
    output = args.model if args.in_place else args.output
    sizes = None

    def settle_verification(planned: FixResult) -> None:
        """Before anything is written: the sizes and memory of the verification, where it has something to
        compare (an unchanged copy needs none)."""
        nonlocal sizes
        if not args.verify or not planned.rewrites:
            return
        from polygraphy_deconv.onnx_model.verify import (
            DEFAULT_MEMORY_LIMIT,
            SizesNeeded,
            check_verification_memory,
            verification_shapes,
        )

        limit = DEFAULT_MEMORY_LIMIT if args.verify_memory_limit is None else args.verify_memory_limit
        try:
            sizes = verification_shapes(
                args.model, shapes, seed=args.seed, memory_limit=limit, fixed=planned.model, original=loaded
            )
        except SizesNeeded as error:
            raise DeconvError(f"{error}; nothing written (without --verify, fix writes the model unverified)") from None
        check_verification_memory(args.model, sizes.shapes, limit, loaded)

    result = fix_file(
        args.model, args.output, input_shapes=shapes, in_place=args.in_place, before_write=settle_verification, loaded=loaded
    )
    console = make_console()

    print_rewrites(console, result.rewrites)
    findings = [] if result.analysis is None else [n.finding for n in result.analysis.nodes]
    print_wrapped(console, [f"{summary_line(findings)}; rewrote {len(result.rewrites)}"], first="", rest="  ")
    print_notes(console, [f"{r.node}: {r.note}" for r in result.rewrites if r.note] + list(result.notes), heading="")
    where = shown(output)
    if result.data_file:
        data = f" (external data: {shown(result.data_file)})"
    elif result.shared_data:
        data = f" (external data: refers to {', '.join(shown(s) for s in result.shared_data)} beside the model)"
    else:
        data = ""
    if result.rewrites:
        console.print(f"wrote {where}{data}", markup=False, soft_wrap=True)
    elif args.in_place:
        console.print(f"nothing to rewrite: {where} left unchanged", markup=False, soft_wrap=True)
    else:
        console.print(f"nothing to rewrite: wrote {where}, an unchanged copy{data}", markup=False, soft_wrap=True)

    if not args.verify:
        return 0
    if sizes is None:  # nothing was rewritten: the output is the model, and comparing it with itself proves nothing
        print_wrapped(console, ["verify (onnxruntime): nothing to verify, no node was rewritten"], first="", rest="  ")
        return 0
    from polygraphy_deconv.onnx_model.verify import verify_fix

    if sizes.describe():
        print_wrapped(console, [sizes.describe()], first="", rest="  ")
    try:
        verification = verify_fix(args.model, output, args.seed, sizes.shapes, original_model=loaded)
    except DeconvError as error:
        raise DeconvError(f"{error}{sizes.hint()}; {output} is written, not verified") from None
    if verification.stand_in:
        print_wrapped(console, [verification.stand_in_text()], first="", rest="  ")
    print_wrapped(console, [shown(comparison.describe()) for comparison in verification.outputs])
    if verification.passed:
        console.print(f"verify (onnxruntime, seed {verification.seed}): PASSED", markup=False)
        return 0
    failed = (
        f"verify (onnxruntime, seed {verification.seed}): FAILED; the fixed model differs from the original "
        f"(kept at {shown(output)} for inspection)"
    )
    print_wrapped(console, [failed], first="", rest="  ")
    return 1
