"""The stand-in's API surface, per emulated TensorRT version, against the real binding stubs of that version.

The stubs are what NVIDIA's binding wheels declare (scripts/trt-api-stubs builds them into
.ci-cache/trt-stubs/<version>/tensorrt/__init__.pyi; this test builds the missing ones and fails if it
cannot). Every module attribute, enum member, class attribute, property and method the stand-in provides
must exist in the stub of the version it emulates, settable only where the stub's is, with the getter type
the stub declares. Stand-in-only test helpers are listed in HELPERS and nowhere else.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import types
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.standin import network as standin

REPO = Path(__file__).resolve().parents[2]
STUBS = REPO / ".ci-cache" / "trt-stubs"
# Not TensorRT API: what the tests use to look at or run a stand-in network.
HELPERS = {("INetworkDefinition", "check"), ("INetworkDefinition", "execute")}
MODULE_HELPERS = {"_standin_api"}
ENUMS = ("LayerType", "DataType", "PaddingMode", "SampleMode", "ElementWiseOperation", "ErrorCodeTRT")


@dataclass
class StubMember:
    kind: str  # "attribute" (settable) | "property" | "method" | "constant" (ClassVar, enum member)
    type: str = "..."
    settable: bool = False
    parameters: set[str] = field(default_factory=set)


@dataclass
class StubClass:
    bases: list[str]
    members: dict[str, StubMember] = field(default_factory=dict)


@dataclass
class Stub:
    classes: dict[str, StubClass]
    names: set[str]  # module-level names

    def nested_class(self, cls: str, name: str) -> bool:
        """Whether a stub class or one of its bases holds a class `name` (e.g. ILogger.Severity)."""
        if f"{cls}.{name}" in self.classes:
            return True
        stub_class = self.classes.get(cls)
        return stub_class is not None and any(self.nested_class(base, name) for base in stub_class.bases)

    def member(self, cls: str, name: str) -> StubMember | None:
        """A member of a stub class or of its bases."""
        stub_class = self.classes.get(cls)
        if stub_class is None:
            return None
        if name in stub_class.members:
            return stub_class.members[name]
        for base in stub_class.bases:
            found = self.member(base, name)
            if found is not None:
                return found
        return None


def _parse_class(node: ast.ClassDef, prefix: str, classes: dict[str, StubClass]) -> None:
    stub_class = StubClass([ast.unparse(b) for b in node.bases])
    classes[prefix + node.name] = stub_class
    for item in node.body:
        if isinstance(item, ast.ClassDef):
            _parse_class(item, f"{prefix}{node.name}.", classes)
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            annotation = ast.unparse(item.annotation)
            kind = "constant" if annotation.startswith("typing.ClassVar") else "attribute"
            stub_class.members[item.target.id] = StubMember(kind, annotation, settable=kind == "attribute")
        elif isinstance(item, ast.Assign):
            for target in item.targets:
                if isinstance(target, ast.Name):
                    stub_class.members[target.id] = StubMember("constant")
        elif isinstance(item, ast.FunctionDef):
            decorators = [ast.unparse(d) for d in item.decorator_list]
            returns = ast.unparse(item.returns) if item.returns is not None else "..."
            if "property" in decorators:
                stub_class.members[item.name] = StubMember("property", returns)
            elif f"{item.name}.setter" in decorators:
                stub_class.members[item.name].settable = True
            else:
                method = stub_class.members.setdefault(item.name, StubMember("method", returns))
                arguments = item.args.posonlyargs + item.args.args + item.args.kwonlyargs
                method.parameters |= {a.arg for a in arguments[1:]}


@cache
def stub(version: str) -> Stub:
    text = (STUBS / version / "tensorrt" / "__init__.pyi").read_text()
    tree = ast.parse(text)
    classes: dict[str, StubClass] = {}
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            _parse_class(node, "", classes)
            names.add(node.name)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return Stub(classes, names)


@pytest.fixture(scope="session")
def stubs() -> Path:
    """The stub directory, with every emulated version's stub (built with scripts/trt-api-stubs if missing)."""
    missing = [v for v in standin.EMULATED_VERSIONS if not (STUBS / v / "tensorrt" / "__init__.pyi").is_file()]
    if missing:
        script = REPO / "scripts" / "trt-api-stubs"
        if not script.is_file():
            pytest.fail(f"binding stubs missing for {', '.join(missing)} and {script} does not exist")
        done = subprocess.run([str(script), str(STUBS), *missing], capture_output=True, text=True,
                              timeout=3600, stdin=subprocess.DEVNULL, check=False)
        still = [v for v in missing if not (STUBS / v / "tensorrt" / "__init__.pyi").is_file()]
        if done.returncode != 0 or still:
            pytest.fail(f"scripts/trt-api-stubs could not build the stubs of {', '.join(still or missing)} "
                        f"(exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return STUBS


# Type names as the stand-in writes them (annotations or values) -> as the stubs write them.
def _normal(name: str) -> str:
    name = name.replace("numpy.", "np.").replace("builtins.", "").replace("tensorrt.", "")
    if name.startswith("typing.ClassVar[") and name.endswith("]"):
        name = name[len("typing.ClassVar["):-1]
    name = name.removesuffix(" | None")
    return {"Severity": "ILogger.Severity"}.get(name, name)


def _types_agree(standin_type: str, stub_type: str) -> bool:
    stub_type = _normal(stub_type)
    if stub_type in ("...", "typing.Any") or standin_type == "Any":
        return True  # the stub does not say, or the stand-in returns a concrete subclass (e.g. get_layer)
    return _normal(standin_type) == stub_type


def _value_type(value: Any) -> str:
    if value is None:
        return "Any"  # an unset optional member: its type shows only once set
    return type(value).__name__


def examples(trt: types.ModuleType) -> dict[str, list[Any]]:
    """An instance of every stand-in class, as a test would build them, by the class's name on the module."""
    network = trt.INetworkDefinition()
    x = network.add_input("x", trt.DataType.FLOAT, (1, 2, 3))
    x4 = network.add_input("x4", trt.DataType.FLOAT, (1, 2, 3, 1))
    deconv = network.add_deconvolution_nd(x4, 2, (2, 1), trt.Weights(np.ones(8, np.float32)))
    constant = network.add_constant((1,), trt.Weights(np.ones(1, np.int32)))
    found: dict[str, list[Any]] = {
        "INetworkDefinition": [network],
        "ITensor": [x, deconv.get_output(0)],
        "IDeconvolutionLayer": [deconv],
        "IConstantLayer": [constant],
        "ISliceLayer": [network.add_slice(x, (0, 0, 0), (1, 2, 3), (1, 1, 1))],
        "IElementWiseLayer": [network.add_elementwise(x, x, trt.ElementWiseOperation.SUM)],
        "IShuffleLayer": [network.add_shuffle(x)],
        "IShapeLayer": [network.add_shape(x)],
        "Weights": [trt.Weights(np.ones(2, np.float32)), trt.Weights()],
        "Logger": [trt.Logger()],
        "Builder": [trt.Builder(trt.Logger())],
        "Dims": [trt.Dims((1, 2))],
        "Permutation": [trt.Permutation()],
    }
    if hasattr(trt, "IUnsqueezeLayer"):
        found["IUnsqueezeLayer"] = [network.add_unsqueeze(x, constant.get_output(0))]
        found["ISqueezeLayer"] = [network.add_squeeze(x4, constant.get_output(0))]
    found["ILayer"] = []  # (its instance attributes are checked on every layer above)
    return found


def surface(cls: type, instances: list[Any]) -> dict[str, tuple[str, str, bool]]:
    """name -> (kind, type, settable) of every public member the stand-in class offers."""
    members: dict[str, tuple[str, str, bool]] = {}
    absent: set[str] = set()
    for klass in cls.__mro__:
        if klass is object or not klass.__module__.startswith(("tests.standin", "tensorrt")):
            continue
        for name, value in vars(klass).items():
            if name.startswith("_") or name in members or name in absent:
                continue
            if isinstance(value, property):
                returns = (value.fget.__annotations__.get("return", "Any") if value.fget else "Any")
                members[name] = ("property", str(returns), value.fset is not None)
            elif inspect.isfunction(value):
                members[name] = ("method", str(value.__annotations__.get("return", "Any")), False)
            elif isinstance(value, standin._Absent):
                absent.add(name)  # the version removes what a base class has
                continue
            elif inspect.isclass(value):
                members[name] = ("class", value.__name__, False)
            else:
                members[name] = ("constant", _value_type(value), False)
    for instance in instances:
        for name, value in vars(instance).items():
            if not name.startswith("_") and name not in members:
                members[name] = ("attribute", _value_type(value), True)
    return members


def _module(version: str) -> types.ModuleType:
    return standin.tensorrt_module(version)


VERSIONS = pytest.mark.parametrize("version", standin.EMULATED_VERSIONS)


@pytest.mark.usefixtures("stubs")
class TestSurface:
    @VERSIONS
    def test_module_names(self, version: str) -> None:
        trt, real = _module(version), stub(version)
        extra = sorted(n for n in vars(trt) if not n.startswith("__") and n not in MODULE_HELPERS and n not in real.names)
        assert not extra, f"TensorRT {version} has no {extra}"

    @VERSIONS
    def test_enum_members(self, version: str) -> None:
        trt, real = _module(version), stub(version)
        for name in (*ENUMS, "ILogger.Severity"):
            holder: Any = trt
            for part in name.split("."):
                holder = getattr(holder, part)
            members = holder.__members__
            for member in members:
                found = real.member(name, member)
                assert found is not None and found.kind == "constant", f"TensorRT {version}: no {name}.{member}"

    @VERSIONS
    def test_class_members(self, version: str) -> None:
        trt, real = _module(version), stub(version)
        problems = []
        for class_name, instances in examples(trt).items():
            cls = getattr(trt, class_name)
            assert class_name in real.classes, f"TensorRT {version} has no class {class_name}"
            for name, (kind, standin_type, settable) in surface(cls, instances).items():
                if (class_name, name) in HELPERS:
                    continue
                where = f"{class_name}.{name}"
                if kind == "class":
                    if not real.nested_class(class_name, name):
                        problems.append(f"{where}: no such class in TensorRT {version}")
                    continue
                found = real.member(class_name, name)
                if found is None:
                    problems.append(f"{where}: not in TensorRT {version}")
                    continue
                if kind in ("property", "attribute", "constant") and found.kind == "method":
                    problems.append(f"{where}: a {kind} here, a method in TensorRT {version}")
                elif kind == "method" and found.kind != "method":
                    problems.append(f"{where}: a method here, a {found.kind} in TensorRT {version}")
                if settable and not found.settable:
                    problems.append(f"{where}: settable here, read-only in TensorRT {version}")
                if kind in ("property", "attribute", "constant") and found.kind != "method" \
                        and not _types_agree(standin_type, found.type):
                    problems.append(f"{where}: {standin_type} here, {found.type} in TensorRT {version}")
                if kind == "method":
                    parameters = [p for p in inspect.signature(getattr(cls, name)).parameters if p != "self"]
                    unknown = [p for p in parameters if p not in found.parameters]
                    if unknown and found.parameters != {"args", "kwargs"}:
                        problems.append(f"{where}: parameters {unknown} not in TensorRT {version}")
        assert not problems, "\n".join(problems)


class TestVersionRules:
    """The rules that differ by version, on the stand-in and (where a stub can say it) on the stub."""

    @VERSIONS
    @pytest.mark.usefixtures("stubs")
    def test_squeeze_layers_from_10_7(self, version: str) -> None:
        trt, real = _module(version), stub(version)
        expected = tuple(int(p) for p in version.split(".")[:2]) >= (10, 7)  # NvInfer.h@release/10.7:106-107
        for member in ("SQUEEZE", "UNSQUEEZE"):
            assert (real.member("LayerType", member) is not None) == expected
            assert hasattr(trt.LayerType, member) == expected
        assert (real.member("INetworkDefinition", "add_unsqueeze") is not None) == expected
        assert hasattr(trt.INetworkDefinition(), "add_unsqueeze") == expected
        assert hasattr(trt, "IUnsqueezeLayer") == expected

    @VERSIONS
    @pytest.mark.usefixtures("stubs")
    def test_int64_from_10(self, version: str) -> None:
        trt, real = _module(version), stub(version)
        expected = not version.startswith("8.")
        assert (real.member("DataType", "INT64") is not None) == expected
        assert hasattr(trt.DataType, "INT64") == expected
        network = trt.INetworkDefinition()
        shape = network.add_shape(network.add_input("x", trt.DataType.FLOAT, (1, 2)))
        assert shape.get_output(0).dtype == (standin.DataType.INT64 if expected else trt.DataType.INT32)
        if expected:
            assert trt.Weights(np.zeros(2, np.int64)).dtype == trt.DataType.INT64
        else:  # python/src/utils.cpp@release/8.6:65-97
            with pytest.raises(ValueError, match="Could not implicitly convert NumPy data type: i64"):
                trt.Weights(np.zeros(2, np.int64))

    @VERSIONS
    @pytest.mark.usefixtures("stubs")
    def test_dtype_settable_until_11(self, version: str) -> None:
        trt, real = _module(version), stub(version)
        weakly_typed = not version.startswith("11.")
        found = real.member("ITensor", "dtype")
        assert found is not None and found.settable == weakly_typed
        network = trt.INetworkDefinition()
        x = network.add_input("x", trt.DataType.HALF, (1, 2, 3, 4))
        layer = network.add_deconvolution_nd(x, 2, (1, 1), trt.Weights(np.ones(4, np.float16)))
        y = layer.get_output(0)
        if weakly_typed:
            assert y.dtype == trt.DataType.FLOAT  # "Without this, output type is always float32"
            y.dtype = trt.DataType.HALF
            assert y.dtype == trt.DataType.FLOAT  # unchanged: not an input, not an output (NvInfer.h@10.8:257-258)
            network.mark_output(y)
            y.dtype = trt.DataType.HALF
            assert y.dtype == trt.DataType.HALF
        else:
            assert y.dtype == trt.DataType.HALF  # strongly typed: the input's type
            with pytest.raises(AttributeError):
                y.dtype = trt.DataType.FLOAT

    def test_every_weights_dtype_rule(self) -> None:
        trt = _module(standin.DEFAULT_VERSION)
        with pytest.raises(ValueError, match="f64"):  # python/src/utils.cpp@release/10.8:74-110
            trt.Weights(np.zeros(2))
        with pytest.raises(ValueError, match="non-contiguous"):  # pyFoundationalTypes.cpp@release/10.8:45-46
            trt.Weights(np.zeros((2, 2), np.float32).T)
        assert trt.Weights().dtype == trt.DataType.FLOAT and trt.Weights().numpy().dtype == np.float32
        assert trt.Weights(np.zeros(3, np.float16)).numpy().dtype == np.float16

    def test_negative_unknown_version(self) -> None:
        with pytest.raises(ValueError, match="emulates TensorRT 8.6, 10.x and 11.x"):
            standin.tensorrt_module("7.2")
