"""HiFi-GAN's training step (ModelSpec.build_training_step): alternating GAN updates, as NVIDIA's recipe takes them.

train.py's model is the generator (so its checkpoints hold the generator as DLE's generator files do, and a run's
model loads straight into inference). The step owns the rest of the GAN, as DLE's discriminator file holds it: the
multi-period and multi-scale discriminators (sized by --mpd-periods and --discriminator-channel-divisor), their
optimizer over (msd, mpd) parameters in that order, the generator's optimizer (both --optimizer, AdamW by default),
and one fp16 GradScaler each. Its checkpoint entries keep DLE's names (mpd, msd, optim_g, optim_d, scaler_g,
scaler_d).

One optimizer step of k micro-batches:
  1. discriminator pass: per micro-batch, the generator's audio (without gradient) and the real audio through both
     discriminators, sum_D mean((1 - D(real))^2) + mean(D(fake)^2) / k backward; then the discriminators step;
  2. generator pass, against the stepped discriminators: per micro-batch, adversarial + feature-matching + 45 x
     mel L1 loss / k backward; then (train.py calls step()) the generator steps.
With one micro-batch (the reference's case) the generator runs once and its output serves both passes; with k the
generator pass runs the generator again on the micro-batches kept from pass 1 (their inputs only), so k batches
of b behave like one batch of k*b (up to rounding, and to the spectral norm's power iteration, one per call). The generator's losses are known only after pass 1, at the
last micro-batch: that call returns their sum over the k micro-batches and earlier calls return 0 (train.py
averages the calls, which gives the mean); the discriminator loss is each call's own.

Several ranks: train.py wraps the generator in DistributedDataParallel, the step each discriminator; gradients
are averaged on the last micro-batch. The generator pass calls the discriminators unwrapped: the gradients it
leaves in them are never used (the next discriminator pass starts from zero), so they need no averaging.
The learning rate train.py sets (common/training.learning_rate_at: --lr-decay's per-epoch decay) applies to both
optimizers, as the reference's two identical schedulers do.
"""
import contextlib

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from common import distributed
from common.checkpoint import strip_module_prefix
from common.training import GradientStep, StepResult, build_optimizer, reduce_sums
from common.training_state import unwrap

from .discriminators import MultiPeriodDiscriminator, MultiScaleDiscriminator
from .loss_function import MEL_LOSS_WEIGHT, discriminator_loss, feature_loss, generator_loss


def build_discriminators(args, device):
    """(mpd, msd) at the flags' sizes, in train mode on `device`. Drawn from their own generator seeded with --seed:
    building them takes nothing from the run's random stream (a resumed run builds them again before loading
    their weights, and must then go on as the uninterrupted run did)."""
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(args.seed)
        mpd = MultiPeriodDiscriminator(args.mpd_periods, args.discriminator_channel_divisor)
        msd = MultiScaleDiscriminator(args.discriminator_channel_divisor)
    return mpd.to(device).train(), msd.to(device).train()


def _distributed(module, device):
    if distributed.world_size() == 1:
        return module
    return DistributedDataParallel(module, device_ids=[device] if device.type == 'cuda' else None)


def _no_sync(modules, syncing):
    """DDP's no_sync of every wrapped module unless this micro-batch averages the gradients."""
    stack = contextlib.ExitStack()
    if not syncing:
        for module in modules:
            if isinstance(module, DistributedDataParallel):
                stack.enter_context(module.no_sync())
    return stack


def _state_dict_mismatch(module, state_dict):
    """Why `state_dict` does not fit `module` (its entries or their shapes), or None; checked before loading, as a
    strict load that fails has already copied the tensors that fit."""
    own = module.state_dict()
    if own.keys() != state_dict.keys():
        return f'it has {len(state_dict)} entries where {len(own)} are expected'
    for key, tensor in state_dict.items():
        if tensor.shape != own[key].shape:
            return f'its {key} has shape {tuple(tensor.shape)}, not {tuple(own[key].shape)}'
    return None


