"""When a training run validates, saves and ends: the run-level flags (--epochs, --validation-interval,
--epochs-per-checkpoint, --iters-per-checkpoint, --target-val-loss) asked as questions."""
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class RunSchedule:
    epochs: int                     # counted from 1
    validation_interval: int        # epochs
    epochs_per_checkpoint: int
    iters_per_checkpoint: int       # optimizer steps; 0: off
    target_val_loss: Optional[float]

    @classmethod
    def from_args(cls, args):
        return cls(args.epochs, args.validation_interval, args.epochs_per_checkpoint, args.iters_per_checkpoint,
                   args.target_val_loss)

    def is_last(self, epoch):
        return epoch == self.epochs

    def validation_due(self, epoch):
        return epoch % self.validation_interval == 0 or self.is_last(epoch)

    def checkpoint_due_after_step(self, iteration):
        """An --iters-per-checkpoint save. One that falls on an epoch's last step is made by the end-of-epoch
        save instead (checkpoint_due_after_epoch), so the file says the epoch is complete."""
        return self.iters_per_checkpoint > 0 and iteration % self.iters_per_checkpoint == 0

    def checkpoint_due_after_epoch(self, epoch, iteration):
        return (epoch % self.epochs_per_checkpoint == 0 or self.is_last(epoch)
                or self.checkpoint_due_after_step(iteration))

    def target_reached(self, val_loss):
        return self.target_val_loss is not None and val_loss is not None and val_loss <= self.target_val_loss
