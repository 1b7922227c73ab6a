"""WaveGlow: a flow-based vocoder mapping audio to Gaussian noise (training) and noise to audio (inference).

Audio is folded into groups of `n_group` samples (channels) at 1/n_group of the sample rate. Each flow is an
invertible 1x1 convolution followed by an affine coupling layer whose scale and shift come from a WaveNet-like
network (`WN`) fed with half of the channels and the upsampled mel spectrogram. After every `n_early_every` flows,
`n_early_size` channels leave the flow early (they go straight to the output z).

Parameter names and their order match NVIDIA DeepLearningExamples' checkpoints, weight-normed (`weight_g`,
`weight_v`) for training and folded (`weight`) after `WaveGlow.remove_weightnorm`.
"""
import torch
import torch.nn.functional as F
from torch import nn

from common.layers import ChannelsLastConv1d, weight_normed

# The mel-to-audio upsampler of the reference: one transposed convolution spanning 4 hops of 256 samples.
UPSAMPLE_KERNEL = 1024
UPSAMPLE_STRIDE = 256
WN_CONFIG_KEYS = ('n_layers', 'kernel_size', 'n_channels')


def _fold_weight_norm(conv):
    """Replace weight_g/weight_v by the plain weight g * v / ||v|| (no-op on an already folded conv)."""
    if 'weight_g' in conv._parameters:
        nn.utils.remove_weight_norm(conv, name='weight')
        conv.store_tap_major()


class Invertible1x1Conv(nn.Module):
    """Channel mixing by an invertible matrix W (c, c), initialised as a random rotation (det +1)."""

    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, kernel_size=1, bias=False)
        # Drawn on the CPU so that the model can also be built on another default device (e.g. meta).
        q = torch.linalg.qr(torch.randn(channels, channels, device='cpu'))[0]
        if torch.det(q) < 0:
            q[:, 0] = -q[:, 0]
        with torch.no_grad():
            self.conv.weight.copy_(q.unsqueeze(-1))

    def forward(self, z):
        """z (B, c, T) -> (W z, log|det| contribution B * T * logdet W)."""
        batch_size, _, n_of_groups = z.shape
        weight = self.conv.weight.squeeze(-1)
        log_det_w = batch_size * n_of_groups * torch.logdet(weight.float())
        return self.conv(z), log_det_w

    @torch.no_grad()
    def inverse_weight(self):
        """W^-1 as a (c, c, 1) kernel, computed on every call: W is tiny (c x c), so this costs microseconds, follows
        every kind of update, and (inv_ex checks no error flag) never waits for the GPU, as comparing W with the
        weight a cached inverse was made from would."""
        weight = self.conv.weight
        inverse, _ = torch.linalg.inv_ex(weight.squeeze(-1).float())
        return inverse.to(weight.dtype).unsqueeze(-1)

    def inverse(self, z):
        return F.conv1d(z, self.inverse_weight())


