"""Tacotron 2 training loss: mel regression before and after the postnet plus the stop-token classification."""
from torch import nn
from torch.nn import functional as F


class Tacotron2Loss(nn.Module):
    def forward(self, model_output, targets):
        """model_output = Tacotron2.forward's (mel_out, mel_out_postnet, gate_out, alignments);
        targets = (mel (B, n_mel, T_out), gate (B, T_out) 1.0 from the last frame on) -> scalar loss."""
        mel_target, gate_target = targets[0].detach(), targets[1].detach()
        mel_out, mel_out_postnet, gate_out, _ = model_output
        mel_loss = F.mse_loss(mel_out, mel_target) + F.mse_loss(mel_out_postnet, mel_target)
        gate_loss = F.binary_cross_entropy_with_logits(gate_out.reshape(-1), gate_target.reshape(-1))
        return mel_loss + gate_loss
