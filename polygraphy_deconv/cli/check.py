"""`polygraphy-deconv check MODEL`: the main job in one command, with one PASSED/FAILED line to gate on.

1. inspect: what TensorRT's ONNX parser builds for every ConvTranspose (no TensorRT needed);
2. fix + verify: rewrite the model into a temporary folder and compare it with the original on
   onnxruntime through Polygraphy's comparator (no TensorRT needed);
3. TensorRT: where `tensorrt` imports, `polygraphy run MODEL --trt --onnxrt --deconv-fix`: the parsed
   network patched in place, built, and compared with onnxruntime by Polygraphy itself. Where it does
   not import, the step is reported as skipped, never as passed.

PASSED means every step that ran passed. Findings alone do not fail the check (they are what the fix and
the plugin repair); `--strict` fails it when any node needs a patch, for CI gates that want a model that
needs none. Every run ends with its one `check: PASSED`/`check: FAILED` line: bad input fails the step it
stopped (its one error line on stderr), and a verification that needs sizes fails with the --input-shapes
to pass (dynamic dims get the smallest sizes ONNX shape inference finds consistent and onnxruntime runs, where
there are such; the TensorRT step gets the same sizes).
"""

from __future__ import annotations

import argparse
from typing import Any

from polygraphy_deconv.cli.options import add_input_shapes_option, add_seed_option, add_verify_memory_option


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="Inspect, fix and verify on onnxruntime, and (where TensorRT is installed) patch, build and compare "
        "with polygraphy run; one PASSED/FAILED line.",
        description="The main job: inspect MODEL, fix it into a temporary folder and verify the fix on onnxruntime, "
        "then, where TensorRT is importable, run `polygraphy run MODEL --trt --onnxrt --deconv-fix`. "
        "Every run ends with one check: PASSED/FAILED line. "
        "Exit 0 when every step that ran passed (a model without ConvTranspose passes: nothing to rewrite), "
        "1 otherwise or on bad input (one line on stderr), 2 for usage errors. Dynamic dims not bound by "
        "--input-shapes are verified at the smallest sizes ONNX shape inference finds consistent and onnxruntime "
        "runs, and the TensorRT step runs at the same sizes; where there are none, the verification fails and names "
        "the --input-shapes to pass. The model itself is never "
        "written; the fixed model lives in a temporary folder that is removed, and its external data is read "
        "from MODEL's folder, not copied.",
    )
    parser.add_argument("model", metavar="MODEL", help="the ONNX model")
    parser.add_argument("--json", metavar="PATH", help="also write the inspect findings as JSON")
    add_seed_option(parser, "the random inputs")
    add_verify_memory_option(parser)
    parser.add_argument(
        "--strict", action="store_true", help="also fail when any ConvTranspose needs a patch (a model-hygiene gate)"
    )
    parser.add_argument(
        "--no-tensorrt", action="store_true", help="skip the TensorRT step even where TensorRT is installed"
    )
    add_input_shapes_option(parser, verifies=True)
    parser.set_defaults(run=run)


def tensorrt_available() -> tuple[bool, str]:
    """Whether `import tensorrt` works here, and if not, why (in a few words)."""
    try:
        import tensorrt  # noqa: F401
    except Exception as error:  # noqa: BLE001 (a tensorrt without its libraries raises at import, not only ImportError)
        return False, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'not importable'}"
    return True, ""


def polygraphy_command(model: str, report: str, seed: int | None, input_shapes: list[str] | None) -> list[str]:
    """The `polygraphy run` command line of the TensorRT step (the console script next to this Python)."""
    import os
    import shutil
    import sys

    beside = os.path.join(os.path.dirname(sys.executable), "polygraphy")
    executable = beside if os.path.exists(beside) else (shutil.which("polygraphy") or "polygraphy")
    command = [executable, "run", model, "--trt", "--onnxrt", "--deconv-fix", "--deconv-report", report]
    if seed is not None:
        command += ["--seed", str(seed)]
    if input_shapes:
        command += ["--input-shapes", *input_shapes]
    return command


