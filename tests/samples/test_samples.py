"""The committed sample models: reproducible from samples/build_samples.py, each with the verdict its
name claims, each running on onnxruntime."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import onnx
import pytest
from onnx import helper

from polygraphy_deconv.core import ConvTransposeAttributes, NodeFinding, Verdict, analyse_node

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
MODELS = SAMPLES / "models"
BUILD_SCRIPT = SAMPLES / "build_samples.py"
COMMITTED = sorted(MODELS.glob("*.onnx"))

NAME_PATTERN = re.compile(r"^(ok|shifted|wrong_shape|parse_error|tensor_bias)_.+_([123])d\.onnx$")
# The two models whose names do not carry their verdicts: every ConvTranspose, by node name.
COMPOSITE_VERDICTS = {
    "decoder_block.onnx": {"up": Verdict.OK},
    "mixed.onnx": {
        "up_pads": Verdict.OK,
        "up_output_shape_odd": Verdict.SHIFTED,
        "up_output_shape_past_end": Verdict.PARSE_ERROR,
        "up_same_upper_output_shape": Verdict.WRONG_SHAPE,
        "up_bias_from_x": Verdict.TENSOR_BIAS,
    },
}


def claimed_verdicts(path: Path) -> dict[str, Verdict]:
    if path.name in COMPOSITE_VERDICTS:
        return COMPOSITE_VERDICTS[path.name]
    match = NAME_PATTERN.match(path.name)
    assert match, f"{path.name} does not say its class and rank (<class>_<what>_<rank>d.onnx)"
    return {"deconv": Verdict(match.group(1).replace("_", "-"))}


def findings(model: onnx.ModelProto) -> dict[str, NodeFinding]:
    """Every ConvTranspose's finding: attributes read with onnx, input sizes from ONNX shape inference."""
    inferred = onnx.shape_inference.infer_shapes(model)
    sizes = {
        value.name: [d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim][2:]
        for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]
    }
    weights = {init.name: list(init.dims) for init in model.graph.initializer}
    result = {}
    for node in model.graph.node:
        if node.op_type == "ConvTranspose":
            attrs = ConvTransposeAttributes.from_onnx(
                node.name, {a.name: helper.get_attribute_value(a) for a in node.attribute}, weights[node.input[1]]
            )
            bias_is_tensor = len(node.input) > 2 and bool(node.input[2]) and node.input[2] not in weights
            result[node.name] = analyse_node(attrs, sizes[node.input[0]], bias_is_tensor=bias_is_tensor)
    return result


def run_onnxruntime(model: onnx.ModelProto) -> list[np.ndarray]:
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    feeds = {
        value.name: rng.standard_normal([d.dim_value for d in value.type.tensor_type.shape.dim]).astype(np.float32)
        for value in model.graph.input
    }
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_samples", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_samples"] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


class TestBuildSamples:
    def test_basic(self, tmp_path: Path) -> None:
        subprocess.run([sys.executable, str(BUILD_SCRIPT), "--quiet", str(tmp_path)], check=True)
        rebuilt = sorted(tmp_path.glob("*.onnx"))
        assert [p.name for p in rebuilt] == [p.name for p in COMMITTED]
        for path in rebuilt:
            assert path.read_bytes() == (MODELS / path.name).read_bytes(), f"{path.name} differs from the committed file"

    def test_negative_false_claim_fails_loudly(self, tmp_path: Path) -> None:
        build_samples = load_build_script()
        sample = build_samples.samples()[0]
        false_claim = build_samples.Sample(
            sample.name, {node: Verdict.SHIFTED for node in sample.verdicts}, sample.shows, sample.build
        )
        assert sample.verdicts != false_claim.verdicts
        with pytest.raises(build_samples.SampleMismatch, match="claims shifted"):
            build_samples.check_sample(false_claim, build_samples.declare_output_shapes(sample.build()))

    def test_negative_mismatch_exits_1_and_writes_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        build_samples = load_build_script()
        original = build_samples.samples()

        def with_false_claim() -> list:
            return [
                build_samples.Sample(s.name, {n: Verdict.OK for n in s.verdicts}, s.shows, s.build)
                if s.name == "mixed" else s
                for s in original
            ]

        monkeypatch.setattr(build_samples, "samples", with_false_claim)
        outdir = tmp_path / "out"
        assert build_samples.main([str(outdir)]) == 1
        assert "mixed: node 'up_output_shape_odd' is shifted" in capsys.readouterr().err
        assert not outdir.exists()


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
class TestSampleVerdict:
    def test_basic(self, path: Path) -> None:
        got = {node: finding.verdict for node, finding in findings(onnx.load(str(path))).items()}
        assert got == claimed_verdicts(path)


class TestSampleCoverage:
    def test_basic(self) -> None:
        covered = set()
        for path in COMMITTED:
            match = NAME_PATTERN.match(path.name)
            if match:
                covered.add((match.group(1), match.group(2)))
        wanted = {(kind, rank) for kind in ("ok", "shifted", "wrong_shape", "parse_error", "tensor_bias") for rank in "123"}
        assert wanted <= covered, f"missing: {sorted(wanted - covered)}"
        assert set(COMPOSITE_VERDICTS) <= {p.name for p in COMMITTED}

    def test_mixed_has_every_class(self) -> None:
        assert set(COMPOSITE_VERDICTS["mixed.onnx"].values()) == {
            Verdict.OK, Verdict.SHIFTED, Verdict.WRONG_SHAPE, Verdict.PARSE_ERROR, Verdict.TENSOR_BIAS
        }


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
class TestSampleOnnxruntime:
    def test_basic(self, path: Path) -> None:
        model = onnx.load(str(path))
        outputs = run_onnxruntime(model)
        assert len(outputs) == len(model.graph.output)
        for value, output in zip(model.graph.output, outputs):
            declared = [d.dim_value for d in value.type.tensor_type.shape.dim]
            assert list(output.shape) == declared, f"{value.name}: runs as {list(output.shape)}, declared {declared}"
            assert np.all(np.isfinite(output))


SINGLE_NODE = [p for p in COMMITTED if p.name not in COMPOSITE_VERDICTS]


@pytest.mark.parametrize("path", SINGLE_NODE, ids=[p.stem for p in SINGLE_NODE])
class TestSingleNodeSampleOutput:
    def test_basic(self, path: Path) -> None:
        # The output a single-node sample declares is the size of the core's reference window (so a
        # sample cannot pass by declaring whatever onnxruntime happened to compute).
        model = onnx.load(str(path))
        (finding,) = findings(model).values()
        (output,) = model.graph.output
        assert tuple(d.dim_value for d in output.type.tensor_type.shape.dim[2:]) == finding.output_sizes
