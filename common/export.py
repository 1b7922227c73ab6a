"""Export of a trained model to ONNX or TorchScript, each export checked on the spot against the PyTorch model.

A model's spec describes its export (ModelSpec.export_plan) as an ExportPlan: one or more graphs, each a module
whose forward takes and returns tensors only (the synthesis controls are inputs, not Python callables), with the
names and dynamic axes of its inputs and outputs and random example inputs of any length. The runtime kind and the
metadata (common/onnx_runtime.py reads both from each ONNX file) tell a runtime how to run the graphs without
the model's Python code.

ONNX uses torch's TorchScript-based exporter: the graphs have data-dependent sizes (FastPitch's frames come from
its predicted durations), which it records as dynamic shapes. TorchScript traces the same graphs; a model of
several graphs brings its own whole-model TorchScript (ExportPlan.torchscript).

The check runs the PyTorch module and the export on example inputs of two lengths, neither of them the length the
export was traced on, and compares every output; a difference beyond the plan's tolerance, or a different shape,
raises ExportError.
"""
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import torch

from common.export_format import METADATA_KEY
from common.fileio import atomic_replace

ONNX_OPSET = 17
TRACE_LENGTH = 23            # the example length the export is traced on; CHECK_LENGTHS differ from it
CHECK_LENGTHS = (11, 41)


class ExportError(ValueError):
    """An export that cannot be made or that does not match the PyTorch model; the message says which."""


@dataclass(frozen=True)
class Graph:
    name: str                  # the file's name among several ('encoder'); '' for a one-graph model
    module: torch.nn.Module    # forward(*inputs) -> tuple of outputs, tensors only
    inputs: tuple              # input names, in forward's order
    outputs: tuple             # output names
    dynamic_axes: dict         # {input or output name: {axis: label}}
    example: Callable          # (length) -> inputs: a random batch of two items, the second shorter


@dataclass(frozen=True)
class ExportPlan:
    runtime: str               # common/export_format.py: TEXT_TO_MEL, AUTOREGRESSIVE_TEXT_TO_MEL or MEL_TO_AUDIO
    graphs: tuple              # of Graph
    metadata: dict             # JSON-able: what a runtime needs besides the graphs (mel bands, hop, text front end)
    tolerance: float           # largest absolute difference allowed between the export and PyTorch
    # () -> (ScriptModule of the whole model, Graph of the eager whole model to check it against); None: the one
    # graph, traced
    torchscript: Optional[Callable] = None


def onnx_paths(plan, output):
    """{graph name: file}: `output` itself for one graph; for several, a folder of <graph name>.onnx files."""
    if len(plan.graphs) == 1:
        return {plan.graphs[0].name: Path(output)}
    return {graph.name: Path(output) / f'{graph.name}.onnx' for graph in plan.graphs}


def largest_differences(expected, actual, output_names, same_shape=True):
    """{output name: largest absolute difference}; ExportError where the shapes differ, or with same_shape False
    the difference over the part both have (an int8 generator may round a duration the other way: its lengths
    output shows by how much)."""
    expected, actual = _as_tuple(expected), _as_tuple(actual)
    differences = {}
    for name, want, got in zip(output_names, expected, actual):
        got = torch.as_tensor(got)
        if tuple(want.shape) != tuple(got.shape):
            if same_shape:
                raise ExportError(f'output {name!r} has shape {tuple(got.shape)} in the export but '
                                  f'{tuple(want.shape)} in PyTorch')
            common = tuple(slice(0, min(a, b)) for a, b in zip(want.shape, got.shape))
            want, got = want[common], got[common]
        differences[name] = float((want.double() - got.double()).abs().max()) if want.numel() else 0.0
    return differences


def _as_tuple(outputs):
    """A module's outputs as a tuple: one tensor, or a tuple or list of them."""
    return (outputs,) if torch.is_tensor(outputs) else tuple(outputs)


def check_graph(graph, run_export, tolerance):
    """Run PyTorch and the export on inputs of each CHECK_LENGTHS -> {output: largest difference over them};
    ExportError beyond tolerance. `run_export(inputs)` -> outputs of the export."""
    worst = dict.fromkeys(graph.outputs, 0.0)
    for length in CHECK_LENGTHS:
        inputs = graph.example(length)
        with torch.inference_mode():
            expected, actual = graph.module(*inputs), run_export(inputs)
        for name, difference in largest_differences(expected, actual, graph.outputs).items():
            worst[name] = max(worst[name], difference)
    failed = {name: difference for name, difference in worst.items() if not difference <= tolerance}
    if failed:
        label = f'{graph.name}: ' if graph.name else ''
        raise ExportError(f'{label}the export differs from PyTorch beyond {tolerance:g}: '
                          + ', '.join(f'{name} by {difference:.3g}' for name, difference in failed.items()))
    return worst