class GANStep:
    def __init__(self, generator, mpd, msd, mel_loss, args, precision):
        """`generator`: train.py's model (DDP-wrapped on several ranks); `mel_loss`: the spec's loss (MelLoss)."""
        self.generator, self.mel_loss, self.precision = generator, mel_loss, precision
        self.mpd, self.msd = mpd, msd
        device = next(mpd.parameters()).device
        self.mpd_ranks, self.msd_ranks = _distributed(mpd, device), _distributed(msd, device)
        self.accumulation_steps = args.gradient_accumulation_steps
        discriminators = nn.ModuleList([msd, mpd])  # DLE's optimizer order: chain(msd, mpd)

        def optimizer_step(module):
            """Clipping, loss scaling, skipping non-finite steps and zeroing, as the default step does them."""
            optimizer = build_optimizer(args.optimizer, module.parameters(), args.learning_rate, args.weight_decay,
                                        args.optimizer_betas, args.optimizer_eps)
            return GradientStep(module, None, optimizer, precision, self.accumulation_steps, args.grad_clip_thresh,
                                args.max_nonfinite_steps)
        self.generator_update = optimizer_step(unwrap(generator))
        self.discriminator_update = optimizer_step(discriminators)
        self.max_nonfinite_steps = args.max_nonfinite_steps
        self.nonfinite_in_a_row = 0
        self.waiting = []  # (mel, targets) of this step's earlier micro-batches, for the generator pass
        self.discriminator_loss_sum = 0.0
        self.discriminator_result = None

    @classmethod
    def from_args(cls, model, loss_function, args, precision):
        mpd, msd = build_discriminators(args, next(model.parameters()).device)
        return cls(model, mpd, msd, loss_function, args, precision)

    def set_learning_rate(self, learning_rate):
        self.generator_update.set_learning_rate(learning_rate)
        self.discriminator_update.set_learning_rate(learning_rate)

    # ---------------------------------------------------------------- the two passes

    def discriminator_losses(self, real, fake):
        """-> (MPD loss, MSD loss) of real and generated audio (B, 1, T)."""
        mpd_real, mpd_fake, _, _ = self.mpd_ranks(real, fake)
        msd_real, msd_fake, _, _ = self.msd_ranks(real, fake)
        return discriminator_loss(mpd_real, mpd_fake), discriminator_loss(msd_real, msd_fake)

    def generator_losses(self, fake, targets):
        """-> (total, {metric: value}) for generated audio against (real audio, loss mel), with the discriminators
        as they are now."""
        real, _ = targets
        _, mpd_fake, mpd_real_maps, mpd_fake_maps = self.mpd(real, fake)
        _, msd_fake, msd_real_maps, msd_fake_maps = self.msd(real, fake)
        adversarial = generator_loss(mpd_fake)[0] + generator_loss(msd_fake)[0]
        features = feature_loss(mpd_real_maps, mpd_fake_maps) + feature_loss(msd_real_maps, msd_fake_maps)
        mel = self.mel_loss(fake, targets)
        total = adversarial + features + MEL_LOSS_WEIGHT * mel
        return total, {'adversarial_loss': adversarial, 'feature_loss': features, 'mel_loss': mel}

    def accumulate(self, x, y, last_micro_batch):
        """One micro-batch's discriminator pass; at the last one also the discriminators' step and the generator
        pass of every micro-batch of the step -> (generator loss, dict of detached metrics), see the docstring."""
        k = self.accumulation_steps
        if not self.waiting:  # first micro-batch: drop what the last generator pass left in the discriminators
            self.discriminator_update.optimizer.zero_grad(set_to_none=True)
        shared = k == 1  # the generator's output serves both passes
        with torch.no_grad() if not shared else contextlib.nullcontext(), self.precision.autocast():
            fake = self.generator(x)
        with _no_sync((self.mpd_ranks, self.msd_ranks), last_micro_batch):
            with self.precision.autocast():
                mpd_loss, msd_loss = self.discriminator_losses(y[0], fake.detach())
                loss = mpd_loss + msd_loss
            self.discriminator_update.scaler.scale(loss / k).backward()
        metrics = {'discriminator_loss': loss.detach()}
        self.discriminator_loss_sum = self.discriminator_loss_sum + metrics['discriminator_loss'].float()
        if not last_micro_batch:
            self.waiting.append((x, y))
            return torch.zeros((), device=loss.device), metrics
        # summed over ranks: non-finite on every rank when it is on any, so that all of them skip the same steps
        loss_everywhere = reduce_sums({'loss': self.discriminator_loss_sum})['loss']
        self.discriminator_loss_sum = 0.0
        self.discriminator_result = self.discriminator_update.step(loss_everywhere)
        batches, self.waiting = self.waiting + [(x, y)], []
        total = None
        for index, (mel, targets) in enumerate(batches):
            syncing = index == len(batches) - 1
            with _no_sync((self.generator,), syncing):
                with self.precision.autocast():
                    generated = fake if shared else self.generator(mel)
                    generator_total, parts = self.generator_losses(generated, targets)
                self.generator_update.scaler.scale(generator_total / k).backward()
            parts['loss'] = generator_total
            total = {name: value.detach() + (0 if total is None else total[name]) for name, value in parts.items()}
        return total.pop('loss'), {**metrics, **total}

    # ---------------------------------------------------------------- the methods train.py calls

    def step(self, loss_value):
        """The generator's step (the discriminators stepped at the last micro-batch). `loss_value` is the step's
        generator loss reduced over ranks."""
        generator_result = self.generator_update.step(loss_value)
        nonfinite = generator_result.nonfinite or self.discriminator_result.nonfinite
        self.nonfinite_in_a_row = self.nonfinite_in_a_row + 1 if nonfinite else 0
        return StepResult(generator_result.grad_norm, generator_result.skipped, nonfinite)

    def check_nonfinite_limit(self):
        GradientStep.check_nonfinite_limit(self)  # the same rule and message, on this step's count

    def state_dict(self):
        """Its checkpoint entries, under the names of DLE's discriminator file."""
        return {'mpd': self.mpd.state_dict(), 'msd': self.msd.state_dict(),
                'optim_g': self.generator_update.optimizer.state_dict(),
                'optim_d': self.discriminator_update.optimizer.state_dict(),
                'scaler_g': self.generator_update.scaler.state_dict(),
                'scaler_d': self.discriminator_update.scaler.state_dict()}

    def load_state_dict(self, state, source, warn):
        """Take what fits: the discriminators' weights when they fit the flags' sizes (else a warning and fresh
        ones), then each optimizer's and scaler's state as the default step takes them."""
        discriminators_fit = True
        for name, module in (('mpd', self.mpd), ('msd', self.msd)):
            if isinstance(state.get(name), dict):
                saved = strip_module_prefix(state[name])
                problem = _state_dict_mismatch(module, saved)
                if problem:
                    discriminators_fit = False
                    warn(f'{name} of {source} not loaded: it does not fit --mpd-periods / '
                         f'--discriminator-channel-divisor ({problem})')
                else:
                    module.load_state_dict(saved)
        for update, optimizer_key, scaler_key in ((self.generator_update, 'optim_g', 'scaler_g'),
                                                  (self.discriminator_update, 'optim_d', 'scaler_d')):
            if update is self.discriminator_update and not discriminators_fit:
                continue
            entries = {key: state[saved] for key, saved in (('optimizer', optimizer_key), ('scaler', scaler_key))
                       if isinstance(state.get(saved), dict)}
            update.load_state_dict(entries, source, warn)
