"""Issue 5, section 3: a model over 2 GiB stored with external data.

`inspect` never loads weight data, and `fix` rewrites the graph and streams the data file (or leaves it
alone in place) without ever holding it in memory. The data file is sparse: 2.2 GiB long, a few MiB on
disk; the copy `fix` makes in another folder (named after the output, issue 10 item 1) is sparse too
(issue 10 item 9), where the file system reports holes. Peak memory is each CLI process's own ru_maxrss
(os.wait4), far below the data size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from polygraphy_deconv.core.finding import Verdict
from polygraphy_deconv.onnx_model.analysis import analyse_model
from tests.cli.conftest import console_script

GiB = 1 << 30
DATA_SIZE = int(2.2 * GiB)
PEAK_LIMIT = 1 * GiB  # a process that loaded the data would need more than 2.2 GiB
CHANNELS = 64
WEIGHT_SHAPE = (CHANNELS, CHANNELS, 3, 3)
WEIGHT_BYTES = int(np.prod(WEIGHT_SHAPE)) * 4
TABLE_OFFSET = 1 << 20  # the table starts at 1 MiB, page-aligned
TABLE_ROWS = (DATA_SIZE - TABLE_OFFSET) // (CHANNELS * 4)
MARKS = (TABLE_OFFSET, DATA_SIZE // 2, DATA_SIZE - 4096)  # nonzero bytes inside the sparse table


def external_tensor(name: str, dims: tuple[int, ...], offset: int, length: int) -> onnx.TensorProto:
    tensor = onnx.TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims, data_location=TensorProto.EXTERNAL)
    for key, value in (("location", "weights.bin"), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def large_model(folder: Path) -> Path:
    """x -> ConvTranspose(W, output_shape: 'shifted') -> y, and ids -> Gather(table) -> rows: the 2.2 GiB
    table is a real initializer used by the graph; both live in one sparse weights.bin."""
    rng = np.random.default_rng(0)
    with open(folder / "weights.bin", "wb") as data:
        data.write(rng.standard_normal(WEIGHT_SHAPE).astype(np.float32).tobytes())
        for offset in MARKS:
            data.seek(offset)
            data.write(rng.bytes(4096))
        data.truncate(DATA_SIZE)
    graph = helper.make_graph(
        [
            helper.make_node("ConvTranspose", ["x", "W"], ["y"], name="up", strides=[2, 2], output_shape=[16, 16]),
            helper.make_node("Gather", ["table", "ids"], ["rows"], name="lookup", axis=0),
        ],
        "large",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, CHANNELS, 8, 8]),
            helper.make_tensor_value_info("ids", TensorProto.INT64, [4]),
        ],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, CHANNELS, 16, 16]),
            helper.make_tensor_value_info("rows", TensorProto.FLOAT, [4, CHANNELS]),
        ],
        [
            external_tensor("W", WEIGHT_SHAPE, 0, WEIGHT_BYTES),
            external_tensor("table", (TABLE_ROWS, CHANNELS), TABLE_OFFSET, TABLE_ROWS * CHANNELS * 4),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(folder / "large.onnx"))
    onnx.checker.check_model(str(folder / "large.onnx"))  # a valid model (the checker only stats the data file)
    return folder / "large.onnx"


def run_measured(*args: str, cwd: Path) -> tuple[int, str, int]:
    """Run the console script; (exit code, stdout + stderr, peak resident memory in bytes of that process)."""
    log = cwd / "cli.log"
    with open(log, "w") as output:
        process = subprocess.Popen([console_script(), *args], cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    log.unlink()
    return process.returncode, text, usage.ru_maxrss * 1024  # Linux reports KiB


def references(path: Path) -> dict[str, dict[str, str]]:
    model = onnx.load(str(path), load_external_data=False)
    return {t.name: {e.key: e.value for e in t.external_data} for t in model.graph.initializer}


def sample(path: Path) -> list[bytes]:
    with open(path, "rb") as data:
        chunks = []
        for offset, length in ((0, WEIGHT_BYTES), *((mark, 4096) for mark in MARKS), (DATA_SIZE - 16, 16)):
            data.seek(offset)
            chunks.append(data.read(length))
    return chunks


def holes_reported(path: Path) -> bool:
    """Whether the file system reports the file's holes (SEEK_HOLE before its end)."""
    with open(path, "rb") as handle:
        try:
            return os.lseek(handle.fileno(), 0, os.SEEK_HOLE) < os.fstat(handle.fileno()).st_size
        except OSError:
            return False