def run(args: argparse.Namespace) -> int:
    """Run the steps; whatever happens (bad input included), the run ends with its one check: line."""
    import sys

    from polygraphy_deconv.errors import DeconvError
    from polygraphy_deconv.report.inspect_table import make_console, print_wrapped
    from polygraphy_deconv.text import shown

    console = make_console()
    results: list[tuple[str, str]] = []  # (step, "passed" | "failed..." | "skipped: why")
    try:
        run_steps(args, console, results)
    except DeconvError as error:
        # Bad input: its one error line on stderr (as every command), then the verdict line.
        step = results.pop()[0] if results and results[-1][1] == RUNNING else "read the model"
        console.file.flush()
        print(f"polygraphy-deconv: error: {shown(str(error))}", file=sys.stderr, flush=True)
        results.append((step, "failed (the error line on stderr)"))
    results = [(step, outcome) for step, outcome in results if outcome != RUNNING]

    console.rule(style="dim")
    print_wrapped(console, [f"{step}: {outcome}" for step, outcome in results])
    failed = [step for step, outcome in results if outcome.startswith("failed")]
    if failed:
        console.print(f"check: FAILED ({', '.join(failed)})", style="bold red")
        return 1
    skipped = [step for step, outcome in results if outcome.startswith("skipped")]
    suffix = f" (skipped: {', '.join(skipped)})" if skipped else ""
    console.print(f"check: PASSED{suffix}", style="bold green")
    return 0


RUNNING = "running"  # the outcome of the step under way: a DeconvError fails that step
FIX_STEP, VERIFY_STEP = "inspect + fix", "fix + verify (onnxruntime)"


