"""What a model package declares about its benchmarks, as ModelSpec.benchmark_cases, and the pieces it builds them
from. The runners in benchmarks/ read the cases of every spec and name no model themselves; a package's cases live
in its benchmark.py.

Four kinds of case, each read by one runner:
  SpeedCase      benchmarks/speed.py: a workload timed as the reference's CPU baseline times it (the model built at
                 its default config under torch.manual_seed(SEED), inputs, the call), and the work it cannot avoid
  QualityCase    benchmarks/quality.py: the output at bf16 and int8 against the fp32 output of the same model
  TrainingCase   benchmarks/training.py: what a small train.py run of the model needs on top of the shared flags
  AlignmentCase  benchmarks/alignment.py: how to train a model whose spec's teacher_forced_alignment gives
                 durations, so that its word boundaries can be scored against eSpeak's

How a speed case counts the work it cannot avoid (its floor; the same rules for every case):
* FLOP: a multiply-add is 2 FLOP. Only matrix products and convolutions are counted; activations, norms, softmax
  and the optimizer's arithmetic are a few operations per element, under 1 % of the products here.
  A conv1d c_in -> c_out with kernel k over P positions (batch x time) is 2 c_in c_out k P; a linear layer is k = 1;
  an LSTM cell with input n and hidden h is two products into 4 h gates: 2 (4 h) (n + h) per position.
* Bytes ("must move" to or from memory): weights once per pass, plus the inputs and outputs of the whole model.
  Intermediate activations are not counted for inference: a tiled implementation keeps them in cache. A layer
  group whose weights cannot stay in cache between the steps of a loop reads them once per step (weight_reads).
* Training: backward costs twice the forward FLOP (one product for the input gradient, one for the weight
  gradient, each as large as the forward product), so a step is 3x the forward. Bytes add, per parameter, the
  backward's second read of the weight, the gradient written (4 B), read by the norm clip and scaled in place
  (12 B), and Adam's read of parameter, gradient and two moments and write of parameter and moments (28 B); and
  every counted activation is written once in the forward and read once in the backward (it must be kept).
* Precision changes the bytes of weights and activations (PRECISION_BYTES) and which GEMM ceiling applies.
A case's floor is a list of Phases; benchmarks/floors.py turns them into a time with the machine's ceilings.
"""
import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional

import torch

from common.text import text_to_sequence
from common.training import GradientStep, build_optimizer

SEED = 0
# Our own sentence; its first 128 symbols (english_cleaners) are the input of the text-to-mel cases.
SENTENCE = ('Every benchmark here reads the same plain sentence, long enough that the attention has real work to do '
            'across one hundred and twenty eight symbols.')
N_SYMBOLS = 128
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # torch's Adam defaults, which the reference's baseline used

# bytes per weight and per activation element; bf16 autocast keeps fp32 master weights but reads bf16 copies
PRECISION_BYTES = {'fp32': (4, 4), 'fp16': (2, 2), 'bf16': (2, 2), 'int8': (1, 4)}
OPTIMIZER_BYTES_PER_PARAM = 4 + 12 + 28   # grad write, clip (read + scale), Adam (see the module docstring)


# ---------------------------------------------------------------- the cases

@dataclass(frozen=True)
class OnnxRun:
    """A case's call through ONNX Runtime (benchmarks/ --backend onnxruntime, --precisions onnx onnx-int8): the
    model to export, as the PyTorch call runs it, and the same call on the runtime of its export."""
    model: torch.nn.Module
    call: Callable          # (runtime of common/onnx_runtime.py) -> output (numpy)
    options: dict = field(default_factory=dict)  # common/onnx_runtime.load keywords


@dataclass
class Workload:
    """A built speed case: the warm-up call, the timed call, the items one timed call produces and its sizes."""
    warmup: Callable[[], object]
    run: Callable[[], object]
    items: int
    config: dict   # the model's constructor kwargs
    sizes: dict    # keyword arguments of the case's floor besides config and precision
    setup: str     # the sizes in words, for the report
    onnx: Optional[OnnxRun] = None  # an inference case's call through ONNX Runtime; None: no such run


