"""The real command lines on TensorRT-RTX, NVIDIA's official `tensorrt_rtx` package, as a user types them, in
Polygraphy's own TensorRT-RTX mode (POLYGRAPHY_USE_TENSORRT_RTX=1), on every sample and the field models:

- `polygraphy run MODEL --trt --onnxrt --deconv-fix --deconv-report R.json` (every other model with
  `--trt-outputs mark all`): parse, the plugin's pre-parse rewrite and patch, the engine build;
- `polygraphy-deconv npps MODEL -o S.py`, then `polygraphy convert MODEL --trt-npps S.py -o E.engine
  --compute-capabilities 8.9`: the engine file;
- `polygraphy-deconv fix MODEL -o F.onnx`, then `polygraphy convert F.onnx -o E.engine` (the trtexec path);
- the script `polygraphy run ... --deconv-fix --gen-script S.py` writes, executed.

No GPU is here: engines are built, not run. Where no CUDA device is, `polygraphy run` then stops at deserialization
(exit 1) after the plugin's note that the engine was built; where one is, it must pass Polygraphy's comparison.
A build refused only for TensorRT-RTX's strided+dilated limit is reported as that; anything else fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import onnx
import pytest

from polygraphy_deconv.trt_network.library import missing_cuda_device
from tests.rtx.field_models import FIELD_MODELS
from tests.rtx.harness import RTX_STRIDED_DILATED, sizes_to_run

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples" / "models").glob("*.onnx"))
BIN = Path(sys.executable).parent
NO_DEVICE = missing_cuda_device()
ENGINE_NOTE = "Deconvolution fix: engine built on TensorRT-RTX "


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    input_shapes: dict[str, list[int]] | None = None
    onnxruntime_runs: bool = True  # False: the original has nodes onnxruntime 1.32 refuses (negative pads)

    @property
    def runners(self) -> list[str]:
        """`polygraphy run`'s runners: TensorRT, and onnxruntime where it runs the original."""
        return ["--trt", "--onnxrt"] if self.onnxruntime_runs else ["--trt"]

    def shape_args(self, *flags: str) -> list[str]:
        """The shapes as Polygraphy takes them (`--input-shapes` for run, the three profile flags for convert)."""
        if not self.input_shapes:
            return []
        specs = [f"{name}:[{','.join(map(str, shape))}]" for name, shape in self.input_shapes.items()]
        return [part for flag in flags for part in (flag, *specs)]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    folder = tmp_path_factory.mktemp("field")
    found = {p.stem: Case(p.stem, p) for p in SAMPLES}
    for field in FIELD_MODELS:
        path = folder / f"{field.name}.onnx"
        onnx.save(field.build(), str(path))
        found[field.name] = Case(field.name, path, field.input_shapes or sizes_to_run(str(path)), field.onnxruntime_runs)
    return found


