"""Issue 10: safety under hostile input. Each class is one item of the issue; every test failed before its fix.

Commands run in process through `main` (one error line on stderr, the exit code) unless the test needs a
real process (signals: tests/hardening/test_signals.py).
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest

from polygraphy_deconv.cli.main import main
from tests.models import conv_transpose_model, random_feeds, run_onnxruntime

PREFIX = "polygraphy-deconv: error: "
SHIFTED: dict[str, object] = {"input_shape": [1, 2, 5, 6], "weight_shape": [2, 3, 3, 3], "strides": [2, 2], "output_shape": [10, 12]}


def run_main(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def assert_one_error_line(err: str, *parts: str) -> None:
    assert err.startswith(PREFIX), err
    assert len(err.splitlines()) == 1, err
    for part in parts:
        assert part in err, err


def save_external(model: onnx.ModelProto, path: Path, location: str = "weights.bin") -> Path:
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location=location, size_threshold=0)
    return path


def shifted(seed: int = 0) -> onnx.ModelProto:
    return conv_transpose_model(**SHIFTED, seed=seed)  # type: ignore[arg-type]


def outputs(model: onnx.ModelProto | str) -> list[np.ndarray]:
    loaded = onnx.load(model) if isinstance(model, str) else model
    return run_onnxruntime(loaded, random_feeds(loaded, seed=5))


def files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in sorted(os.listdir(folder)) if (folder / name).is_file()}


@contextlib.contextmanager
def umask(value: int) -> Iterator[None]:
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


# ---------------------------------------------------------------------------------------------------
# 1. fix never writes over a file it did not create: the output's data file is named after the output


class TestOutputDataFile:
    def test_two_models_with_one_data_name_into_one_folder(self, tmp_path: Path) -> None:
        for name, seed in (("a", 0), ("b", 1)):
            (tmp_path / name).mkdir()
            save_external(shifted(seed), tmp_path / name / "m.onnx")
        (tmp_path / "out").mkdir()
        code_a, out_a, _ = run_main("fix", str(tmp_path / "a" / "m.onnx"), "-o", str(tmp_path / "out" / "a.onnx"))
        code_b, out_b, _ = run_main("fix", str(tmp_path / "b" / "m.onnx"), "-o", str(tmp_path / "out" / "b.onnx"))
        assert (code_a, code_b) == (0, 0)
        assert sorted(os.listdir(tmp_path / "out")) == ["a.onnx", "a.onnx.data", "b.onnx", "b.onnx.data"]
        assert f"external data: {tmp_path / 'out' / 'a.onnx.data'}" in out_a
        assert f"external data: {tmp_path / 'out' / 'b.onnx.data'}" in out_b
        for name, seed in (("a", 0), ("b", 1)):
            for fixed, original in zip(outputs(str(tmp_path / "out" / f"{name}.onnx")), outputs(shifted(seed))):
                np.testing.assert_allclose(fixed, original, rtol=1e-5, atol=1e-5)

    def test_negative_unrelated_data_file_is_not_replaced(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        model = save_external(shifted(), tmp_path / "in" / "m.onnx")
        (tmp_path / "out" / "weights.bin").write_bytes(b"someone else's weights")
        (tmp_path / "out" / "fixed.onnx.data").write_bytes(b"not ours")
        before = files(tmp_path / "out")
        code, _, err = run_main("fix", str(model), "-o", str(tmp_path / "out" / "fixed.onnx"))
        assert code == 1
        assert_one_error_line(err, f"{tmp_path / 'out' / 'fixed.onnx.data'} already exists")
        assert files(tmp_path / "out") == before

    def test_fixing_again_over_its_own_output(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        model = save_external(shifted(), tmp_path / "in" / "m.onnx")
        target = str(tmp_path / "out" / "fixed.onnx")
        assert run_main("fix", str(model), "-o", target)[0] == 0
        first = files(tmp_path / "out")
        assert run_main("fix", str(model), "-o", target)[0] == 0  # its own earlier output: replaced
        assert files(tmp_path / "out") == first

    def test_several_data_files_become_one(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        onnx.save(shifted(), str(tmp_path / "in" / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=0)
        assert len(os.listdir(tmp_path / "in")) == 3  # the model, W and B
        code, _, err = run_main("fix", str(tmp_path / "in" / "m.onnx"), "-o", str(tmp_path / "out" / "f.onnx"))
        assert code == 0, err
        assert sorted(os.listdir(tmp_path / "out")) == ["f.onnx", "f.onnx.data"]
        for fixed, original in zip(outputs(str(tmp_path / "out" / "f.onnx")), outputs(shifted())):
            np.testing.assert_allclose(fixed, original, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------------------------------
# 2. no output path may name any file the model references (absolute, ../, through links)


def model_referencing(folder: Path, location: str) -> Path:
    """SHIFTED in folder/model/m.onnx with every tensor at `location` (written where it points)."""
    (folder / "model").mkdir()
    path = save_external(shifted(), folder / "model" / "m.onnx")
    model = onnx.load(str(path), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = location
    onnx.save(model, str(path))
    target = Path(location) if os.path.isabs(location) else folder / "model" / location
    os.replace(folder / "model" / "weights.bin", target)
    return path


class TestOutputNeverOverAReferencedFile:
    @pytest.mark.parametrize("how", ["../", "absolute", "symlink to it"])
    @pytest.mark.parametrize("command", ["inspect", "check"])
    def test_negative_json_over_the_weights(self, tmp_path: Path, how: str, command: str) -> None:
        location = "../w.bin" if how != "absolute" else str(tmp_path / "w.bin")
        model = model_referencing(tmp_path, location)
        before = (tmp_path / "w.bin").read_bytes()
        target = tmp_path / "w.bin"
        if how == "symlink to it":
            os.symlink(tmp_path / "w.bin", tmp_path / "link.json")
            target = tmp_path / "link.json"
        extra = ["--no-tensorrt"] if command == "check" else []
        code, _, err = run_main(command, str(model), *extra, "--json", str(target))
        assert code == 1
        # check refuses weights outside the model's folder anyway; inspect reads none, so its guard must hold
        assert_one_error_line(err, "refusing to overwrite the model's external data file" if command == "inspect" else "")
        assert (tmp_path / "w.bin").read_bytes() == before

    def test_analysis_lists_every_referenced_file(self, tmp_path: Path) -> None:
        from polygraphy_deconv.onnx_model.analysis import analyse_model

        model = model_referencing(tmp_path, "../w.bin")
        assert os.path.realpath(tmp_path / "w.bin") in {os.path.realpath(p) for p in analyse_model(str(model)).input_files}


# ---------------------------------------------------------------------------------------------------
# 3. outputs keep the input's mode


class TestModes:
    def test_private_model_stays_private(self, tmp_path: Path) -> None:
        (tmp_path / "in").mkdir()
        (tmp_path / "out").mkdir()
        model = save_external(shifted(), tmp_path / "in" / "m.onnx")
        os.chmod(model, 0o600)
        os.chmod(tmp_path / "in" / "weights.bin", 0o600)
        with umask(0o022):
            assert run_main("fix", str(model), "-o", str(tmp_path / "out" / "f.onnx"))[0] == 0
            assert run_main("inspect", str(model), "--json", str(tmp_path / "out" / "f.json"))[0] == 0
        for name in ("f.onnx", "f.onnx.data", "f.json"):
            assert stat.S_IMODE(os.stat(tmp_path / "out" / name).st_mode) == 0o600, name

    def test_umask_still_applies(self, tmp_path: Path) -> None:
        model = tmp_path / "m.onnx"
        onnx.save(shifted(), str(model))
        os.chmod(model, 0o664)
        with umask(0o027):
            assert run_main("fix", str(model), "-o", str(tmp_path / "f.onnx"))[0] == 0
        assert stat.S_IMODE(os.stat(tmp_path / "f.onnx").st_mode) == 0o640

    def test_replaced_output_is_never_more_open_than_the_input(self, tmp_path: Path) -> None:
        model = tmp_path / "m.onnx"
        onnx.save(shifted(), str(model))
        os.chmod(model, 0o600)
        (tmp_path / "f.onnx").write_bytes(b"old")
        os.chmod(tmp_path / "f.onnx", 0o644)
        assert run_main("fix", str(model), "-o", str(tmp_path / "f.onnx"))[0] == 0
        assert stat.S_IMODE(os.stat(tmp_path / "f.onnx").st_mode) == 0o600


# ---------------------------------------------------------------------------------------------------
# 4. text formats: written as the extension names, readable again


class TestTextFormats:
    @pytest.mark.parametrize("extension", [".json", ".textproto", ".onnxtxt"])
    def test_fixed_text_model_reads_back(self, tmp_path: Path, extension: str) -> None:
        from polygraphy_deconv.onnx_model.analysis import analyse_model

        source = tmp_path / f"m{extension}"
        onnx.save(shifted(), str(source))  # onnx.save picks the text format by extension
        code, out, err = run_main("fix", str(source), "-o", str(tmp_path / f"f{extension}"), "--verify")
        assert code == 0, err
        assert "PASSED" in out
        fixed = onnx.load(str(tmp_path / f"f{extension}"))  # parses as the format the extension names
        assert [n.finding.verdict.value for n in analyse_model(str(tmp_path / f"f{extension}")).nodes] == ["ok"]
        for a, b in zip(outputs(fixed), outputs(shifted())):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)

    def test_binary_model_to_text_output(self, tmp_path: Path) -> None:
        onnx.save(conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), str(tmp_path / "ok.onnx"))
        assert run_main("fix", str(tmp_path / "ok.onnx"), "-o", str(tmp_path / "ok.json"))[0] == 0  # nothing to rewrite
        assert onnx.load(str(tmp_path / "ok.json")).graph.node[0].op_type == "ConvTranspose"

    def test_check_reads_a_text_model(self, tmp_path: Path) -> None:
        onnx.save(shifted(), str(tmp_path / "m.json"))
        code, out, err = run_main("check", str(tmp_path / "m.json"), "--no-tensorrt")
        assert (code, err) == (0, ""), out
        assert "check: PASSED" in out


# ---------------------------------------------------------------------------------------------------
# 5. weights of the wrong byte size


def with_weight(edit: str) -> onnx.ModelProto:
    model = shifted()
    weight = model.graph.initializer[0]  # W: [2, 3, 3, 3] float, 216 bytes
    if edit == "raw 10 bytes":
        weight.raw_data = b"\0" * 10
    elif edit == "float_data 5 values":
        weight.ClearField("raw_data")
        weight.float_data.extend([1.0] * 5)
    elif edit == "no data":
        weight.ClearField("raw_data")
    return model


class TestWeightSizes:
    @pytest.mark.parametrize(
        "edit, message",
        [
            ("raw 10 bytes", "raw_data is 10 bytes"),
            ("float_data 5 values", "holds 5 in float_data"),
            ("no data", "holds 0 in float_data"),
        ],
    )
    @pytest.mark.parametrize("command", ["fix", "check"])
    def test_negative_inline(self, tmp_path: Path, edit: str, message: str, command: str) -> None:
        onnx.save(with_weight(edit), str(tmp_path / "m.onnx"))
        args = ["-o", str(tmp_path / "f.onnx")] if command == "fix" else ["--no-tensorrt"]
        code, _, err = run_main(command, str(tmp_path / "m.onnx"), *args)
        assert code == 1
        assert_one_error_line(err, "tensor 'W'", "dims [2, 3, 3, 3]", message)
        assert sorted(os.listdir(tmp_path)) == ["m.onnx"]

    @pytest.mark.parametrize("length, message", [("8", "external data length is 8 bytes"), (None, "no length given")])
    def test_negative_external(self, tmp_path: Path, length: str | None, message: str) -> None:
        path = save_external(shifted(), tmp_path / "m.onnx")
        model = onnx.load(str(path), load_external_data=False)
        weight = model.graph.initializer[0]
        entries = [(e.key, e.value) for e in weight.external_data if e.key != "length"]
        del weight.external_data[:]
        for key, value in entries + ([("length", length)] if length else []):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
        onnx.save(model, str(path))
        (tmp_path / "out").mkdir()
        code, _, err = run_main("fix", str(path), "-o", str(tmp_path / "out" / "f.onnx"))
        assert code == 1
        assert_one_error_line(err, "tensor 'W'", message)
        assert os.listdir(tmp_path / "out") == []


# ---------------------------------------------------------------------------------------------------
# 7. bounded memory: the 2 GiB protobuf limit, and a budget for the verification


class TestMemory:
    @pytest.mark.parametrize("command", ["inspect", "fix", "check"])
    def test_negative_model_file_over_the_protobuf_limit(self, tmp_path: Path, command: str) -> None:
        path = tmp_path / "huge.onnx"
        with open(path, "wb") as handle:  # sparse: nothing on disk; a reader would still get 2 GiB of zeros
            handle.truncate((2 << 30) + 1)
        args = {"inspect": [], "fix": ["-o", str(tmp_path / "f.onnx")], "check": ["--no-tensorrt"]}[command]
        code, _, err = run_main(command, str(path), *args)
        assert code == 1
        assert_one_error_line(err, "is 2.0 GiB, over the 2 GiB limit of a protobuf message")
        assert os.listdir(tmp_path) == ["huge.onnx"]

    @pytest.mark.parametrize("command", ["fix", "check"])
    def test_negative_verification_over_the_budget(self, tmp_path: Path, command: str) -> None:
        model = conv_transpose_model([1, 1, 20000, 20000], [1, 1, 3, 3], strides=[2, 2], output_shape=[40000, 40000])
        onnx.save(model, str(tmp_path / "m.onnx"))
        args = ["-o", str(tmp_path / "f.onnx"), "--verify"] if command == "fix" else ["--no-tensorrt"]
        code, _, err = run_main(command, str(tmp_path / "m.onnx"), *args)
        assert code == 1
        # x: 1.5 GiB once, y: 6 GiB for each of the 10 arrays the verification holds per output
        assert_one_error_line(err, "would need about 61.1 GiB", "y [1, 1, 40000, 40000]: 6.0 GiB", "over the limit of 2.0 GiB")
        assert os.listdir(tmp_path) == ["m.onnx"]  # refused before anything is written

    def test_limit_flag(self, tmp_path: Path) -> None:
        onnx.save(shifted(), str(tmp_path / "m.onnx"))
        code, _, err = run_main("fix", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "f.onnx"), "--verify", "--verify-memory-limit", "1K")
        assert code == 1
        assert_one_error_line(err, "over the limit of 1.0 KiB", "raise --verify-memory-limit")
        code, out, err = run_main("fix", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "f.onnx"), "--verify", "--verify-memory-limit", "1M")
        assert (code, err) == (0, "")
        assert "PASSED" in out


# ---------------------------------------------------------------------------------------------------
# 9. check verifies without copying the external data


class TestCheckDoesNotCopyData:
    def test_temporary_folder_holds_no_data(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        from polygraphy_deconv.onnx_model import verify

        path = save_external(shifted(), tmp_path / "m.onnx")
        with open(tmp_path / "weights.bin", "ab") as data:  # 16 MiB of real bytes after the weights
            data.write(b"\1" * (16 << 20))
        seen: dict[str, int] = {}
        real_verify = verify.verify_fix

        def measuring(original: str, fixed: str, *args: object, **kwargs: object) -> verify.Verification:
            folder = os.path.dirname(fixed)
            seen.update({name: os.stat(os.path.join(folder, name)).st_blocks * 512 for name in os.listdir(folder)})
            return real_verify(original, fixed, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(verify, "verify_fix", measuring)
        code, out, err = run_main("check", str(path), "--no-tensorrt")
        assert (code, err) == (0, ""), out
        assert "check: PASSED" in out
        assert seen and sum(seen.values()) < (1 << 20), seen  # the fixed model only, not 16 MiB of data


# ---------------------------------------------------------------------------------------------------
# 11. user errors that were reported as "a bug in polygraphy-deconv"


def attribute_edit(kind: str) -> onnx.ModelProto:
    model = shifted()
    attribute = model.graph.node[0].attribute.add()
    if kind == "auto_pad not UTF-8":
        attribute.name, attribute.type, attribute.s = "auto_pad", onnx.AttributeProto.STRING, b"\xff\xfe"
    else:
        attribute.name, attribute.type, attribute.ref_attr_name = "pads", onnx.AttributeProto.INTS, "p"
    return model


class TestRealMessages:
    @pytest.mark.parametrize(
        "kind, message",
        [("auto_pad not UTF-8", "attribute auto_pad is not UTF-8 text (b'\\xff\\xfe')"), ("ref_attr_name", "refers to a function attribute ('p', ref_attr_name)")],
    )
    @pytest.mark.parametrize("command", ["inspect", "fix"])
    def test_negative_attributes(self, tmp_path: Path, kind: str, message: str, command: str) -> None:
        onnx.save(attribute_edit(kind), str(tmp_path / "m.onnx"))
        args = ["-o", str(tmp_path / "f.onnx")] if command == "fix" else []
        code, _, err = run_main(command, str(tmp_path / "m.onnx"), *args)
        assert code == 1
        assert_one_error_line(err, message)
        assert "a bug" not in err

    def test_negative_padding_beyond_int64(self, tmp_path: Path) -> None:
        model = conv_transpose_model([1, 2, 5, 6], [2, 3, 3, 3], strides=[(1 << 63) - 1, 2], output_shape=[10, 12])
        onnx.save(model, str(tmp_path / "m.onnx"))
        code, _, err = run_main("fix", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "f.onnx"))
        assert code == 1
        assert_one_error_line(err, "cannot rewrite 'deconv': its explicit padding", "does not fit ONNX's int64")
        assert os.listdir(tmp_path) == ["m.onnx"]

    def test_negative_input_shape_beyond_int64(self, tmp_path: Path) -> None:
        onnx.save(conv_transpose_model(["N", 2, "H", "W"], [2, 3, 3, 3], strides=[2, 2]), str(tmp_path / "m.onnx"))
        code, _, err = run_main("inspect", str(tmp_path / "m.onnx"), "--input-shapes", f"x:[1,2,{1 << 64},6]")
        assert code == 1
        assert_one_error_line(err, f"dimension {1 << 64} is beyond int64")

    def test_negative_nul_byte_in_a_data_location(self, tmp_path: Path) -> None:
        path = save_external(shifted(), tmp_path / "m.onnx")
        model = onnx.load(str(path), load_external_data=False)
        for entry in model.graph.initializer[0].external_data:
            if entry.key == "location":
                entry.value = "w\0.bin"
        onnx.save(model, str(path))
        (tmp_path / "out").mkdir()
        code, _, err = run_main("fix", str(path), "-o", str(tmp_path / "out" / "f.onnx"))
        assert code == 1
        assert_one_error_line(err, "location 'w\\x00.bin' with a NUL byte")
        code, _, err = run_main("inspect", str(path), "--json", str(tmp_path / "out" / "f.json"))
        assert (code, err) == (0, "")


# ---------------------------------------------------------------------------------------------------
# 12. --seed out of numpy's range is a usage error, before anything is written


class TestSeed:
    @pytest.mark.parametrize("seed", ["-1", str(1 << 32)])
    @pytest.mark.parametrize("command", ["fix", "check"])
    def test_negative_out_of_range(self, tmp_path: Path, seed: str, command: str, capsys: pytest.CaptureFixture[str]) -> None:
        onnx.save(shifted(), str(tmp_path / "m.onnx"))
        args = ["-o", str(tmp_path / "f.onnx"), "--verify"] if command == "fix" else ["--no-tensorrt"]
        with pytest.raises(SystemExit) as exit_info:
            main([command, str(tmp_path / "m.onnx"), *args, "--seed", seed])
        assert exit_info.value.code == 2
        assert f"argument --seed: {seed} is out of range: a seed is 0 to 4294967295" in capsys.readouterr().err
        assert os.listdir(tmp_path) == ["m.onnx"]

    def test_largest_seed_runs(self, tmp_path: Path) -> None:
        onnx.save(shifted(), str(tmp_path / "m.onnx"))
        code, out, err = run_main("fix", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "f.onnx"), "--verify", "--seed", str((1 << 32) - 1))
        assert (code, err) == (0, "")
        assert "seed 4294967295): PASSED" in out


# ---------------------------------------------------------------------------------------------------
# 13. messages that misled


class TestMessages:
    def test_negative_no_default_opset(self, tmp_path: Path) -> None:
        model = shifted()
        del model.opset_import[:]
        model.opset_import.add(domain="com.example", version=1)
        onnx.save(model, str(tmp_path / "m.onnx"))
        code, _, err = run_main("fix", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "f.onnx"))
        assert code == 1
        assert_one_error_line(err, "imports no opset of the default ONNX domain")
        assert "opset 1" not in err

    def test_negative_weight_dim_below_zero(self, tmp_path: Path) -> None:
        model = shifted()
        model.graph.initializer[0].dims[2] = -3
        onnx.save(model, str(tmp_path / "m.onnx"))
        code, _, err = run_main("inspect", str(tmp_path / "m.onnx"))
        assert code == 1
        assert_one_error_line(err, "weight W ('W') has shape [2, 3, -3, 3]: a size below 0")
        assert "kernel_shape" not in err

    def test_check_never_blames_its_own_temporary_path(self, tmp_path: Path) -> None:
        # W keeps its data in the model file itself (location 'm.onnx', at the bytes of an inline copy): the
        # temporary fixed model check picked once had the same name and check said "choose another name".
        from onnx import numpy_helper

        model = shifted()
        weight = model.graph.initializer[0]
        values = numpy_helper.to_array(weight)
        model.graph.initializer.insert(0, numpy_helper.from_array(values, "W_copy"))  # before W: its place is fixed
        weight.ClearField("raw_data")
        weight.data_location = onnx.TensorProto.EXTERNAL
        for key, value in (("location", "m.onnx"), ("offset", "0"), ("length", str(values.nbytes))):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
        offset = model.SerializeToString().index(values.tobytes())
        weight.external_data[1].value = str(offset)
        assert model.SerializeToString().index(values.tobytes()) == offset
        onnx.save(model, str(tmp_path / "m.onnx"))
        code, out, err = run_main("check", str(tmp_path / "m.onnx"), "--no-tensorrt")
        assert (code, err) == (0, ""), err
        assert "check: PASSED" in out

    @pytest.mark.parametrize("command", ["fix", "inspect"])
    def test_negative_empty_output_path(self, tmp_path: Path, command: str) -> None:
        (tmp_path / "in").mkdir()
        onnx.save(shifted(), str(tmp_path / "in" / "m.onnx"))
        option = "-o" if command == "fix" else "--json"
        cwd = os.getcwd()
        os.chdir(tmp_path / "in")
        try:
            code, _, err = run_main(command, "m.onnx", option, "")
        finally:
            os.chdir(cwd)
        assert code == 1
        assert_one_error_line(err, "is empty; give a file name")
        assert sorted(os.listdir(tmp_path)) == ["in"] and os.listdir(tmp_path / "in") == ["m.onnx"]


# ---------------------------------------------------------------------------------------------------
# 14. invalid graphs: inspect says so, fix refuses


def invalid_graph(kind: str) -> onnx.ModelProto:
    from onnx import helper

    model = shifted()
    graph = model.graph
    if kind == "cycle":
        graph.node.append(helper.make_node("Relu", ["b"], ["a"], name="first"))
        graph.node.append(helper.make_node("Relu", ["a"], ["b"], name="second"))
    elif kind == "tensor defined twice":
        graph.node.append(helper.make_node("Relu", ["x"], ["y"], name="again"))
    else:
        graph.node.append(helper.make_node("Add", ["y", "nowhere"], ["z"], name="dangling"))
    return model


class TestInvalidGraphs:
    @pytest.mark.parametrize(
        "kind, message",
        [
            ("cycle", "node 'first' reads 'b', defined only by a later node (a cycle, or nodes out of order)"),
            ("tensor defined twice", "tensor 'y' is defined twice (again by node 'again')"),
            ("dangling input", "node 'dangling' reads 'nowhere', which nothing defines"),
        ],
    )
    def test_negative(self, tmp_path: Path, kind: str, message: str) -> None:
        onnx.save(invalid_graph(kind), str(tmp_path / "m.onnx"))
        code, out, err = run_main("inspect", str(tmp_path / "m.onnx"))
        assert (code, err) == (0, "")
        text = " ".join(out.split())  # the note may wrap
        assert "the graph is not valid ONNX" in text and message in text
        code, _, err = run_main("fix", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "f.onnx"))
        assert code == 1
        assert_one_error_line(err, "the graph is not valid ONNX", message)
        assert os.listdir(tmp_path) == ["m.onnx"]

    def test_many_problems_are_counted(self) -> None:
        from onnx import helper

        from polygraphy_deconv.onnx_model.graph import graph_note

        model = shifted()
        for index in range(10):
            model.graph.node.append(helper.make_node("Relu", [f"missing{index}"], [f"r{index}"], name=f"n{index}"))
        note = graph_note(model.graph)
        assert note.count("which nothing defines") == 3 and "(and 7 more)" in note

    def test_inspect_leaves_very_large_graphs_to_fix(self) -> None:
        from onnx import helper

        from polygraphy_deconv.onnx_model.analysis import analyse_proto
        from polygraphy_deconv.onnx_model.graph import GRAPH_CHECK_NODES

        model = shifted()
        previous = "y"
        for index in range(GRAPH_CHECK_NODES):
            model.graph.node.append(helper.make_node("Relu", [previous], [f"r{index}"]))
            previous = f"r{index}"
        notes = analyse_proto(model).notes
        assert any("is not checked by inspect above 20,000 nodes; fix and check always check it" in n for n in notes), notes