def export_onnx(plan, output):
    """Write every graph of the plan as ONNX (atomically), check each with ONNX Runtime -> {graph: differences}."""
    import onnx  # imported here: only exports need it

    from common.onnx_runtime import open_session
    results = {}
    for graph in plan.graphs:
        with atomic_replace(onnx_paths(plan, output)[graph.name]) as temporary:
            # without gradients, as inference runs: a graph traced under autograd takes its training-only paths
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter('ignore')  # the exporter's own deprecation and tracer notices
                torch.onnx.export(graph.module, graph.example(TRACE_LENGTH), str(temporary), dynamo=False,
                                  input_names=list(graph.inputs), output_names=list(graph.outputs),
                                  dynamic_axes=graph.dynamic_axes, opset_version=ONNX_OPSET)
            model = onnx.load(str(temporary))
            _copy_shared_initializers(model.graph)
            onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps(
                {**plan.metadata, 'runtime': plan.runtime, 'graph': graph.name})})
            onnx.save(model, str(temporary))
            session = open_session(temporary)
            results[graph.name] = check_graph(graph, lambda inputs: _run_session(session, graph, inputs),
                                              plan.tolerance)
    return results


def _copy_shared_initializers(graph):
    """Give back every weight its own initializer: the exporter stores equal weights once (the zero-initialized
    layers of an untrained model, say) and reads the others through Identity nodes, which ONNX Runtime's quantizer
    does not follow."""
    import onnx
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    for node in [node for node in graph.node if node.op_type == 'Identity' and node.input[0] in initializers]:
        copy = onnx.TensorProto()
        copy.CopyFrom(initializers[node.input[0]])
        copy.name = node.output[0]
        graph.initializer.append(copy)
        graph.node.remove(node)


def quantize_onnx_int8(plan, output):
    """Replace each written ONNX graph of the plan by its int8 form (ONNX Runtime's dynamic quantization: int8
    weights per output channel, activations quantized per call) -> {graph: {output: largest difference from the
    float32 graph on the check's inputs}}: the quality cost, reported rather than held to the float tolerance.

    Weights are stored as uint8: on a CPU without VNNI, ONNX Runtime's signed-weight kernels ran HiFi-GAN V1 3x
    slower than its unsigned ones (and no more exactly: SNR 54 against 59 dB from float32)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from common.onnx_runtime import open_session
    results = {}
    for graph in plan.graphs:
        path = onnx_paths(plan, output)[graph.name]
        float_session = open_session(path)
        with atomic_replace(path) as temporary, warnings.catch_warnings():
            warnings.simplefilter('ignore')
            _quietly(quantize_dynamic, path, temporary, weight_type=QuantType.QUInt8, per_channel=True)
            int8_session = open_session(temporary)
            worst = dict.fromkeys(graph.outputs, 0.0)
            for length in CHECK_LENGTHS:
                inputs = graph.example(length)
                differences = largest_differences(
                    [torch.as_tensor(value) for value in _run_session(float_session, graph, inputs)],
                    _run_session(int8_session, graph, inputs), graph.outputs, same_shape=False)
                worst = {name: max(worst[name], differences[name]) for name in worst}
            results[graph.name] = worst
    return results


def _quietly(function, *args, **kwargs):
    """Call without the root logger's advice that ONNX Runtime's quantization tool prints."""
    import logging
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        return function(*args, **kwargs)
    finally:
        root.setLevel(level)


def _run_session(session, graph, inputs):
    """The export's outputs on the graph's example inputs (tensors), by ONNX Runtime."""
    from common.onnx_runtime import run_kept_inputs
    return run_kept_inputs(session, graph.outputs, {name: value.numpy() for name, value in zip(graph.inputs, inputs)})


def export_torchscript(plan, output):
    """Write the whole model as one TorchScript file (atomically), checked -> {graph: differences}."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter('ignore')  # tracer notices about Python numbers it records as constants
        if plan.torchscript is not None:
            scripted, graph = plan.torchscript()
        else:
            graph = plan.graphs[0]
            scripted = torch.jit.trace(graph.module, graph.example(TRACE_LENGTH), check_trace=False)
    with atomic_replace(output) as temporary:
        torch.jit.save(scripted, str(temporary),
                       _extra_files={METADATA_KEY: json.dumps({**plan.metadata, 'runtime': plan.runtime})})
        loaded = torch.jit.load(str(temporary))
        return {graph.name: check_graph(graph, lambda inputs: loaded(*inputs), plan.tolerance)}
