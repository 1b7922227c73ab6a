"""Learning-rate schedules of the reference recipes, as plain functions of the epoch or step.

Tacotron 2 and WaveGlow (DLE): step annealing by epoch. p counts the `anneal_steps` the epoch has reached
(epoch >= step). The multiplier is anneal_factor ** p, except that the factor 0.3 is read as "alternate 0.3 and
0.1 per decade": 0.1 ** (p // 2) * (0.3 if p is odd else 1), i.e. 1, 0.3, 0.1, 0.03, 0.01, ...

FastPitch 1.0: linear warm-up, then inverse square-root decay, with steps counted from 1:
scale = step / warmup_steps ** 1.5 while step <= warmup_steps, step ** -0.5 after, and 1 when warmup_steps is 0.
The two branches meet at step = warmup_steps, where lr peaks at base_lr / sqrt(warmup_steps).

HiFi-GAN: exponential decay by epoch, base_lr * gamma ** epoch (epoch 0-based), as torch's ExponentialLR stepped
once after every epoch; gamma 1 keeps the base rate.
"""


def anneal_lr(base_lr, epoch, anneal_steps, anneal_factor):
    reached = sum(1 for step in anneal_steps if epoch >= int(step))
    if anneal_factor == 0.3:
        return base_lr * 0.1 ** (reached // 2) * (0.3 if reached % 2 else 1.0)
    return base_lr * anneal_factor ** reached


def warmup_inverse_sqrt(base_lr, step, warmup_steps):
    if step < 1 or warmup_steps < 0:
        raise ValueError(f'warmup_inverse_sqrt: steps count from 1 and warm-up is not negative '
                         f'(got step {step}, warmup_steps {warmup_steps})')
    if warmup_steps == 0:
        return base_lr
    if step <= warmup_steps:
        return base_lr * step / warmup_steps ** 1.5
    return base_lr * step ** -0.5


def exponential_decay(base_lr, epoch, gamma):
    return base_lr * gamma ** epoch