class WN(nn.Module):
    """Gated, dilated convolution stack predicting (shift b, log scale s) for an affine coupling layer.

    Input `audio` (B, n_in_channels, T) and `spect` (B, n_cond_channels, T); output (B, 2 * n_in_channels, T)
    with b in the first half of the channels and log s in the second. Inside, activations are channels-last
    (B, T, C), the layout of row-major matrix products; `spect` is cheapest as a view of channels-last memory.
    """

    def __init__(self, n_in_channels, n_cond_channels, n_layers, n_channels, kernel_size):
        super().__init__()
        self.n_layers = n_layers
        self.n_channels = n_channels
        # Registration order fixes the state-dict order of the checkpoints.
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        self.cond_layers = nn.ModuleList()
        for i in range(n_layers):
            dilation = 2 ** i
            self.in_layers.append(weight_normed(ChannelsLastConv1d(
                n_channels, 2 * n_channels, kernel_size, padding=dilation * (kernel_size - 1) // 2, dilation=dilation)))
            # The last layer feeds only the skip sum, the others also the residual path.
            res_skip_channels = 2 * n_channels if i < n_layers - 1 else n_channels
            self.res_skip_layers.append(weight_normed(ChannelsLastConv1d(n_channels, res_skip_channels)))
            self.cond_layers.append(weight_normed(ChannelsLastConv1d(n_cond_channels, 2 * n_channels)))
        self.start = weight_normed(ChannelsLastConv1d(n_in_channels, n_channels))
        # Zero output at initialisation: every coupling layer starts as the identity.
        self.end = ChannelsLastConv1d(n_channels, 2 * n_in_channels)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)

    def forward(self, audio, spect):
        n_channels = self.n_channels
        spect = spect.transpose(1, 2)
        hidden = self.start(audio.transpose(1, 2))
        skip_sum = None
        for i, (in_layer, cond_layer, res_skip_layer) in enumerate(
                zip(self.in_layers, self.cond_layers, self.res_skip_layers)):
            # add_ on a fresh product is safe for autograd: a product's backward does not need its output
            pre_activation = in_layer(hidden).add_(cond_layer(spect))
            acts = torch.tanh(pre_activation[..., :n_channels]) * torch.sigmoid(pre_activation[..., n_channels:])
            res_skip = res_skip_layer(acts)
            if i < self.n_layers - 1:
                hidden = hidden + res_skip[..., :n_channels]
                skip = res_skip[..., n_channels:]
            else:
                skip = res_skip
            skip_sum = skip if skip_sum is None else skip_sum + skip
        return self.end(skip_sum).transpose(1, 2)


def _check_config(n_mel_channels, n_flows, n_group, n_early_every, n_early_size, wn_config):
    """ValueError naming the constructor argument (and its command-line flag) that cannot build a WaveGlow."""
    if set(wn_config) != set(WN_CONFIG_KEYS):
        raise ValueError(f'WaveGlow WN_config needs exactly the keys {list(WN_CONFIG_KEYS)}, got {sorted(wn_config)}')
    positive = {'n_mel_channels (--n-mel-channels)': n_mel_channels, 'n_flows (--flows)': n_flows,
                'n_group (--groups)': n_group, 'n_early_every (--early-every)': n_early_every,
                'WN_config.n_layers (--wn-layers)': wn_config['n_layers'],
                'WN_config.n_channels (--wn-channels)': wn_config['n_channels'],
                'WN_config.kernel_size (--wn-kernel-size)': wn_config['kernel_size']}
    for name, value in positive.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f'WaveGlow {name} must be a positive integer, got {value!r}')
    if wn_config['kernel_size'] % 2 != 1:
        raise ValueError(f'WaveGlow WN_config.kernel_size (--wn-kernel-size) must be odd, '
                         f"got {wn_config['kernel_size']}")
    # Coupling layers split the channels in two equal halves at every flow.
    if n_group % 2:
        raise ValueError(f'WaveGlow n_group (--groups) must be even, got {n_group}')
    if not isinstance(n_early_size, int) or n_early_size < 0 or n_early_size % 2:
        raise ValueError(f'WaveGlow n_early_size (--early-size) must be a non-negative even integer, '
                         f'got {n_early_size!r}')
    n_exits = (n_flows - 1) // n_early_every
    if n_group - n_exits * n_early_size < 2:
        raise ValueError(f'WaveGlow: {n_exits} early outputs of {n_early_size} channels (--early-every, --early-size) '
                         f'leave fewer than 2 of the {n_group} channels (--groups) for the last flow')


class WaveGlow(nn.Module):
    def __init__(self, n_mel_channels, n_flows, n_group, n_early_every, n_early_size, WN_config):
        super().__init__()
        _check_config(n_mel_channels, n_flows, n_group, n_early_every, n_early_size, WN_config)
        self.n_mel_channels = n_mel_channels
        self.n_flows = n_flows
        self.n_group = n_group
        self.n_early_every = n_early_every
        self.n_early_size = n_early_size
        # group steps that each flow's dilated convolutions reach on either side: sum of dilation * (kernel - 1) / 2
        self.wn_reach = (2 ** WN_config['n_layers'] - 1) * (WN_config['kernel_size'] - 1) // 2

        self.upsample = nn.ConvTranspose1d(n_mel_channels, n_mel_channels, UPSAMPLE_KERNEL, stride=UPSAMPLE_STRIDE)
        self.WN = nn.ModuleList()
        self.convinv = nn.ModuleList()
        n_remaining = n_group
        for k in range(n_flows):
            if self._emits_early(k):
                n_remaining -= n_early_size
            self.convinv.append(Invertible1x1Conv(n_remaining))
            self.WN.append(WN(n_remaining // 2, n_mel_channels * n_group, **WN_config))
        self.n_remaining_channels = n_remaining

    def _emits_early(self, k):
        """Whether n_early_size channels leave the flow just before flow k."""
        return k > 0 and k % self.n_early_every == 0

    def _upsample(self, mel):
        """self.upsample(mel) computed as one matmul and an overlap-add of the kernel's 4 stride-long blocks.

        Same result as the transposed convolution (up to rounding), without its cost on CPU: oneDNN builds a new
        kernel for every input length, measured at 10-30 s on the first call for each new number of frames.
        """
        batch_size, n_mel, n_frames = mel.shape
        weight = self.upsample.weight  # (in, out, kernel)
        n_blocks = UPSAMPLE_KERNEL // UPSAMPLE_STRIDE
        columns = torch.matmul(mel.transpose(1, 2), weight.reshape(n_mel, -1))
        columns = columns.view(batch_size, n_frames, n_mel, n_blocks, UPSAMPLE_STRIDE).permute(0, 2, 1, 3, 4)
        spect = mel.new_zeros(batch_size, n_mel, n_frames + n_blocks - 1, UPSAMPLE_STRIDE)
        for block in range(n_blocks):  # block q of frame t lands at output frame t + q
            spect[:, :, block:block + n_frames] += columns[:, :, :, block]
        return spect.view(batch_size, n_mel, -1) + self.upsample.bias[:, None]

    def _grouped_condition(self, mel, n_samples):
        """mel (B, n_mel, frames) -> upsampled to n_samples and folded: (B, n_mel * n_group, n_samples // n_group).

        Channel m * n_group + j at step t holds mel band m at sample t * n_group + j. The result is a view of
        channels-last memory (B, steps, channels), the layout the WN layers read.
        """
        spect = self._upsample(mel)
        if spect.size(2) < n_samples:
            raise ValueError(f'WaveGlow: {mel.size(2)} mel frames upsample to {spect.size(2)} samples, '
                             f'fewer than the {n_samples} audio samples they must condition')
        n_steps = n_samples // self.n_group
        spect = spect[:, :, :n_steps * self.n_group].reshape(spect.size(0), self.n_mel_channels, n_steps, self.n_group)
        channels_last = spect.permute(0, 2, 1, 3).reshape(spect.size(0), n_steps, self.n_mel_channels * self.n_group)
        return channels_last.transpose(1, 2)

    def forward(self, inputs):
        """(mel (B, n_mel, frames), audio (B, samples)) -> (z, log_s_list, log_det_W_list).

        z (B, n_group, samples // n_group) holds the early outputs first, then the channels of the last flow.
        """
        mel, audio = inputs
        spect = self._grouped_condition(mel, audio.size(1))
        n_steps = spect.size(2)
        audio = audio[:, :n_steps * self.n_group].reshape(audio.size(0), n_steps, self.n_group).transpose(1, 2)

        early_outputs, log_s_list, log_det_W_list = [], [], []
        for k, (convinv, wn) in enumerate(zip(self.convinv, self.WN)):
            if self._emits_early(k):
                early_outputs.append(audio[:, :self.n_early_size])
                audio = audio[:, self.n_early_size:]
            audio, log_det_w = convinv(audio)
            n_half = audio.size(1) // 2
            audio_0, audio_1 = audio[:, :n_half], audio[:, n_half:]
            coupling = wn(audio_0, spect)
            shift, log_s = coupling[:, :n_half], coupling[:, n_half:]
            audio_1 = torch.exp(log_s) * audio_1 + shift
            audio = torch.cat([audio_0, audio_1], 1)
            log_s_list.append(log_s)
            log_det_W_list.append(log_det_w)
        early_outputs.append(audio)
        return torch.cat(early_outputs, 1), log_s_list, log_det_W_list

    def inverse(self, mel, z):
        """Run the flows backwards: z (B, n_group, T) laid out as forward's output -> audio (B, T * n_group)."""
        if z.size(1) != self.n_group:
            raise ValueError(f'WaveGlow.inverse: z must have n_group = {self.n_group} channels, got {z.size(1)}')
        spect = self._grouped_condition(mel, z.size(2) * self.n_group)
        n_waiting = self.n_group - self.n_remaining_channels  # leading channels of z (early outputs) not yet used
        audio = z[:, n_waiting:]
        for k in reversed(range(self.n_flows)):
            n_half = audio.size(1) // 2
            audio_0, audio_1 = audio[:, :n_half], audio[:, n_half:]
            coupling = self.WN[k](audio_0, spect)
            shift, log_s = coupling[:, :n_half], coupling[:, n_half:]
            audio_1 = (audio_1 - shift) / torch.exp(log_s)
            audio = self.convinv[k].inverse(torch.cat([audio_0, audio_1], 1))
            if self._emits_early(k):
                audio = torch.cat([z[:, n_waiting - self.n_early_size:n_waiting], audio], 1)
                n_waiting -= self.n_early_size
        return audio.transpose(1, 2).reshape(audio.size(0), -1)

    def sample_noise(self, batch_size, n_steps, sigma=1.0, dtype=torch.float32, device=None):
        """sigma * N(0, 1) noise z (B, n_group, n_steps), drawn from the global RNG in the reference's order.

        The reference draws the last flow's channels first, then each early output as the reversed flows reach it.
        """
        def draw(channels):
            return torch.randn(batch_size, channels, n_steps, device=device).to(dtype)

        last = draw(self.n_remaining_channels)
        early = [draw(self.n_early_size) for k in reversed(range(self.n_flows)) if self._emits_early(k)]
        return sigma * torch.cat(early[::-1] + [last], 1)

    def receptive_field_samples(self):
        """How many audio samples away a change can move infer's output at sigma 0 (a bound): a mel frame's
        upsampled kernel spans UPSAMPLE_KERNEL samples from the start of its hop, and the inverse runs every flow's
        WN over the output of the one before, each reaching wn_reach steps of n_group samples further."""
        return UPSAMPLE_KERNEL - UPSAMPLE_STRIDE + self.n_flows * self.wn_reach * self.n_group

    @torch.no_grad()
    def infer(self, mel, sigma=1.0):
        """mel (B, n_mel, frames) -> audio (B, frames * 256); sigma scales the noise (0 = deterministic)."""
        n_samples = mel.size(2) * UPSAMPLE_STRIDE
        noise = self.sample_noise(mel.size(0), n_samples // self.n_group, sigma, mel.dtype, mel.device)
        return self.inverse(mel, noise)

    @staticmethod
    def remove_weightnorm(model):
        """Fold weight norm into plain weights for inference (in place; returns the model)."""
        for wn in model.WN:
            _fold_weight_norm(wn.start)
            for conv in (*wn.in_layers, *wn.cond_layers, *wn.res_skip_layers):
                _fold_weight_norm(conv)
        return model
