"""One logger for training, preprocessing and inference: the only place that formats a metric.

Each record goes to three sinks:
  * stdout, as a readable line (`epoch 3 iter 120 | loss 0.4213 | lr 0.001`),
  * a JSON-lines file in the DLLogger stream style, so tools that parse NVIDIA's `nvlog.json` read ours:
    `DLLL {"timestamp": ..., "elapsedtime": ..., "datetime": ..., "type": "LOG", "step": ..., "data": {...}}`,
  * TensorBoard scalars and images, when a TensorBoard folder is given.
A logger built with `enabled=False` (every rank but 0 in distributed training) swallows everything.
"""
import datetime
import json
import math
import numbers
import sys
import time
from pathlib import Path

JSON_PREFIX = 'DLLL '
SYS_STDOUT = object()  # the default: sys.stdout as it is when the logger is built (pytest swaps it)


def _json_value(value):
    """Plain Python numbers and strings for JSON; tensors and numpy scalars become floats or ints."""
    if hasattr(value, 'item') and getattr(value, 'ndim', 0) == 0:
        value = value.item()
    if isinstance(value, bool) or isinstance(value, str) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)  # JSON has no nan/inf
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


def format_value(value):
    value = _json_value(value)
    if isinstance(value, float):
        return f'{value:.4g}' if abs(value) < 1e5 else f'{value:.4e}'
    return str(value)


def format_step(step):
    """(epoch, iteration) tuples read as 'epoch 3 iter 120'; strings and () as they are."""
    if isinstance(step, str):
        return step
    names = ('epoch', 'iter', 'substep')
    return ' '.join(f'{name} {value}' for name, value in zip(names, step)) or 'summary'


class Logger:
    def __init__(self, log_file='nvlog.json', tensorboard_dir=None, enabled=True, stdout=SYS_STDOUT,
                 append=False):
        self.enabled = enabled
        self.start = time.time()
        self.stdout = None if not enabled else sys.stdout if stdout is SYS_STDOUT else stdout  # None: silent
        self.json_file = None
        self.tensorboard = None
        if not enabled:
            return
        if log_file:
            Path(log_file).parent.mkdir(parents=True, exist_ok=True)
            self.json_file = open(log_file, 'a' if append else 'w', buffering=1)
        if tensorboard_dir:
            from torch.utils.tensorboard import SummaryWriter  # imported lazily: slow, and optional
            self.tensorboard = SummaryWriter(log_dir=str(tensorboard_dir))

    def _write_json(self, record_type, step, data):
        if self.json_file is None:
            return
        now = time.time()
        record = {'timestamp': now, 'elapsedtime': now - self.start,
                  'datetime': datetime.datetime.fromtimestamp(now).isoformat(),
                  'type': record_type, 'step': _json_value(step if isinstance(step, str) else list(step)),
                  'data': _json_value(data)}
        self.json_file.write(JSON_PREFIX + json.dumps(record) + '\n')

    def log(self, step, data, tensorboard_step=None):
        """Log a dict of metrics at `step`: a tuple like (epoch, iteration), () for a summary, or a string."""
        if not self.enabled:
            return
        self._write_json('LOG', step, data)
        if self.stdout is not None:
            fields = ' | '.join(f'{key} {format_value(value)}' for key, value in data.items())
            print(f'{format_step(step)} | {fields}', file=self.stdout, flush=True)
        if self.tensorboard is not None and tensorboard_step is not None:
            for key, value in data.items():
                value = _json_value(value)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.tensorboard.add_scalar(key, value, tensorboard_step)

    def metadata(self, name, meta):
        """Describe a metric once (unit, format), as DLLogger's METADATA records do."""
        if self.enabled:
            self._write_json('METADATA', (), {'name': name, **meta})

    def info(self, message):
        if self.enabled and self.stdout is not None:
            print(message, file=self.stdout, flush=True)

    def image(self, tag, image_hwc, step):
        """An image (H, W, 3 uint8 array) for TensorBoard, e.g. an alignment or a mel spectrogram."""
        if self.enabled and self.tensorboard is not None:
            self.tensorboard.add_image(tag, image_hwc, step, dataformats='HWC')

    def close(self):
        if self.json_file is not None:
            self.json_file.close()
            self.json_file = None
        if self.tensorboard is not None:
            self.tensorboard.close()
            self.tensorboard = None


def read_json_log(path):
    """The records of a JSON-lines log as dicts (lines without the prefix are ignored)."""
    records = []
    for line in Path(path).read_text().splitlines():
        if line.startswith(JSON_PREFIX):
            records.append(json.loads(line[len(JSON_PREFIX):]))
    return records