@pytest.fixture
def large(tmp_path: Path) -> Iterator[Path]:
    free = shutil.disk_usage(tmp_path).free
    if free < DATA_SIZE + 2 * GiB:
        pytest.skip(f"needs {(DATA_SIZE + 2 * GiB) / GiB:.1f} GiB free for the copy, {free / GiB:.1f} GiB here")
    (tmp_path / "model").mkdir()
    try:
        yield large_model(tmp_path / "model")
    finally:
        shutil.rmtree(tmp_path)  # GiBs: do not leave them to pytest's keep-three-runs cleanup


class TestLargeModel:
    def test_basic(self, large: Path) -> None:
        folder, root = large.parent, large.parent.parent
        assert os.path.getsize(folder / "weights.bin") == DATA_SIZE
        assert os.path.getsize(large) < 4096
        original = sample(folder / "weights.bin")

        code, text, peak = run_measured("inspect", str(large), cwd=root)
        assert code == 0, text
        assert "1 ConvTranspose: 1 shifted" in text
        assert peak < PEAK_LIMIT, f"inspect peaked at {peak / GiB:.2f} GiB"

        (root / "out").mkdir()
        code, text, peak = run_measured("fix", str(large), "-o", "out/fixed.onnx", cwd=root)
        assert code == 0, text
        assert "rewrote 1" in text
        assert peak < PEAK_LIMIT, f"fix peaked at {peak / GiB:.2f} GiB"
        assert sorted(os.listdir(root / "out")) == ["fixed.onnx", "fixed.onnx.data"]  # no temporary left
        moved = {name: {**entries, "location": "weights.bin"} for name, entries in references(root / "out" / "fixed.onnx").items()}
        assert moved == references(large)  # the one data file renamed; same offsets and lengths
        copy = root / "out" / "fixed.onnx.data"
        assert os.path.getsize(copy) == DATA_SIZE
        assert sample(copy) == original
        if holes_reported(folder / "weights.bin"):  # the copy keeps the holes: a few MiB on disk, not 2.2 GiB
            allocated, source = os.stat(copy).st_blocks * 512, os.stat(folder / "weights.bin").st_blocks * 512
            assert allocated <= source + (16 << 20), f"the copy takes {allocated / GiB:.2f} GiB on disk"
        (node,) = analyse_model(str(root / "out" / "fixed.onnx")).nodes
        assert node.finding.verdict is Verdict.OK and node.finding.attributes.output_shape is None
        os.unlink(copy)

        data_status = os.stat(folder / "weights.bin")
        code, text, peak = run_measured("fix", str(large), "--in-place", cwd=root)
        assert code == 0, text
        assert peak < PEAK_LIMIT, f"fix --in-place peaked at {peak / GiB:.2f} GiB"
        assert sorted(os.listdir(folder)) == ["large.onnx", "weights.bin"]
        after = os.stat(folder / "weights.bin")
        assert (after.st_ino, after.st_mtime_ns, after.st_size) == (data_status.st_ino, data_status.st_mtime_ns, DATA_SIZE)
        assert sample(folder / "weights.bin") == original
        assert references(large)["table"]["offset"] == str(TABLE_OFFSET)
        (node,) = analyse_model(str(large)).nodes
        assert node.finding.verdict is Verdict.OK
