"""When a training run validates, saves and ends: the run-level flags (--epochs, --validation-interval,
--epochs-per-checkpoint, --iters-per-checkpoint, --validate-at-checkpoints, --checkpoint-name, --target-val-loss)
asked as questions."""
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class RunSchedule:
    epochs: int                     # counted from 1
    validation_interval: int        # epochs
    epochs_per_checkpoint: int
    iters_per_checkpoint: int       # optimizer steps; 0: off
    target_val_loss: Optional[float]
    validate_at_checkpoints: bool = False  # also validate at every --iters-per-checkpoint save
    # the step count at which iterations are counted from: 1 where they are numbered from 0 after the first step
    # (--checkpoint-name, as NVIDIA/tacotron2 and NVIDIA/waveglow number them: their first save follows step 1)
    first_counted_step: int = 0

    @classmethod
    def from_args(cls, args):
        return cls(args.epochs, args.validation_interval, args.epochs_per_checkpoint, args.iters_per_checkpoint,
                   args.target_val_loss, args.validate_at_checkpoints, 1 if args.checkpoint_name else 0)

    def is_last(self, epoch):
        return epoch == self.epochs

    def validation_due(self, epoch, iteration):
        """After `epoch`, whose last step brought the run to `iteration` steps."""
        return (epoch % self.validation_interval == 0 or self.is_last(epoch)
                or self.validation_due_after_step(iteration))

    def validation_due_after_step(self, iteration):
        return self.validate_at_checkpoints and self.checkpoint_due_after_step(iteration)

    def checkpoint_due_after_step(self, iteration):
        """An --iters-per-checkpoint save. One that falls on an epoch's last step is made by the end-of-epoch
        save instead (checkpoint_due_after_epoch), so the file says the epoch is complete."""
        counted = iteration - self.first_counted_step
        return self.iters_per_checkpoint > 0 and counted >= 0 and counted % self.iters_per_checkpoint == 0

    def checkpoint_due_after_epoch(self, epoch, iteration):
        return (epoch % self.epochs_per_checkpoint == 0 or self.is_last(epoch)
                or self.checkpoint_due_after_step(iteration))

    def target_reached(self, val_loss):
        return self.target_val_loss is not None and val_loss is not None and val_loss <= self.target_val_loss
