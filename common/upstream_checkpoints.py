"""Checkpoints named by iteration, as NVIDIA/tacotron2 (`checkpoint_<iteration>`) and NVIDIA/waveglow
(`waveglow_<iteration>`) name theirs: train.py --checkpoint-name TEMPLATE.

Those repositories count iterations from 0 and save after the step whose 0-based index is a multiple of
iters_per_checkpoint, so their first file is `checkpoint_0`; the files here carry the same numbers. The payload is
ours (every key resuming needs) with 'iteration' set to that number, as their loaders read it.
"""
import re
from pathlib import Path

from common.checkpoint import save_checkpoint

ITERATION_FIELD = '{iteration}'


def upstream_iteration(steps_done):
    """The 0-based iteration number NVIDIA's code gives the step that brought the run to `steps_done` steps."""
    return steps_done - 1


class IterationCheckpoints:
    """The same interface as common.checkpoint.CheckpointManager: save(payload, epoch, iteration) and
    last_path(); every file is named by the template, whatever the epoch."""

    def __init__(self, output_dir, template):
        if template.count(ITERATION_FIELD) != 1 or '/' in template:
            raise ValueError(f'--checkpoint-name {template!r}: expected a file name with {ITERATION_FIELD} once, '
                             'e.g. checkpoint_{iteration}')
        self.output_dir = Path(output_dir)
        self.template = template
        before, after = template.split(ITERATION_FIELD)
        self._name_pattern = re.compile(rf'{re.escape(before)}(\d+){re.escape(after)}')

    def save(self, payload, epoch, iteration=None):
        number = upstream_iteration(payload['iteration'])
        path = self.output_dir / self.template.replace(ITERATION_FIELD, str(number))
        save_checkpoint({**payload, 'iteration': number}, path)
        return path

    def last_path(self):
        found = [(int(match[1]), path) for path in self.output_dir.glob('*')
                 if (match := self._name_pattern.fullmatch(path.name))]
        return max(found)[1] if found else None
