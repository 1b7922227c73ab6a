"""FastPitch training losses.

1.0 (FastPitchLoss): masked mel MSE + scaled log-duration MSE + scaled pitch MSE.
1.1 (FastPitch11Loss): the same terms with durations from the model's own alignment, plus energy MSE and the
aligner's CTC loss; AttentionBinarizationLoss pulls the soft alignment towards the hard one, weighted by
binarization_loss_weight(epoch, ...) as the 1.1 reference's train.py ramps it in.
"""
import torch
import torch.nn.functional as F
from torch import nn

from fastpitch.transformer import mask_from_lens


def _masked_mean(values, mask):
    return (values * mask).sum() / mask.sum()


def _mel_loss(mel_out, mel_tgt):
    """mel_out (B, T, n_mel), mel_tgt (B, n_mel, T_mel) zero-padded."""
    # the decoder may stop short of the target (durations cut at the mel length): pad with zeros
    mel_tgt = mel_tgt.transpose(1, 2)
    mel_out = F.pad(mel_out, (0, 0, 0, mel_tgt.size(1) - mel_out.size(1)))
    # padding of the targets is exactly zero and a log-mel value never is: the reference masks on that
    return _masked_mean(F.mse_loss(mel_out, mel_tgt, reduction='none'), mel_tgt.ne(0))


def _duration_loss(log_dur_pred, dur_tgt, dur_mask):
    """MSE of log(1 + frames)."""
    return _masked_mean(F.mse_loss(log_dur_pred, (dur_tgt.float() + 1).log(), reduction='none'), dur_mask)


class FastPitchLoss(nn.Module):
    def __init__(self, dur_predictor_loss_scale=1.0, pitch_predictor_loss_scale=1.0):
        super().__init__()
        self.dur_predictor_loss_scale = dur_predictor_loss_scale
        self.pitch_predictor_loss_scale = pitch_predictor_loss_scale

    def forward(self, model_out, targets):
        """model_out = FastPitch.forward's output; targets = [mel (B, n_mel, T_mel), dur, dur_lens, pitch].

        Returns (loss, meta) with meta = {loss, mel_loss, duration_predictor_loss, pitch_loss, dur_error}
        (detached; dur_error = mean absolute duration error in frames per symbol).
        """
        mel_out, _, dur_pred, log_dur_pred, pitch_pred = model_out
        mel_tgt, dur_tgt, dur_lens, pitch_tgt = targets
        dur_mask = mask_from_lens(dur_lens, dur_tgt.size(1))

        dur_loss = _duration_loss(log_dur_pred, dur_tgt, dur_mask)
        mel_loss = _mel_loss(mel_out, mel_tgt)
        pitch_pred = F.pad(pitch_pred, (0, pitch_tgt.size(1) - pitch_pred.size(1)))
        pitch_loss = _masked_mean(F.mse_loss(pitch_pred, pitch_tgt, reduction='none'), dur_mask)

        loss = (mel_loss + pitch_loss * self.pitch_predictor_loss_scale
                + dur_loss * self.dur_predictor_loss_scale)
        meta = {
            'loss': loss,
            'mel_loss': mel_loss,
            'duration_predictor_loss': dur_loss,
            'pitch_loss': pitch_loss,
            'dur_error': _masked_mean((dur_pred - dur_tgt).abs(), dur_mask),
        }
        return loss, {name: value.detach() for name, value in meta.items()}


class AttentionCTCLoss(nn.Module):
    """How well the aligner's log-probabilities explain reading every symbol in order: CTC with targets 1..L
    over frames, a blank (class 0) of fixed log-probability `blank_logprob` prepended to the symbols."""

    def __init__(self, blank_logprob=-1.0):
        super().__init__()
        self.blank_logprob = blank_logprob

    def forward(self, attn_logprob, symbol_lens, frame_lens):
        """attn_logprob (B, 1, T_mel, T_text); returns the batch mean of each item's CTC loss / its symbol count
        (an item without a valid path counts 0, zero_infinity)."""
        # (T_mel, B, 1 + T_text), the layout ctc_loss reads
        logprob = F.pad(attn_logprob[:, 0].transpose(0, 1), (1, 0), value=self.blank_logprob)
        classes = torch.arange(logprob.size(2), device=logprob.device)
        # Padded symbols get the lowest finite value rather than the reference's -inf: their probability is
        # exactly 0 either way (the same loss), but CTC's gradient for a class outside the targets is then 0,
        # where -inf makes it exp(-inf + inf) = NaN (CPU, and the CUDA kernel for small batches).
        logprob = logprob.masked_fill(classes > symbol_lens.unsqueeze(1), torch.finfo(logprob.dtype).min)
        targets = classes[1:].expand(logprob.size(1), -1)
        return F.ctc_loss(F.log_softmax(logprob, dim=2), targets, frame_lens, symbol_lens, zero_infinity=True)


