"""The deployment paths that end in an engine file, as Polygraphy builds them (docs/deploying.md):

- `polygraphy run MODEL --trt --onnxrt --deconv-fix --save-engine OUT.engine`: the engine is built from the
  patched network (the patch right after the parse, before Polygraphy's own network edits) and saved;
- `polygraphy convert MODEL --trt-npps SCRIPT.py -o OUT.engine` with a script from `polygraphy-deconv npps`:
  the script runs right after the parse and the engine is built from that network.

Checked on the loader scripts Polygraphy writes (`run --gen-script`) or executes (`convert`, which has no
--gen-script: tests/plugin/convert_script.py prints what it executes), on the newest and the oldest
supported Polygraphy. No TensorRT is needed: the scripts are built, not run.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin.polygraphy_cli import PolygraphyInstall, current_install, save_model

HAS_TENSORRT = importlib.util.find_spec("tensorrt") is not None
NO_TENSORRT = "TensorRT is not installed here (NVIDIA's containers, or pip install tensorrt where NVIDIA's servers are reachable)"
SHIFTED = {"strides": [2, 2], "output_shape": [10, 12]}
_LOADER = re.compile(r"^(\w+) = (\w+)\((.*)\)$")


def loaders(script: str) -> dict[str, tuple[str, str]]:
    """The '# Loaders' section of a Polygraphy script: variable -> (constructor, first argument)."""
    section = script.split("# Loaders", 1)[1].split("# Runners", 1)[0]
    found: dict[str, tuple[str, str]] = {}
    for line in section.strip().splitlines():
        match = _LOADER.match(line.strip())
        assert match, line
        name, constructor, arguments = match.groups()
        found[name] = (constructor, arguments.split(",")[0].strip())
    return found


def chain(found: dict[str, tuple[str, str]], last: str) -> list[str]:
    """The constructors from the parse loader (NetworkFromOnnxPath, whatever gives it the model path) to `last`,
    following each loader's first argument back."""
    names = []
    while last in found:
        constructor, first = found[last]
        names.append(constructor)
        if constructor == "NetworkFromOnnxPath":
            break
        last = first
    return names[::-1]