def run_steps(args: argparse.Namespace, console: Any, results: list[tuple[str, str]]) -> None:
    import contextlib
    import os
    import shutil
    import subprocess
    import tempfile

    from polygraphy_deconv.errors import DeconvError
    from polygraphy_deconv.onnx_model.input_shapes import parse_input_shapes
    from polygraphy_deconv.onnx_model.reading import load_model
    from polygraphy_deconv.onnx_model.rewrite import FixResult, fix_file, refusal_message
    from polygraphy_deconv.onnx_model.verify import (
        DEFAULT_MEMORY_LIMIT,
        SizesNeeded,
        VerificationShapes,
        check_verification_memory,
        external_folder_supported,
        verification_shapes,
        verify_fix,
    )
    from polygraphy_deconv.output_files import check_output_path, signals_held, write_atomically
    from polygraphy_deconv.report.inspect_table import print_inspect_report, print_rule, print_wrapped
    from polygraphy_deconv.report.schema import document_text, findings_document, node_finding_record, verdict_counts
    from polygraphy_deconv.text import shown

    results.append(("read the model", RUNNING))
    shapes = parse_input_shapes(args.input_shapes)
    if args.json is not None:
        check_output_path(args.json, "--json", [args.model])
    load_model(args.model)  # a model that does not load fails this step (fix_file reads it again, then fixes it)
    results.pop()
    # The verification's sizes, chosen once the rewrite is known (shape inference judges the fixed model) and
    # before anything is written: where none can be chosen, the verification fails with what to bind and the
    # other steps run (the TensorRT step at the same sizes); a verification over its memory limit is bad input.
    sizes: VerificationShapes | None = None
    sizes_problem = ""
    limit = DEFAULT_MEMORY_LIMIT if args.verify_memory_limit is None else args.verify_memory_limit

    def settle_sizes(planned: FixResult) -> None:
        nonlocal sizes, sizes_problem
        try:
            chosen = verification_shapes(args.model, shapes, seed=args.seed, memory_limit=limit, fixed=planned.model)
        except SizesNeeded as error:
            sizes_problem = str(error)
            return
        if planned.rewrites:
            check_verification_memory(args.model, chosen.shapes, limit)
        sizes = chosen

    def status(text: str) -> contextlib.AbstractContextManager[Any]:
        # A spinner on a terminal; nothing in logs (the step's own lines say what happened).
        return console.status(text) if console.is_terminal else contextlib.nullcontext()

    # The fixed model goes to a temporary folder; its weights are read where they are (onnxruntime reads
    # a model given as bytes with a named external-data folder), never copied. An onnxruntime without
    # that option gets the old way: a copy next to the fixed model.
    by_reference = external_folder_supported()
    workdir = ""
    try:
        # Made and named with signals held back: a signal right after mkdtemp cannot leave it behind unnamed.
        with signals_held():
            workdir = tempfile.mkdtemp(prefix="polygraphy-deconv-check-")
        fixed_path = os.path.join(workdir, "fixed" + os.path.splitext(args.model)[1])
        results.append((FIX_STEP, RUNNING))
        with status("inspect + fix"):
            result = fix_file(
                args.model, fixed_path, input_shapes=shapes, external_data="reference" if by_reference else "copy",
                refuse=False, before_write=settle_sizes,
            )
        results.pop()
        analysis = result.analysis
        assert analysis is not None
        findings = [node.finding for node in analysis.nodes]
        print_rule(console, "inspect")
        print_inspect_report(
            findings, model=analysis.path, biases=[n.bias for n in analysis.nodes], model_notes=analysis.notes,
            console=console,
        )
        if result.refused:  # after the table, which shows why; check writes nothing, so nothing to say about that
            results.append((FIX_STEP, RUNNING))
            raise DeconvError(refusal_message(result.model, result.refused))
        if args.json is not None:
            results.append(("--json", RUNNING))
            check_output_path(args.json, "--json", analysis.input_files)
            document = findings_document(
                "inspect", analysis.path, [node_finding_record(n.finding, n.bias) for n in analysis.nodes],
                {"nodes": len(findings), "verdicts": verdict_counts(f.verdict for f in findings)},
            )
            text = document_text(document)
            write_atomically(args.json, lambda handle: handle.write(text.encode()), like=args.model)
            results.pop()
        needing_patch = [f for f in findings if f.verdict.needs_patch]
        if args.strict:
            results.append(("strict", "passed" if not needing_patch else f"failed: {len(needing_patch)} node(s) need a patch"))

        print_rule(console, "fix + verify on onnxruntime")
        print_wrapped(console, [
            ["rewrote", shown(rewrite.node), f"({rewrite.verdict.value}):", rewrite.before, "->", rewrite.after]
            for rewrite in result.rewrites
        ])
        if not result.rewrites:
            # The fixed model is the model: comparing it with itself would prove nothing.
            print_wrapped(console, ["nothing to rewrite, so nothing to verify"])
            results.append((VERIFY_STEP, "nothing to verify (nothing rewritten)"))
        elif sizes is None:
            print_wrapped(console, [f"verification not run: {shown(sizes_problem)}"])
            results.append((VERIFY_STEP, "failed: bind the dynamic dims with --input-shapes"))
        else:
            if sizes.describe():
                print_wrapped(console, [sizes.describe()])
            try:
                with status("verify on onnxruntime"):
                    model_folder = os.path.dirname(os.path.abspath(args.model))
                    verification = verify_fix(
                        args.model, fixed_path, args.seed, sizes.shapes,
                        fixed_data_folder=model_folder if by_reference else None,
                    )
            except DeconvError as error:  # onnxruntime could not run the models: the step failed, and why
                print_wrapped(console, [f"{shown(str(error))}{sizes.hint()}"])
                results.append((VERIFY_STEP, "failed: onnxruntime could not run the models"))
            else:
                if verification.stand_in:
                    print_wrapped(console, [verification.stand_in_text()])
                print_wrapped(console, [shown(comparison.describe()) for comparison in verification.outputs])
                results.append((VERIFY_STEP, "passed" if verification.passed else "failed"))

        print_rule(console, "TensorRT: polygraphy run --trt --onnxrt --deconv-fix")
        available, why = tensorrt_available()
        if args.no_tensorrt:
            results.append(("TensorRT", "skipped: --no-tensorrt"))
        elif not available:
            print_wrapped(console, [
                f"TensorRT is not importable here ({why}); this step runs where TensorRT is installed, e.g. "
                + "NVIDIA's TensorRT container (see Dockerfile)"
            ])
            results.append(("TensorRT", "skipped: TensorRT not installed"))
        else:
            # The sizes the verification ran at: TensorRT builds and compares at the same ones.
            bound = sizes.input_shapes_arguments() if sizes is not None and sizes.shapes else args.input_shapes
            if sizes is None and sizes_problem:
                print_wrapped(console, [f"note: no sizes chosen for the dynamic dims: {shown(sizes_problem)}"])
            command = polygraphy_command(
                os.path.abspath(args.model), os.path.join(workdir, "network-report.json"), args.seed, bound
            )
            console.print("  " + shown(" ".join(command)), markup=False, soft_wrap=True)
            with status("polygraphy run (parse, patch, build, compare)"):
                process = subprocess.run(command, check=False, capture_output=True, text=True)
            tail = (process.stdout + process.stderr).strip().splitlines()[-25:]
            for line in tail:
                console.print(f"  | {shown(line)}", markup=False, soft_wrap=True)
            results.append(("TensorRT (polygraphy run)", "passed" if process.returncode == 0 else f"failed: exit {process.returncode}"))

    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