class FastPitch11Loss(nn.Module):
    def __init__(self, dur_predictor_loss_scale=1.0, pitch_predictor_loss_scale=1.0, attn_loss_scale=1.0,
                 energy_predictor_loss_scale=0.1):
        super().__init__()
        self.dur_predictor_loss_scale = dur_predictor_loss_scale
        self.pitch_predictor_loss_scale = pitch_predictor_loss_scale
        self.attn_loss_scale = attn_loss_scale
        self.energy_predictor_loss_scale = energy_predictor_loss_scale
        self.attn_ctc_loss = AttentionCTCLoss()

    def forward(self, model_out, targets):
        """model_out = FastPitch11.forward's output; targets = [mel (B, n_mel, T_mel), input_lengths,
        output_lengths]. Duration, pitch and energy targets come from the model's alignment (its outputs).

        Returns (loss, meta) with meta = {loss, mel_loss, duration_predictor_loss, pitch_loss, attn_loss,
        dur_error, and energy_loss with energy conditioning} (detached). The binarization loss is not included:
        it has its own epoch-dependent weight (AttentionBinarizationLoss, binarization_loss_weight).
        """
        (mel_out, _, dur_pred, log_dur_pred, pitch_pred, pitch_tgt, energy_pred, energy_tgt,
         _, _, dur_tgt, attn_logprob) = model_out
        mel_tgt, symbol_lens, frame_lens = targets
        dur_mask = mask_from_lens(symbol_lens, dur_tgt.size(1))

        dur_loss = _duration_loss(log_dur_pred, dur_tgt, dur_mask)
        mel_loss = _mel_loss(mel_out, mel_tgt)
        pitch_loss = _masked_mean(F.mse_loss(pitch_pred, pitch_tgt, reduction='none'), dur_mask.unsqueeze(1))
        attn_loss = self.attn_ctc_loss(attn_logprob, symbol_lens, frame_lens)

        loss = mel_loss + dur_loss * self.dur_predictor_loss_scale + pitch_loss * self.pitch_predictor_loss_scale
        if energy_pred is not None:
            energy_loss = _masked_mean(F.mse_loss(energy_pred, energy_tgt, reduction='none'), dur_mask)
            loss = loss + energy_loss * self.energy_predictor_loss_scale
        loss = loss + attn_loss * self.attn_loss_scale
        meta = {
            'loss': loss,
            'mel_loss': mel_loss,
            'duration_predictor_loss': dur_loss,
            'pitch_loss': pitch_loss,
            'attn_loss': attn_loss,
            'dur_error': _masked_mean((dur_pred - dur_tgt).abs(), dur_mask),
        }
        if energy_pred is not None:
            meta['energy_loss'] = energy_loss
        return loss, {name: value.detach() for name, value in meta.items()}


class AttentionBinarizationLoss(nn.Module):
    """Mean negative log of the soft attention on the hard alignment's cells (floored at 1e-12)."""

    def forward(self, attn_hard, attn_soft, eps=1e-12):
        log_soft = torch.log(torch.clamp(attn_soft, min=eps))
        return -(log_soft * attn_hard).sum() / attn_hard.sum()


def binarization_loss_weight(epoch, start_epoch, warmup_epochs, weight):
    """Weight of the binarization loss at `epoch` (train.py's epoch counter): 0 before start_epoch, then rising
    linearly over warmup_epochs to `weight` (the 1.1 reference's --kl-loss-start-epoch 250,
    --kl-loss-warmup-epochs 100, --kl-loss-weight 1.0 by default). A warm-up of 0 epochs starts at full weight."""
    if epoch < start_epoch:
        return 0.0
    if warmup_epochs <= 0:
        return weight
    return min((epoch - start_epoch) / warmup_epochs, 1.0) * weight


class FastPitch11TrainingLoss(nn.Module):
    """What FastPitch 1.1 trains on: FastPitch11Loss plus the binarization loss weighted by the epoch
    (binarization_loss_weight; start_epoch() sets it, train.py calls it through the spec at every epoch start).
    meta gains kl_loss (the weighted binarization loss, the reference's name) and kl_weight."""

    def __init__(self, criterion, kl_loss_start_epoch, kl_loss_warmup_epochs, kl_loss_weight):
        super().__init__()
        self.criterion = criterion
        self.binarization = AttentionBinarizationLoss()
        self.schedule = (kl_loss_start_epoch, kl_loss_warmup_epochs, kl_loss_weight)
        self.kl_weight = 0.0

    def start_epoch(self, epoch):
        self.kl_weight = binarization_loss_weight(epoch, *self.schedule)

    def forward(self, model_out, targets):
        loss, meta = self.criterion(model_out, targets)
        attn_soft, attn_hard = model_out[8], model_out[9]
        kl_loss = self.binarization(attn_hard, attn_soft) * self.kl_weight
        loss = loss + kl_loss
        meta.update(loss=loss.detach(), kl_loss=kl_loss.detach(),
                    kl_weight=torch.tensor(self.kl_weight, device=loss.device))
        return loss, meta
