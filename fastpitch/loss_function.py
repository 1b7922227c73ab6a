"""FastPitch 1.0 training loss: masked mel MSE + scaled log-duration MSE + scaled pitch MSE."""
import torch.nn.functional as F
from torch import nn

from fastpitch.transformer import mask_from_lens


def _masked_mean(values, mask):
    return (values * mask).sum() / mask.sum()


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

        log_dur_tgt = (dur_tgt.float() + 1).log()
        dur_loss = _masked_mean(F.mse_loss(log_dur_pred, log_dur_tgt, reduction='none'), dur_mask)

        # the decoder may stop short of the target (durations cut at the mel length): pad with zeros
        mel_tgt = mel_tgt.transpose(1, 2)
        mel_out = F.pad(mel_out, (0, 0, 0, mel_tgt.size(1) - mel_out.size(1)))
        # padding of the targets is exactly zero and a log-mel value never is: the reference masks on that
        mel_mask = mel_tgt.ne(0)
        mel_loss = _masked_mean(F.mse_loss(mel_out, mel_tgt, reduction='none'), mel_mask)

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