NAMES = [p.stem for p in SAMPLES] + [m.name for m in FIELD_MODELS]
STRIDED_DILATED = {"strided_dilated"}  # refused by TensorRT-RTX's own limit at build time


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A console script of this environment (polygraphy, polygraphy-deconv, python) in TensorRT-RTX mode."""
    program, *rest = command
    environment = dict(os.environ, POLYGRAPHY_USE_TENSORRT_RTX="1")
    return subprocess.run([str(BIN / str(program)), *map(str, rest)], cwd=cwd, capture_output=True, text=True,
                          env=environment, timeout=300, stdin=subprocess.DEVNULL, check=False)


def engine_built(done: subprocess.CompletedProcess[str], name: str) -> None:
    """`polygraphy run` (or its generated script) built the engine from the patched network and went as far as
    this machine allows; or TensorRT-RTX refused the build for its own limit only."""
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    if name in STRIDED_DILATED:
        assert done.returncode == 1 and RTX_STRIDED_DILATED in output, output
        assert ENGINE_NOTE not in output
        return
    assert "Finished engine building" in output, output
    if NO_DEVICE:
        assert done.returncode == 1 and ENGINE_NOTE in output, output
        notes = [line for line in output.splitlines() if ENGINE_NOTE in line]
        assert len(notes) == 1 and f"it cannot run here: {NO_DEVICE}" in notes[0], output
        assert output.index(ENGINE_NOTE) < output.index("Could not deserialize engine")
    else:
        assert done.returncode == 0 and "PASSED" in output, output


@pytest.mark.parametrize("name", NAMES)
def test_polygraphy_run(name: str, cases: dict[str, Case], tmp_path: Path) -> None:
    case = cases[name]
    mark_all = NAMES.index(name) % 2 == 1
    extra = ["--trt-outputs", "mark", "all"] if mark_all else []
    done = run("polygraphy", "run", case.path, *case.runners, "--deconv-fix", "--deconv-report", "r.json",
               *case.shape_args("--input-shapes"), *extra, cwd=tmp_path)
    engine_built(done, name)
    output = done.stdout + done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["source"] == "network" and report["summary"]["library"].startswith("TensorRT-RTX 1.")
    actions = [record["network"]["action"] for record in report["findings"]]
    assert actions and set(actions) <= {"ok", "patched"}, report
    (summary,) = [line for line in output.splitlines() if line.startswith("[I] Deconvolution fixed on TensorRT-RTX")]
    assert f": {len(actions)} deconvolution unit(s): " in summary
    rewritten = report["summary"]["rewritten_before_parse"]
    if rewritten:
        assert "Deconvolution fix: rewritten before the parse" in output and "; rewritten before the parse: " in summary
    verdicts = {record["verdict"] for record in report["findings"]}
    if verdicts == {"ok"} and not rewritten:
        assert set(actions) == {"ok"}


@pytest.mark.parametrize("name", NAMES)
def test_npps_then_polygraphy_convert(name: str, cases: dict[str, Case], tmp_path: Path) -> None:
    case = cases[name]
    shapes = case.shape_args("--input-shapes")
    written = run("polygraphy-deconv", "npps", case.path, "-o", "patch_model.py", *shapes, cwd=tmp_path)
    if written.returncode != 0:
        # npps refuses a model whose nodes the parser cannot build (it patches after the parse): fix is the way.
        assert written.returncode == 1 and "fix" in written.stderr, written.stdout + written.stderr
        return
    done = run("polygraphy", "convert", case.path, "--trt-npps", "patch_model.py", "-o", "model.engine",
               "--compute-capabilities", "8.9",
               *case.shape_args("--trt-min-shapes", "--trt-opt-shapes", "--trt-max-shapes"), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    if name in STRIDED_DILATED:
        assert done.returncode == 1 and RTX_STRIDED_DILATED in output and not (tmp_path / "model.engine").exists()
        return
    assert done.returncode == 0, output
    assert (tmp_path / "model.engine").stat().st_size > 0
    assert "Deconvolution fixed on TensorRT-RTX" in output


@pytest.mark.parametrize("name", NAMES)
def test_fix_then_polygraphy_convert(name: str, cases: dict[str, Case], tmp_path: Path) -> None:
    """The trtexec path: the model `fix` writes parses and builds with no network patch at all."""
    case = cases[name]
    fixed = run("polygraphy-deconv", "fix", case.path, "-o", "fixed.onnx", *case.shape_args("--input-shapes"),
                cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    done = run("polygraphy", "convert", "fixed.onnx", "-o", "model.engine", "--compute-capabilities", "8.9",
               *case.shape_args("--trt-min-shapes", "--trt-opt-shapes", "--trt-max-shapes"), cwd=tmp_path)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    if name in STRIDED_DILATED:
        assert done.returncode == 1 and RTX_STRIDED_DILATED in output
        return
    assert done.returncode == 0 and (tmp_path / "model.engine").stat().st_size > 0, output


GEN_SCRIPT = ["mixed", "tensor_bias_extension_1d", "shifted_output_shape_3d", "parse_error_output_shape_2d",
              "dynamic_batch_tensor_bias", "unnamed_and_duplicate_nodes", "tf2onnx_both_2d", "unet_dynamic_sizes",
              "strided_dilated"]


@pytest.mark.parametrize("name", GEN_SCRIPT)
def test_generated_script_runs(name: str, cases: dict[str, Case], tmp_path: Path) -> None:
    """The script `--gen-script` writes does what the command does: parse, patch, build."""
    case = cases[name]
    written = run("polygraphy", "run", case.path, *case.runners, "--deconv-fix",
                  *case.shape_args("--input-shapes"), "--gen-script", "run_model.py", cwd=tmp_path)
    assert written.returncode == 0, written.stdout + written.stderr
    text = (tmp_path / "run_model.py").read_text()
    assert "PatchDeconvolutions(" in text and "NoteEngineWithoutDevice(" in text
    done = run("python", "run_model.py", cwd=tmp_path)
    output = done.stdout + done.stderr
    if NO_DEVICE and name not in STRIDED_DILATED:
        # The script raises where the engine cannot be deserialized: Polygraphy's exception, after the note.
        assert done.returncode == 1 and ENGINE_NOTE in output and "Finished engine building" in output, output
        assert "Deconvolution fixed on TensorRT-RTX" in output
    elif name in STRIDED_DILATED:
        assert done.returncode == 1 and RTX_STRIDED_DILATED in output, output
    else:
        assert done.returncode == 0 and "PASSED" in output, output


class TestModes:
    """--deconv-check and --deconv-report alone behave on TensorRT-RTX as on TensorRT (mark all: test_polygraphy_run)."""

    def test_check_fails_where_a_patch_is_needed(self, cases: dict[str, Case], tmp_path: Path) -> None:
        done = run("polygraphy", "run", cases["shifted_output_shape_2d"].path, "--trt", "--onnxrt", "--deconv-check",
                   cwd=tmp_path)
        output = done.stdout + done.stderr
        assert done.returncode == 1 and "Traceback" not in output, output
        assert "[I] Deconvolution checked on TensorRT-RTX" in output and ": 1 needs-patch" in output
        (error,) = [line for line in output.splitlines() if line.startswith("[!]")]
        assert "1 deconvolution(s) compute another window than their ONNX node" in error
        assert "Note: run with --deconv-fix" in error and "Finished engine building" not in output

    def test_check_passes_a_correct_network_on_to_the_build(self, cases: dict[str, Case], tmp_path: Path) -> None:
        done = run("polygraphy", "run", cases["ok_pads_output_padding_1d"].path, "--trt", "--onnxrt", "--deconv-check",
                   cwd=tmp_path)
        engine_built(done, "ok_pads_output_padding_1d")
        assert "Deconvolution checked on TensorRT-RTX 1.7.1.116: 1 deconvolution unit(s): 1 ok" in done.stdout

    def test_report_alone_changes_nothing(self, cases: dict[str, Case], tmp_path: Path) -> None:
        done = run("polygraphy", "run", cases["tensor_bias_extension_2d"].path, "--trt", "--onnxrt", "--deconv-report",
                   "r.json", cwd=tmp_path)
        if NO_DEVICE:
            engine_built(done, "tensor_bias_extension_2d")  # the network as parsed, unpatched
        else:  # the unpatched engine's extension holds 0 where onnxruntime has the bias
            assert done.returncode == 1 and "FAILED" in done.stdout
        report = json.loads((tmp_path / "r.json").read_text())
        assert [r["network"]["action"] for r in report["findings"]] == ["needs-patch"]
        assert report["summary"]["library"] == "TensorRT-RTX 1.7.1.116"


def test_python_api_sample(tmp_path: Path) -> None:
    """samples/python_api.py, the loaders as Polygraphy's Python API chains them, on TensorRT-RTX."""
    sample = Path(__file__).resolve().parents[2] / "samples" / "python_api.py"
    done = run("python", sample, "--report", "r.json", cwd=tmp_path)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert "Deconvolution fixed on TensorRT-RTX" in output and (tmp_path / "r.json").is_file()
    if NO_DEVICE:
        assert done.returncode == 1 and ENGINE_NOTE in output and done.stdout.rstrip().splitlines()[-1].startswith("FAILED: ")
    else:
        assert done.returncode == 0 and done.stdout.rstrip().endswith("PASSED"), output