@dataclass(frozen=True)
class SpeedCase:
    """A case of benchmarks/speed.py and its floor."""
    name: str             # the key of the case in the reference's baseline_cpu_reference.json
    unit: str
    reference_field: str  # throughput field of the reference's record
    training: bool
    build: Callable[..., Workload]  # (spec, device, Precision, quick) -> Workload; quick: smaller sizes
    floor: Callable[..., list]      # (config, precision name, **Workload.sizes) -> [Phase]


@dataclass(frozen=True)
class QualityCase:
    """A model of benchmarks/quality.py at its default size and trained. The inputs of a generator are
    (text (1, T), lengths) and its output a mel (1, n_mel, frames); those of a vocoder are (mel,) and its output
    audio. A call is `call(model)` with the model as prepared for the precision measured; it is built from the
    fp32 model and the inputs."""
    name: str                # label of the default-size run, e.g. the model and its width
    default_model: Callable  # (spec) -> the model at its default size with random weights
    default_call: Callable   # (that model, *inputs) -> call
    trained_call: Callable   # (a trained model, *inputs) -> call
    onnx: Optional[Callable] = None  # (model, *inputs) -> OnnxRun of the same call; None: not through ONNX


@dataclass(frozen=True)
class TrainingCase:
    """How benchmarks/training.py trains the model on the embedded corpus."""
    filelist_kind: str   # its filelists, <prefix>_<kind>_{train,val}_filelist.txt: audio_text, mel_text, ...
    flags: tuple = ()    # train.py flags on top of the shared ones; '{dataset}' stands for the corpus folder


@dataclass(frozen=True)
class AlignmentCase:
    """How benchmarks/alignment.py trains the model on the embedded corpus for a fixed CPU budget before it scores
    the durations of its spec's teacher_forced_alignment. The runner adds the shared flags (output, data, epochs,
    --workers 0) and configs/demo_<model>.json where there is one."""
    name: str            # what gives the alignment, for the report, e.g. the model and version
    filelist_kind: str   # its filelists <prefix>_<kind>_{train,val}_filelist.txt (prepare_dataset.DERIVED_FILELISTS)
    flags: tuple = ()    # train.py flags: version, sizes, batch, optimizer; '{dataset}' stands for the corpus folder
    model_flags: tuple = ()  # the model flags of that model at its default size, whose alignment of recorded clips
                             # benchmarks/preprocessing.py times with random weights


def cases_of_kind(specs, kind):
    """(spec, case) for each case of type `kind` in the specs' benchmark_cases, in the specs' order."""
    return [(spec, case) for spec in specs for case in spec.benchmark_cases if isinstance(case, kind)]


# ---------------------------------------------------------------- building workloads

def default_model(spec, device, flags=(), **overrides):
    """(config, model): the spec's default config (with model `flags`, e.g. a version) and `overrides`, the weights
    drawn under torch.manual_seed(SEED)."""
    config = {**spec.default_config(flags), **overrides}
    torch.manual_seed(SEED)
    return config, spec.model_class(**config).to(device)


def sentence_ids(device, batch=1, length=N_SYMBOLS):
    """(ids (batch, length), lengths (batch,)): the first `length` symbols of SENTENCE, repeated per item."""
    ids = text_to_sequence(SENTENCE, ['english_cleaners'])
    if len(ids) < length:
        raise ValueError(f'benchmark sentence has {len(ids)} symbols, fewer than {length}')
    text = torch.tensor(ids[:length], device=device).repeat(batch, 1)
    return text, torch.full((batch,), length, device=device)


def inference_call(model, precision, call):
    """A function that runs call(model) at `precision` without gradients; the model is prepared for the precision
    once (int8: a quantized copy)."""
    model = precision.prepare_for_inference(model)

    def run():
        with torch.no_grad(), precision.autocast(), warnings.catch_warnings():
            warnings.simplefilter('ignore')  # a decoder held to a fixed number of steps warns that it never stopped
            return call(model)
    return run


