"""dlib's face ResNet (the same network, the same weights: the model package's .dat file) run by
OpenCV's DNN module, whose vectorised convolutions make a descriptor several times cheaper on one
core than dlib's own build (dlib-bin has no BLAS): about 10 ms instead of 65–110.

The .dat file is dlib's serialization of its network (dlib/dnn/core.h, layers.h; read here with
numpy, about 25 ms); OpenCV gets it as an ONNX model written in memory, because its Python API
cannot set a layer's weights otherwise and no onnx package is needed for the few messages written.
dlib's arithmetic is kept exactly: a convolution of stride 2 has no padding (stride 1: one pixel),
pools round their output size down, each ``affine`` (its batch norm, frozen) is folded into the
convolution before it, and a downsampling block adds its 2×2-averaged input to its output with
the smaller of the two zero-filled to the larger's size (the channels; the bottom and right edge
where 8 → 3 × 3 meets 8 → 4 × 4), as dlib's add_prev does. Input: (pixel − the file's mean
colour) / 256, RGB. The net is used only where it agrees with dlib's ResNet on a test chip.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("studio.identity")

CHIP = 150  # the network's input side (input_rgb_image_sized<150>)
AGREEMENT = 1e-3  # the largest distance to dlib's descriptor of the test chip (measured: 2e-6)
_INPUT = "input_rgb_image_sized"


class FastNetUnavailable(RuntimeError):
    """The fast net could not be built from the model file (one readable line)."""


@dataclass(frozen=True, slots=True)
class Layer:
    kind: str  # con, affine, relu, max, avg, add, fc
    weights: np.ndarray | None = None  # con: out × in × k × k; affine: scale; fc: in × out
    bias: np.ndarray | None = None  # con: per output; affine: shift
    stride: int = 1
    pad: int = 0
    window: int = 0  # pools; 0 = the whole picture (avg_pool_everything)


@dataclass(frozen=True, slots=True)
class Network:
    mean: tuple[float, float, float]  # RGB, subtracted before the division by 256
    layers: tuple[Layer, ...]  # input to output


@dataclass(frozen=True, slots=True)
class FastNet:
    net: Any  # cv2.dnn.Net
    mean: tuple[float, float, float]


# -- reading dlib's serialization (dlib/serialize.h) ----------------------------------------------

class _Reader:
    """dlib's stream: integers as a size byte (0x80: negative) then little-endian bytes; strings
    as a length then bytes; bools as '0'/'1'; floats as mantissa and exponent integers; tensors
    as a version, four dimensions and raw little-endian float32."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def integer(self) -> int:
        head = self.data[self.pos]
        size = head & 0x0F
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if head & 0x80 else value

    def text(self) -> str:
        size = self.integer()
        found = self.data[self.pos:self.pos + size].decode("ascii", "replace")
        self.pos += size
        return found

    def flag(self) -> None:
        if self.data[self.pos:self.pos + 1] not in (b"0", b"1"):
            raise FastNetUnavailable("the face model file is not a dlib network as expected")
        self.pos += 1

    def real(self) -> float:
        mantissa = self.integer()
        return math.ldexp(mantissa, self.integer())

    def shape(self) -> tuple[int, ...]:
        self.integer()  # the tensor's or alias's version
        return tuple(self.integer() for _ in range(4))

    def tensor(self) -> np.ndarray:
        dims = self.shape()
        count = math.prod(dims)
        values = np.frombuffer(self.data, "<f4", count, self.pos).reshape(dims)
        self.pos += 4 * count
        return values


def _con(reader: _Reader) -> Layer:
    params = reader.tensor().reshape(-1)
    _filters, _rows, _cols, stride, _stride_x, pad, _pad_x = (reader.integer() for _ in range(7))
    shape = reader.shape()
    reader.shape()  # the biases' alias
    for _ in range(4):  # learning-rate and weight-decay multipliers
        reader.real()
    size = math.prod(shape)
    return Layer("con", params[:size].reshape(shape), params[size:size + shape[0]], stride, pad)


def _affine(reader: _Reader) -> Layer:
    params = reader.tensor().reshape(-1)
    size = math.prod(reader.shape())
    reader.shape()  # beta's alias
    reader.integer()  # the mode: per channel here
    return Layer("affine", params[:size], params[size:2 * size])


def _pool(kind: str) -> Callable[[_Reader], Layer]:
    def read(reader: _Reader) -> Layer:
        rows, _cols, stride, _stride_x, pad, _pad_x = (reader.integer() for _ in range(6))
        return Layer(kind, stride=stride, pad=pad, window=rows)
    return read


def _fc(reader: _Reader) -> Layer:
    outputs, inputs = reader.integer(), reader.integer()
    params = reader.tensor().reshape(-1)
    reader.shape()
    reader.shape()
    reader.integer()  # the bias mode: none (fc_no_bias)
    for _ in range(4):
        reader.real()
    return Layer("fc", params[:inputs * outputs].reshape(inputs, outputs))