def run_gen_script(install: PolygraphyInstall, tmp_path: Path, *flags: str) -> str:
    model = save_model(tmp_path, SHIFTED)
    done = install.run("run", str(model), "--trt", "--onnxrt", "--deconv-fix", "--save-engine", "out.engine", *flags,
                       "--gen-script=-", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def convert_script(install: PolygraphyInstall, tmp_path: Path, *flags: str) -> str:
    """What `polygraphy convert m.onnx --trt-npps patch_model.py -o out.engine FLAGS` executes (convert_script.py)."""
    model = save_model(tmp_path, SHIFTED)
    npps = subprocess.run(
        [sys.executable, "-m", "polygraphy_deconv.cli.main", "npps", str(model), "-o", "patch_model.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )
    assert npps.returncode == 0, npps.stderr
    probe = Path(__file__).with_name("convert_script.py")
    done = subprocess.run(
        [str(install.bin_dir / "python"), str(probe), str(model), "--trt-npps", "patch_model.py", "-o", "out.engine",
         *flags],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class TestRunSaveEngine:
    def test_basic(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        text = run_gen_script(polygraphy_install, tmp_path)
        compile(text, "gen.py", "exec")
        found = loaders(text)
        (save,) = [name for name, (constructor, _) in found.items() if constructor == "SaveBytes"]
        # The engine bytes saved are those built from the patched network, patched right after the parse.
        assert chain(found, save) == [
            "NetworkFromOnnxPath", "PatchDeconvolutions", "EngineBytesFromNetwork", "NoteEngineWithoutDevice", "SaveBytes",
        ]
        assert f"path='{tmp_path / 'out.engine'}'" in text or "path='out.engine'" in text
        # The runner compared with onnxruntime is TensorRT's, on the engine that was saved.
        (deserialize,) = [name for name, (constructor, first) in found.items() if first == save]
        assert f"TrtRunner({deserialize})" in text and "OnnxrtRunner(" in text

    def test_patch_before_polygraphy_network_edits(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        # With every tensor an output (the usual accuracy hunt), the patch must still see the network as parsed:
        # right after the parse loader, before ModifyNetworkOutputs and the precision/type/format settings.
        text = run_gen_script(polygraphy_install, tmp_path, "--trt-outputs", "mark", "all", "--onnx-outputs", "mark", "all")
        found = loaders(text)
        (save,) = [name for name, (constructor, _) in found.items() if constructor == "SaveBytes"]
        assert chain(found, save) == [
            "NetworkFromOnnxPath", "PatchDeconvolutions", "ModifyNetworkOutputs", "EngineBytesFromNetwork",
            "NoteEngineWithoutDevice", "SaveBytes",
        ]


class TestConvertWithNpps:
    def test_basic(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        text = convert_script(polygraphy_install, tmp_path)
        compile(text, "convert.py", "exec")
        found = loaders(text)
        engine = text.rstrip().splitlines()[-1].removeprefix("# engine bytes: ")
        assert chain(found, engine) == ["NetworkFromOnnxPath", "PostprocessNetwork", "EngineBytesFromNetwork"]
        (step,) = [line for line in text.splitlines() if "PostprocessNetwork(" in line and " = " in line]
        assert "func=InvokeFromScript(" in step and "name='postprocess'" in step and "patch_model.py" in step
        assert "PatchDeconvolutions" not in text  # convert loads no run plugin: the script is the whole patch

    def test_postprocess_before_polygraphy_network_edits(self, polygraphy_install: PolygraphyInstall, tmp_path: Path) -> None:
        text = convert_script(polygraphy_install, tmp_path, "--trt-outputs", "mark", "all")
        found = loaders(text)
        engine = text.rstrip().splitlines()[-1].removeprefix("# engine bytes: ")
        assert chain(found, engine) == [
            "NetworkFromOnnxPath", "PostprocessNetwork", "ModifyNetworkOutputs", "EngineBytesFromNetwork",
        ]


@pytest.mark.tensorrt
@pytest.mark.skipif(not HAS_TENSORRT, reason=NO_TENSORRT)
class TestRealTensorRT:
    """Each path builds an engine file on real TensorRT (never run here: no TensorRT; the Docker image runs them)."""

    def test_run_saves_the_engine(self, tmp_path: Path) -> None:
        model = save_model(tmp_path, SHIFTED)
        done = current_install().run("run", str(model), "--trt", "--onnxrt", "--deconv-fix", "--save-engine",
                                     "out.engine", cwd=tmp_path)
        assert done.returncode == 0 and "PASSED" in done.stdout, done.stdout + done.stderr
        assert (tmp_path / "out.engine").stat().st_size > 0

    def test_convert_with_npps_then_compare(self, tmp_path: Path) -> None:
        # The convert path's verification: the engine's outputs against onnxruntime's (deploy.sh does the same).
        convert_script(current_install(), tmp_path)  # writes patch_model.py
        model = tmp_path / "m.onnx"
        built = current_install().run("convert", str(model), "--trt-npps", "patch_model.py", "-o", "out.engine",
                                      cwd=tmp_path)
        assert built.returncode == 0, built.stdout + built.stderr
        assert "1 patched" in built.stdout + built.stderr
        reference = current_install().run("run", str(model), "--onnxrt", "--save-outputs", "ref.json", cwd=tmp_path)
        assert reference.returncode == 0, reference.stdout + reference.stderr
        compared = current_install().run("run", "out.engine", "--model-type", "engine", "--trt", "--load-outputs",
                                         "ref.json", cwd=tmp_path)
        assert compared.returncode == 0 and "PASSED" in compared.stdout, compared.stdout + compared.stderr


# samples/deploy.sh, with stand-ins for the commands that need TensorRT: each logs its arguments and creates the
# files it was asked to write; FAKE_FAIL=ARG makes the call that has ARG fail (after writing its files).
FAKE_TOOL = r"""#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$FAKE_LOG"
prev=""
for a in "$@"; do
  case "$prev" in --save-engine|-o|--save-inputs|--save-outputs) : > "$a";; esac
  case "$a" in --saveEngine=*) : > "${a#--saveEngine=}";; esac
  prev=$a
done
if [[ -n "${FAKE_FAIL:-}" && " $* " == *" $FAKE_FAIL "* ]]; then exit 1; fi
exit 0
"""
DEPLOY = Path(__file__).resolve().parents[2] / "samples" / "deploy.sh"


class TestDeploySh:
    @staticmethod
    def tools(tmp_path: Path, names: tuple[str, ...] = ("polygraphy", "polygraphy-deconv", "trtexec")) -> Path:
        folder = tmp_path / "bin"
        folder.mkdir(exist_ok=True)
        for name in names:
            (folder / name).write_text(FAKE_TOOL)
            (folder / name).chmod(0o755)
        return folder

    @staticmethod
    def deploy(tmp_path: Path, *args: str, tools: Path | None = None, tensorrt: bool = True,
               fail: str = "") -> tuple[subprocess.CompletedProcess[str], list[str]]:
        import os

        log = tmp_path / "calls.log"
        log.write_text("")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "INPUT_SHAPES", "TRTEXEC_ARGS")}
        env.update(FAKE_LOG=str(log), FAKE_FAIL=fail, PYTHON=sys.executable)
        # Only the stand-ins and the system's basics (bash, find, mv): no real polygraphy or trtexec.
        env["PATH"] = os.pathsep.join(([str(tools)] if tools else []) + ["/usr/bin", "/bin"])
        if tensorrt:
            fake = tmp_path / "fake-tensorrt"
            fake.mkdir(exist_ok=True)
            (fake / "tensorrt.py").write_text("Builder = object  # a stand-in: deploy.sh only checks that it imports\n")
            env["PYTHONPATH"] = str(fake)
        done = subprocess.run(["bash", str(DEPLOY), *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        return done, log.read_text().splitlines()

    @pytest.mark.parametrize(
        ("kind", "commands"),
        [
            ("run", ["polygraphy run"]),
            ("convert", ["polygraphy-deconv npps", "polygraphy convert", "polygraphy run", "polygraphy run"]),
            ("trtexec", ["polygraphy-deconv fix", "trtexec", "polygraphy run", "polygraphy run"]),
        ],
    )
    def test_basic(self, tmp_path: Path, kind: str, commands: list[str]) -> None:
        model = save_model(tmp_path, SHIFTED)
        done, calls = self.deploy(tmp_path, kind, str(model), "out", tools=self.tools(tmp_path))
        assert done.returncode == 0, done.stdout + done.stderr
        assert [c.split()[0] if c.startswith("trtexec") else " ".join(c.split()[:2]) for c in calls] == commands
        assert (tmp_path / "out" / "model.engine").exists()
        assert not (tmp_path / "out" / ".model.engine.partial").exists()
        assert f"deploy: {kind}: out/model.engine matches onnxruntime on {model}" in done.stdout
        if kind == "run":
            assert "--deconv-fix" in calls[0] and "--save-engine out/.model.engine.partial" in calls[0]
        if kind == "convert":
            assert f"npps {model} -o out/patch_model.py" in calls[0]
            assert f"convert {model} --trt-npps out/patch_model.py -o out/.model.engine.partial" in calls[1]
        if kind == "trtexec":
            assert f"fix {model} -o out/fixed.onnx --verify" in calls[0]
            assert "--onnx=out/fixed.onnx --saveEngine=out/.model.engine.partial" in calls[1]
        if kind != "run":
            # The reference is onnxruntime on the original model; the engine runs on the same saved inputs.
            assert calls[2].startswith(f"polygraphy run {model} --onnxrt") and "--save-inputs out/inputs.json" in calls[2]
            assert calls[3].startswith("polygraphy run out/.model.engine.partial --model-type engine --trt")
            assert "--load-inputs out/inputs.json --load-outputs out/outputs.json" in calls[3]

    def test_all(self, tmp_path: Path) -> None:
        model = save_model(tmp_path, SHIFTED)
        done, calls = self.deploy(tmp_path, "all", str(model), "out", tools=self.tools(tmp_path))
        assert done.returncode == 0, done.stdout + done.stderr
        assert all((tmp_path / "out" / kind / "model.engine").exists() for kind in ("run", "convert", "trtexec"))
        assert len(calls) == 9

    @pytest.mark.parametrize(("kind", "fail"), [("run", "--deconv-fix"), ("convert", "--load-outputs"),
                                                ("trtexec", "--load-outputs"), ("trtexec", "--verify")])
    def test_negative_failed_comparison_leaves_no_engine(self, tmp_path: Path, kind: str, fail: str) -> None:
        model = save_model(tmp_path, SHIFTED)
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "model.engine").write_text("an earlier engine")
        done, _ = self.deploy(tmp_path, kind, str(model), "out", tools=self.tools(tmp_path), fail=fail)
        assert done.returncode == 1
        assert sorted(p.name for p in (tmp_path / "out").iterdir() if "engine" in p.name) == []

    @pytest.mark.parametrize("kind", ["run", "convert", "trtexec", "all"])
    def test_negative_without_tensorrt_writes_nothing(self, tmp_path: Path, kind: str) -> None:
        model = save_model(tmp_path, SHIFTED)
        done, calls = self.deploy(tmp_path, kind, str(model), "out", tools=self.tools(tmp_path), tensorrt=False)
        assert done.returncode == 3 and calls == []
        assert "TensorRT's Python package (TensorRT-RTX's under POLYGRAPHY_USE_TENSORRT_RTX=1) is not installed" in done.stderr
        assert len(done.stderr.splitlines()) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "calls.log", "m.onnx"]  # the test's own files

    @pytest.mark.parametrize("kind", ["trtexec", "all"])
    def test_negative_without_trtexec_writes_nothing(self, tmp_path: Path, kind: str) -> None:
        model = save_model(tmp_path, SHIFTED)
        tools = self.tools(tmp_path, ("polygraphy", "polygraphy-deconv"))
        done, calls = self.deploy(tmp_path, kind, str(model), "out", tools=tools)
        assert done.returncode == 3 and calls == [] and "trtexec is not on PATH" in done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "calls.log", "fake-tensorrt", "m.onnx"]

    @pytest.mark.parametrize("args", [(), ("run",), ("build", "m.onnx"), ("run", "m.onnx", "out", "extra")])
    def test_negative_usage(self, tmp_path: Path, args: tuple[str, ...]) -> None:
        done, calls = self.deploy(tmp_path, *args, tools=self.tools(tmp_path))
        assert done.returncode == 2 and "usage:" in done.stderr and calls == []

    def test_negative_missing_model(self, tmp_path: Path) -> None:
        done, calls = self.deploy(tmp_path, "run", "nope.onnx", "out", tools=self.tools(tmp_path))
        assert done.returncode == 1 and "no such model file" in done.stderr and calls == []
        assert not (tmp_path / "out").exists()


class TestDockerfileDeployStage:
    """The Dockerfile's deploy stage runs files the image copies from this repository (no Docker here: read only)."""

    def test_basic(self) -> None:
        root = Path(__file__).resolve().parents[2]
        text = (root / "Dockerfile").read_text()
        stages = re.findall(r"^FROM (\S+)(?: AS (\S+))?$", text, flags=re.MULTILINE)
        assert stages[-1] == ("polygraphy-deconv", "")  # the default target stays the plugin image
        assert ("polygraphy-deconv", "deploy") in stages
        deploy = text.split("AS deploy", 1)[1]
        paths = set(re.findall(r"/opt/polygraphy-deconv/([\w./-]+)", deploy))
        assert "samples/deploy.sh" in paths
        for path in paths:
            assert (root / path).is_file(), path
        assert (root / "samples" / "deploy.sh").stat().st_mode & 0o111  # executable as the entrypoint
