"""HiFi-GAN's losses: least-squares GAN losses for the discriminators and the generator, feature matching, and
the L1 distance between the log-mels of generated and real audio.

The generator minimises   sum_D mean((1 - D(fake))^2) + FEATURE_LOSS_WEIGHT * sum |fmap_real - fmap_fake|
                          + MEL_LOSS_WEIGHT * L1(mel(fake), mel(real)),
the discriminators        sum_D mean((1 - D(real))^2) + mean(D(fake)^2),
summed over the sub-discriminators of both MPD and MSD.
"""
import torch
import torch.nn.functional as F
from torch import nn

FEATURE_LOSS_WEIGHT = 2
MEL_LOSS_WEIGHT = 45


def discriminator_loss(real_scores, fake_scores):
    """Real scores pulled towards 1, fake ones towards 0."""
    return sum(torch.mean((1 - real) ** 2) + torch.mean(fake ** 2) for real, fake in zip(real_scores, fake_scores))


def generator_loss(fake_scores):
    """-> (total, per sub-discriminator): fake scores pushed towards 1."""
    losses = [torch.mean((1 - fake) ** 2) for fake in fake_scores]
    return sum(losses), losses


def feature_loss(real_fmaps, fake_fmaps):
    """Mean absolute difference of every feature map, summed, times FEATURE_LOSS_WEIGHT."""
    total = sum(torch.mean(torch.abs(real - fake))
                for real_maps, fake_maps in zip(real_fmaps, fake_fmaps) for real, fake in zip(real_maps, fake_maps))
    return FEATURE_LOSS_WEIGHT * total


class MelLoss(nn.Module):
    """L1 between the log-mel of generated audio and a target log-mel (the loss mel, full band). Unweighted: the
    validation loss; the generator's objective takes it MEL_LOSS_WEIGHT times."""

    def __init__(self, loss_mel):
        super().__init__()
        self.loss_mel = loss_mel

    def forward(self, generated_audio, targets):
        """generated_audio (B, 1, T); targets = (real audio (B, 1, T), its loss mel (B, n_mel, T // hop))."""
        _, target_mel = targets
        return F.l1_loss(self.loss_mel(generated_audio.squeeze(1)), target_mel)