_READERS: dict[str, Callable[[_Reader], Layer]] = {
    "con_4": _con, "affine_": _affine, "relu_": lambda _r: Layer("relu"),
    "add_prev_": lambda _r: Layer("add"), "max_pool_2": _pool("max"), "avg_pool_2": _pool("avg"),
    "fc_2": _fc}


def _layer(reader: _Reader, tensors: int) -> Layer:
    """One add_layer's details, then its state (three flags, ``tensors`` training tensors)."""
    kind = reader.text()
    if kind not in _READERS:
        raise FastNetUnavailable(f"the face model file has a layer this reader does not know ({kind})")
    layer = _READERS[kind](reader)
    for _ in range(3):
        reader.flag()
    for _ in range(tensors):
        reader.tensor()
    return layer


def parse(data: bytes) -> Network:
    """The network in a dlib_face_recognition_resnet_model_v1.dat file: the loss layer and the
    nested layers' versions come first, then the input and every layer from input to output."""
    reader = _Reader(data)
    reader.integer()
    if reader.text() != "loss_metric_2":
        raise FastNetUnavailable("the face model file is not dlib's face ResNet")
    for _ in range(2):  # the margin and distance threshold of training
        reader.real()
    start = data.find(bytes([1, len(_INPUT)]) + _INPUT.encode())
    if start < 0:
        raise FastNetUnavailable("the face model file has no input layer")
    reader.pos = start + 2 + len(_INPUT)
    red, green, blue = reader.real(), reader.real(), reader.real()
    for _ in range(2):  # 150 × 150
        reader.integer()
    layers = [_layer(reader, 3)]
    reader.integer()  # the input layer's sample expansion factor
    while reader.pos < len(data):
        layers.append(_layer(reader, 3))
    return Network((red, green, blue), tuple(layers))


# -- writing it as ONNX (onnx.proto: ModelProto, GraphProto, NodeProto, TensorProto) -------------

