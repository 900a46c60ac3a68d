"""`polygraphy-deconv check MODEL`: the main job in one command, with one PASSED/FAILED line to gate on.

1. inspect: what TensorRT's ONNX parser builds for every ConvTranspose (no TensorRT needed);
2. fix + verify: rewrite the model into a temporary folder and compare it with the original on
   onnxruntime through Polygraphy's comparator (no TensorRT needed);
3. TensorRT: where TensorRT or TensorRT-RTX imports, `polygraphy run MODEL --trt --onnxrt --deconv-fix`: the parsed
   network patched in place, built, and compared with onnxruntime by Polygraphy itself. TensorRT-RTX is used where
   POLYGRAPHY_USE_TENSORRT_RTX=1 is set or where it is the only one installed. Where the engine was built but no
   GPU can run it, the step says so (neither passed nor skipped); where neither library imports, it is skipped,
   never passed.

PASSED means every step that ran passed; BUILT, NOT RUN that every step that ran passed and TensorRT's engine
was built from the patched network but not run (no supported GPU), so nothing was compared on TensorRT. Findings alone do not fail the check (they are what the fix and
the plugin repair); `--strict` fails it when any node needs a patch, for CI gates that want a model that
needs none. Every run ends with its one `check: PASSED`/`check: BUILT, NOT RUN`/`check: FAILED` line: bad input fails the step it
stopped (its one error line on stderr), and a verification that needs sizes fails with the --input-shapes
to pass (dynamic dims get the smallest sizes ONNX shape inference finds consistent and onnxruntime runs, where
there are such; the TensorRT step gets the same sizes).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from polygraphy_deconv.cli.options import add_input_shapes_option, add_seed_option, add_verify_memory_option


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="Inspect, fix and verify on onnxruntime, and (where TensorRT or TensorRT-RTX is installed) patch, build "
        "and compare with polygraphy run; one PASSED/FAILED line.",
        description="The main job: inspect MODEL, fix it into a temporary folder and verify the fix on onnxruntime, "
        "then, where TensorRT or TensorRT-RTX is importable, run `polygraphy run MODEL --trt --onnxrt --deconv-fix` "
        "(TensorRT-RTX where POLYGRAPHY_USE_TENSORRT_RTX=1 is set or where it is the only one installed). "
        "Every run ends with one check: line: PASSED, BUILT, NOT RUN (every step that ran passed; the TensorRT "
        "engine was built from the patched network but no supported GPU could run it) or FAILED. "
        "Exit 0 for PASSED and BUILT, NOT RUN (a model without ConvTranspose passes: nothing to rewrite), "
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
        "--no-tensorrt", action="store_true", help="skip the TensorRT step even where TensorRT or TensorRT-RTX is installed"
    )
    add_input_shapes_option(parser, verifies=True)
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class TensorRTStep:
    """The library the TensorRT step runs on: TensorRT-RTX where POLYGRAPHY_USE_TENSORRT_RTX=1 is set or where
    tensorrt_rtx is the only one installed, else TensorRT. `library` is "" where none is importable (`why` says why)."""

    library: str = ""  # "TensorRT 10.16.1" | "TensorRT-RTX 1.7.1.116"
    environment: tuple[tuple[str, str], ...] = ()  # what the `polygraphy run` process needs in its environment
    why: str = ""


def tensorrt_step() -> TensorRTStep:
    import os

    def version(module: str) -> tuple[str, str]:
        """(its __version__, "") where it imports, else ("", why)."""
        try:
            imported = __import__(module)
        except Exception as error:  # noqa: BLE001 (a broken or stub package raises more than ImportError)
            first = str(error).splitlines()[0] if str(error) else "not importable"
            return "", f"{type(error).__name__}: {first}"
        return str(getattr(imported, "__version__", "unknown version")), ""

    if os.environ.get("POLYGRAPHY_USE_TENSORRT_RTX", "0") != "0":  # Polygraphy's own reading (polygraphy/config.py)
        rtx, why = version("tensorrt_rtx")
        return TensorRTStep(f"TensorRT-RTX {rtx}") if rtx else TensorRTStep(why=f"POLYGRAPHY_USE_TENSORRT_RTX=1: {why}")
    trt, why = version("tensorrt")
    if trt:
        return TensorRTStep(f"TensorRT {trt}")
    rtx, _ = version("tensorrt_rtx")
    if rtx:
        return TensorRTStep(f"TensorRT-RTX {rtx}", (("POLYGRAPHY_USE_TENSORRT_RTX", "1"),))
    return TensorRTStep(why=why)


def polygraphy_command(model: str, report: str, seed: int | None, input_shapes: list[str] | None,
                       reference: str | None = None) -> list[str]:
    """The `polygraphy run` command line of the TensorRT step (the console script next to this Python): TensorRT with
    --deconv-fix against onnxruntime on the model, or against the outputs saved in `reference` (reference_command)."""
    compare = ["--onnxrt"] if reference is None else ["--load-outputs", reference]
    return _polygraphy_run(model, ["--trt", *compare, "--deconv-fix", "--deconv-report", report], seed, input_shapes)


def reference_command(fixed: str, outputs: str, seed: int | None, input_shapes: list[str] | None) -> list[str]:
    """onnxruntime on the fixed model, its outputs saved to `outputs`: the TensorRT step's reference where this
    onnxruntime refuses the original (negative pads). The same seed and sizes give both runs the same inputs."""
    return _polygraphy_run(fixed, ["--onnxrt", "--save-outputs", outputs], seed, input_shapes)


def _polygraphy_run(model: str, options: list[str], seed: int | None, input_shapes: list[str] | None) -> list[str]:
    import os
    import shutil
    import sys

    beside = os.path.join(os.path.dirname(sys.executable), "polygraphy")
    executable = beside if os.path.exists(beside) else (shutil.which("polygraphy") or "polygraphy")
    command = [executable, "run", model, *options]
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
        console.print(f"check: FAILED ({', '.join(failed)})", style="bold red", soft_wrap=True)
        return 1
    skipped = [step for step, outcome in results if outcome.startswith("skipped")]
    suffix = f" (skipped: {', '.join(skipped)})" if skipped else ""
    not_run = [outcome for _, outcome in results if outcome.startswith(NOT_RUN)]
    if not_run:
        # Every step that ran passed, but TensorRT's engine was not run: not the same as PASSED (exit 0 all the same).
        console.print(f"check: BUILT, NOT RUN ({not_run[0]}){suffix}", style="bold yellow", soft_wrap=True)
        return 0
    console.print(f"check: PASSED{suffix}", style="bold green", soft_wrap=True)
    return 0


RUNNING = "running"  # the outcome of the step under way: a DeconvError fails that step
# The TensorRT step's outcome where the engine was built from the patched network but no GPU could run it: neither
# passed (nothing was compared on TensorRT) nor skipped (the parse, the patch and the build ran).
NOT_RUN = "engine built"


def tensorrt_outcome(returncode: int, output: list[str], step: TensorRTStep) -> str:
    """The step's outcome from `polygraphy run`'s exit code and output: passed, failed, or built and not run (the
    plugin's NoteEngineWithoutDevice says so where no CUDA device is)."""
    from polygraphy_deconv.plugin.loader import ENGINE_BUILT_NOT_RUN, NO_NETWORK_CREATION

    if returncode == 0:
        return f"passed on {step.library}"
    if any(NO_NETWORK_CREATION in line and line.startswith("[!]") for line in output):
        # This Polygraphy cannot drive the library (0.49 and TensorRT-RTX): the library is there, the step cannot run.
        return f"skipped: this Polygraphy cannot create networks on {step.library} (Polygraphy 0.50 or newer can)"
    if any(ENGINE_BUILT_NOT_RUN in line for line in output):
        return f"{NOT_RUN} on {step.library}; not run: no supported GPU"
    return f"failed: exit {returncode}"
FIX_STEP, VERIFY_STEP = "inspect + fix", "fix + verify (onnxruntime)"


def run_steps(args: argparse.Namespace, console: Any, results: list[tuple[str, str]]) -> None:
    import contextlib
    import os
    import shutil
    import subprocess
    import tempfile

    from polygraphy_deconv.core.finding import Verdict
    from polygraphy_deconv.errors import DeconvError
    from polygraphy_deconv.onnx_model.input_shapes import parse_input_shapes
    from polygraphy_deconv.onnx_model.loaded import load
    from polygraphy_deconv.onnx_model.rewrite import FixResult, refusal_message
    from polygraphy_deconv.onnx_model.verify import (
        DEFAULT_MEMORY_LIMIT,
        SizesNeeded,
        Verification,
        VerificationShapes,
        check_verification_memory,
        external_folder_supported,
        verification_shapes,
        verify_fix,
    )
    from polygraphy_deconv.onnx_model.writing import fix_file
    from polygraphy_deconv.output_files import check_output_path, signals_held, write_atomically
    from polygraphy_deconv.report.inspect_table import print_inspect_report, print_rule, print_wrapped
    from polygraphy_deconv.report.schema import document_text, findings_document, node_finding_record, verdict_counts
    from polygraphy_deconv.text import shown

    results.append(("read the model", RUNNING))
    shapes = parse_input_shapes(args.input_shapes)
    if args.json is not None:
        check_output_path(args.json, "--json", [args.model])
    loaded = load(args.model, shapes)  # the one read of the model: every step below takes it from here
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
            chosen = verification_shapes(
                args.model, shapes, seed=args.seed, memory_limit=limit, fixed=planned.model, original=loaded
            )
        except SizesNeeded as error:
            sizes_problem = str(error)
            return
        if planned.rewrites:
            check_verification_memory(args.model, chosen.shapes, limit, loaded)
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
                refuse=False, before_write=settle_sizes, loaded=loaded,
            )
        results.pop()
        analysis = result.analysis
        assert analysis is not None
        findings = [node.finding for node in analysis.nodes]
        print_rule(console, "inspect")
        print_inspect_report(  # the model as the user named it (the JSON has its absolute path)
            findings, model=args.model, biases=[n.bias for n in analysis.nodes], model_notes=analysis.notes,
            console=console, same_configuration=analysis.same_configuration,
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
        verification: Verification | None = None
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
                        fixed_data_folder=model_folder if by_reference else None, original_model=loaded,
                    )
            except DeconvError as error:  # onnxruntime could not run the models: the step failed, and why
                print_wrapped(console, [f"{shown(str(error))}{sizes.hint()}"])
                results.append((VERIFY_STEP, "failed: onnxruntime could not run the models"))
            else:
                if verification.stand_in:
                    print_wrapped(console, [verification.stand_in_text()])
                print_wrapped(console, [shown(comparison.describe()) for comparison in verification.outputs])
                results.append((VERIFY_STEP, "passed" if verification.passed else "failed"))

        # Where this onnxruntime refused the original (negative pads, run by the verification as ONNX's formula
        # writes them), Polygraphy's onnxruntime runner would refuse it too.
        refused_by_onnxruntime = bool(verification.stand_in) if verification is not None else any(
            f.verdict is Verdict.NEGATIVE_PADS for f in findings
        )
        print_rule(console, "TensorRT: polygraphy run --trt --deconv-fix against onnxruntime on the fixed model"
                   if refused_by_onnxruntime else "TensorRT: polygraphy run --trt --onnxrt --deconv-fix")
        step = None if args.no_tensorrt else tensorrt_step()
        if step is None:
            results.append(("TensorRT", "skipped: --no-tensorrt"))
        elif not step.library:
            from polygraphy_deconv.plugin.loader import missing_library_message

            print_wrapped(console, [f"{missing_library_message('tensorrt')} ({step.why})"])
            results.append(("TensorRT", "skipped: neither TensorRT nor TensorRT-RTX is installed"))
        else:
            # The sizes the verification ran at: TensorRT builds and compares at the same ones.
            bound = sizes.input_shapes_arguments() if sizes is not None and sizes.shapes else args.input_shapes
            if sizes is None and sizes_problem:
                print_wrapped(console, [f"note: no sizes chosen for the dynamic dims: {shown(sizes_problem)}"])
            environment = dict(os.environ, **dict(step.environment))

            def polygraphy(command: list[str], doing: str) -> tuple[int, list[str]]:
                shown_command = " ".join([*(f"{k}={v}" for k, v in step.environment), *command])
                console.print("  " + shown(shown_command), markup=False, soft_wrap=True)
                with status(doing):
                    process = subprocess.run(command, check=False, capture_output=True, text=True, env=environment)
                return process.returncode, (process.stdout + process.stderr).strip().splitlines()

            reference = None
            if refused_by_onnxruntime:
                # Polygraphy's onnxruntime runner would refuse the original as the verification's did: TensorRT is
                # compared with onnxruntime's outputs of the fixed model, which the verification proved equal to
                # the original's meaning. A binary copy with its weights beside it: Polygraphy reads it by path.
                reference_model = os.path.join(workdir, "reference.onnx")
                fix_file(args.model, reference_model, input_shapes=shapes, external_data="copy", refuse=False,
                         loaded=loaded)
                print_wrapped(console, [(
                    "onnxruntime refuses the original's negative pads: TensorRT is compared with onnxruntime's "
                    "outputs of the fixed model"
                )])
                reference = os.path.join(workdir, "onnxruntime-outputs.json")
                code, output = polygraphy(
                    reference_command(reference_model, reference, args.seed, bound),
                    "polygraphy run on onnxruntime (the fixed model)",
                )
            if reference is not None and code != 0:
                outcome = f"failed: onnxruntime on the fixed model, exit {code}"
            else:
                code, output = polygraphy(
                    polygraphy_command(os.path.abspath(args.model), os.path.join(workdir, "network-report.json"),
                                       args.seed, bound, reference),
                    f"polygraphy run on {step.library} (parse, patch, build, compare)",
                )
                outcome = tensorrt_outcome(code, output, step)
            # Built and not run: the plugin's own lines (its summary and the engine note), not the deserialization
            # errors that follow on a machine without a GPU.
            tail = [line for line in output if "Deconvolution" in line] if outcome.startswith(NOT_RUN) else output[-25:]
            for line in tail:
                console.print(f"  | {shown(line)}", markup=False, soft_wrap=True)
            results.append(("TensorRT (polygraphy run)", outcome))

    finally:
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)