def onnx_call(spec, run, int8, threads):
    """A function that runs run.call on ONNX Runtime with `threads` threads, on the model exported (and with int8
    quantized) to a temporary folder, as export.py would (common/export.py; the check included)."""
    import argparse
    import tempfile

    from common import onnx_runtime
    from common.export import export_onnx, quantize_onnx_int8
    plan = spec.export_plan(run.model.eval(), argparse.Namespace(text_cleaners=None))
    with tempfile.TemporaryDirectory() as folder:
        output = f'{folder}/model' if len(plan.graphs) > 1 else f'{folder}/model.onnx'
        export_onnx(plan, output)
        if int8:
            quantize_onnx_int8(plan, output)
        runtime = onnx_runtime.load(output, threads=threads, **run.options)  # sessions hold the graphs in memory
    return lambda: run.call(runtime)


def training_step(model, loss_function, inputs, targets, precision, learning_rate, weight_decay, grad_clip_thresh,
                  betas=ADAM_BETAS, eps=ADAM_EPS):
    """A function that takes one optimizer step as train.py takes it: common.training.GradientStep (forward and loss
    under the precision's autocast, backward, clip_grad_norm_, optimizer step, zero_grad(set_to_none=True)), the
    reference's step definition, with build_optimizer's Adam (torch's fused Adam: the reference's update rule in
    one kernel instead of a per-tensor loop)."""
    model.train()
    optimizer = build_optimizer('adam', model.parameters(), learning_rate, weight_decay, betas, eps)
    step = GradientStep(model, loss_function, optimizer, precision, accumulation_steps=1,
                        grad_clip_thresh=grad_clip_thresh, max_nonfinite_steps=1)

    def run():
        loss, _ = step.accumulate(inputs, targets, last_micro_batch=True)
        step.step(loss.item())
    return run


# ---------------------------------------------------------------- floors

@dataclass
class Phase:
    name: str
    flops: float
    bytes: float


class Tally:
    """Running FLOP, weight and activation counts of a group of layers (see the counting rules above)."""

    def __init__(self):
        self.flops = 0
        self.weights = 0
        self.activations = 0

    def conv(self, c_in, c_out, kernel, positions, bias=True):
        self.flops += 2 * c_in * c_out * kernel * positions
        self.weights += c_in * c_out * kernel + (c_out if bias else 0)
        self.activations += c_out * positions

    def linear(self, n_in, n_out, positions, bias=True):
        self.conv(n_in, n_out, 1, positions, bias)

    def lstm(self, n_in, hidden, positions):
        self.flops += 2 * 4 * hidden * (n_in + hidden) * positions
        self.weights += 4 * hidden * (n_in + hidden) + 2 * 4 * hidden
        self.activations += 4 * hidden * positions

    def repeated(self, n):
        """The same layers run n times (decoder steps): n x the FLOP and activations, the same weights."""
        t = Tally()
        t.flops, t.weights, t.activations = self.flops * n, self.weights, self.activations * n
        return t

    def product(self, flops, outputs):
        """A product between activations (attention scores, context): no weights."""
        self.flops += flops
        self.activations += outputs

    def inference(self, name, precision, io_elements=0, weight_reads=1):
        w, a = PRECISION_BYTES[precision]
        return Phase(name, self.flops, self.weights * w * weight_reads + io_elements * a)

    def training(self, name, precision, io_elements=0, weight_reads=1):
        """Forward + backward + clip + Adam; weight_reads > 1 where the weights are streamed per step."""
        w, a = PRECISION_BYTES[precision]
        weight_traffic = self.weights * w * 2 * weight_reads + self.weights * OPTIMIZER_BYTES_PER_PARAM
        return Phase(name, 3 * self.flops, weight_traffic + (2 * self.activations + io_elements) * a)
