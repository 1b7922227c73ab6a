"""WaveGlow training loss: the negative log-likelihood of the audio under the flow, per element of z."""
from torch import nn


class WaveGlowLoss(nn.Module):
    def __init__(self, sigma=1.0):
        super().__init__()
        self.sigma = sigma

    def forward(self, model_output, clean_audio=None):
        """model_output = WaveGlow.forward's (z, log_s_list, log_det_W_list); clean_audio is not needed.

        -log p(audio) = |z|^2 / (2 sigma^2) - sum(log s) - sum(log det W) (+ a constant left out),
        divided by the number of elements of z.
        """
        z, log_s_list, log_det_W_list = model_output
        log_s_total = sum(log_s.sum() for log_s in log_s_list)
        log_det_W_total = sum(log_det_W_list)
        nll = (z * z).sum() / (2 * self.sigma * self.sigma) - log_s_total - log_det_W_total
        return nll / z.numel()