def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _number(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _message(field: int, payload: bytes | str) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _ints(name: str, values: Sequence[int]) -> bytes:
    """An attribute of type INTS (7)."""
    return _message(5, _message(1, name) + b"".join(_number(8, v) for v in values) + _number(20, 7))


def _value_info(name: str, dims: Sequence[int]) -> bytes:
    shape = b"".join(_message(1, _number(1, d)) for d in dims)
    return _message(1, name) + _message(2, _message(1, _number(1, 1) + _message(2, shape)))


class _Graph:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.count = 0

    def node(self, op: str, inputs: Sequence[str], *attributes: bytes) -> str:
        self.count += 1
        out = f"{op}{self.count}"
        body = b"".join(_message(1, i) for i in inputs) + _message(2, out) + _message(4, op)
        self.parts.append(_message(1, body + b"".join(attributes)))
        return out

    def constant(self, values: np.ndarray) -> str:
        self.count += 1
        name = f"w{self.count}"
        data = np.ascontiguousarray(values, dtype="<f4")
        dims = b"".join(_number(1, d) for d in data.shape)
        self.parts.append(_message(5, dims + _number(2, 1) + _message(8, name) + _message(9, data.tobytes())))
        return name


@dataclass(frozen=True, slots=True)
class _Flow:
    name: str  # the tensor in the graph
    side: int
    channels: int


def _conv(graph: _Graph, flow: _Flow, con: Layer, affine: Layer) -> _Flow:
    if con.weights is None or con.bias is None or affine.weights is None or affine.bias is None:
        raise FastNetUnavailable("the face model file's layers are not in the expected order")
    scale, shift = affine.weights, affine.bias
    weights = con.weights * scale[:, None, None, None]
    side = con.weights.shape[2]
    name = graph.node("Conv", [flow.name, graph.constant(weights), graph.constant(con.bias * scale + shift)],
                      _ints("kernel_shape", [side, side]), _ints("strides", [con.stride] * 2),
                      _ints("pads", [con.pad] * 4))
    return _Flow(name, (flow.side + 2 * con.pad - side) // con.stride + 1, con.weights.shape[0])


def _pad(graph: _Graph, flow: _Flow, channels: int, side: int) -> str:
    """Zeros after the last channel, row and column, as dlib's add_prev treats the smaller one."""
    if channels == flow.channels and side == flow.side:
        return flow.name
    extra = [0, channels - flow.channels, side - flow.side, side - flow.side]
    return graph.node("Pad", [flow.name], _ints("pads", [0, 0, 0, 0, *extra]))


def _block(graph: _Graph, flow: _Flow, layers: Sequence[Layer]) -> tuple[_Flow, int]:
    """One residual block (con affine relu con affine [avg] add relu) and how many layers it took."""
    kinds = [layer.kind for layer in layers[:8]]
    down = kinds[5:6] == ["avg"]
    if kinds[:5] != ["con", "affine", "relu", "con", "affine"] or kinds[5 + down:7 + down] != ["add", "relu"]:
        raise FastNetUnavailable(f"the face model file has a block this reader does not know ({' '.join(kinds)})")
    inner = _conv(graph, flow, layers[0], layers[1])
    inner = _conv(graph, _Flow(graph.node("Relu", [inner.name]), inner.side, inner.channels), layers[3], layers[4])
    short = flow
    if down:
        name = graph.node("AveragePool", [flow.name], _ints("kernel_shape", [2, 2]), _ints("strides", [2, 2]))
        short = _Flow(name, (flow.side - 2) // 2 + 1, flow.channels)
    side, channels = max(inner.side, short.side), max(inner.channels, short.channels)
    added = graph.node("Add", [_pad(graph, inner, channels, side), _pad(graph, short, channels, side)])
    return _Flow(graph.node("Relu", [added]), side, channels), 7 + down


def onnx_model(network: Network) -> bytes:
    """The network as a serialized ONNX ModelProto (opset 10), input "data" 1 × 3 × 150 × 150."""
    graph, layers = _Graph(), network.layers
    if [layer.kind for layer in layers[:4]] != ["con", "affine", "relu", "max"]:
        raise FastNetUnavailable("the face model file does not start as dlib's face ResNet")
    flow = _conv(graph, _Flow("data", CHIP, 3), layers[0], layers[1])
    name = graph.node("MaxPool", [graph.node("Relu", [flow.name])],
                      _ints("kernel_shape", [layers[3].window] * 2), _ints("strides", [layers[3].stride] * 2))
    flow, at = _Flow(name, (flow.side - layers[3].window) // layers[3].stride + 1, flow.channels), 4
    while at < len(layers) and layers[at].kind == "con":
        flow, used = _block(graph, flow, layers[at:])
        at += used
    head = layers[at:]
    if [layer.kind for layer in head] != ["avg", "fc"] or head[1].weights is None:
        raise FastNetUnavailable("the face model file does not end as dlib's face ResNet")
    name = graph.node("Flatten", [graph.node("GlobalAveragePool", [flow.name])])
    output = graph.node("MatMul", [name, graph.constant(head[1].weights)])
    body = b"".join(graph.parts) + _message(2, "dlib_face_resnet")
    body += _message(11, _value_info("data", [1, 3, CHIP, CHIP]))
    body += _message(12, _value_info(output, [1, head[1].weights.shape[1]]))
    return _number(1, 6) + _message(8, _message(1, "") + _number(2, 10)) + _message(7, body)


# -- running it ------------------------------------------------------------------------------------

def build(path: Path) -> FastNet:
    """Raises FastNetUnavailable when the file cannot be read as dlib's face ResNet, or OpenCV
    cannot run it."""
    try:
        network = parse(path.read_bytes())
    except (OSError, IndexError, ValueError) as error:
        raise FastNetUnavailable(f"the face model file cannot be read as a network ({error})") from error
    model = onnx_model(network)
    try:
        import cv2
    except ImportError as error:
        raise FastNetUnavailable("OpenCV is not installed (pip install opencv-python-headless)") from error
    try:
        net = cv2.dnn.readNetFromONNX(np.frombuffer(model, np.uint8))
    except cv2.error as error:
        raise FastNetUnavailable(f"OpenCV cannot run the face network ({error})") from error
    # OpenCV's Winograd 3×3 convolutions stay on (its default): 9.4 vs 13.7 ms a face on one
    # core, measured in turns, and the same descriptor within 2e-6
    return FastNet(net, network.mean)


def describe(fast: FastNet, chips: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The 128-d descriptor of each aligned RGB chip (150 × 150, as dlib.get_face_chip makes it).
    Not safe across threads: callers hold the face model's lock."""
    if not chips:
        return []
    import cv2
    batch = cv2.dnn.blobFromImages(list(chips), 1 / 256, (CHIP, CHIP), fast.mean, swapRB=False, crop=False)
    fast.net.setInput(batch)
    found = fast.net.forward()
    return [np.asarray(row, dtype=np.float64) for row in found.reshape(len(chips), -1)]


def test_chip() -> np.ndarray:
    """A fixed 150 × 150 RGB picture both nets describe when the fast one is built."""
    return np.random.default_rng(20).integers(0, 256, (CHIP, CHIP, 3), dtype=np.uint8)


def load_checked(path: Path, resnet: Any) -> FastNet | None:
    """The fast net where it builds and agrees with dlib's ResNet (``resnet``,
    a dlib.face_recognition_model_v1) on the test chip; None otherwise (dlib's is used)."""
    try:
        fast = build(path)
    except FastNetUnavailable as error:
        log.warning("faces are described by dlib's slower ResNet: %s", error)
        return None
    chip = test_chip()
    distance = float(np.linalg.norm(describe(fast, [chip])[0] - np.asarray(resnet.compute_face_descriptor(chip))))
    if distance > AGREEMENT:
        log.warning("faces are described by dlib's slower ResNet: OpenCV's run of it is off by %.4f", distance)
        return None
    return fast
