"""common/lamb.py against the LAMB formula written out here in float64, plus a tiny training run."""
import math

import pytest
import torch

from common.lamb import Lamb


def lamb_by_hand(params, grads_per_step, lr, betas, eps, weight_decay, max_grad_norm, use_nvlamb=False):
    """The update rule of common/lamb.py's docstring, one number at a time."""
    beta1, beta2 = betas
    params = [p.double().flatten().tolist() for p in params]
    m = [[0.0] * len(p) for p in params]
    v = [[0.0] * len(p) for p in params]
    for t, grads in enumerate(grads_per_step, start=1):
        grads = [g.double().flatten().tolist() for g in grads]
        total = math.sqrt(sum(x * x for g in grads for x in g))
        divisor = max(1.0, total / max_grad_norm) if max_grad_norm else 1.0
        for p, g, m_i, v_i in zip(params, grads, m, v):
            update = []
            for k in range(len(p)):
                gk = g[k] / divisor
                m_i[k] = beta1 * m_i[k] + (1 - beta1) * gk
                v_i[k] = beta2 * v_i[k] + (1 - beta2) * gk * gk
                m_hat, v_hat = m_i[k] / (1 - beta1 ** t), v_i[k] / (1 - beta2 ** t)
                update.append(m_hat / (math.sqrt(v_hat) + eps) + weight_decay * p[k])
            p_norm, u_norm = math.sqrt(sum(x * x for x in p)), math.sqrt(sum(x * x for x in update))
            trust = p_norm / u_norm if (weight_decay or use_nvlamb) and p_norm > 0 and u_norm > 0 else 1.0
            for k in range(len(p)):
                p[k] -= lr * trust * update[k]
    return params


def run_lamb(initial, grads_per_step, **kwargs):
    params = [torch.nn.Parameter(p.clone()) for p in initial]
    optimizer = Lamb(params, **kwargs)
    for grads in grads_per_step:
        for param, grad in zip(params, grads):
            param.grad = grad.clone()
        optimizer.step()
    return [p.detach().double().flatten().tolist() for p in params]


def random_case(seed, zero_param=False):
    generator = torch.Generator().manual_seed(seed)
    initial = [torch.randn(2, 3, generator=generator), torch.randn(4, generator=generator)]
    if zero_param:
        initial[1].zero_()  # ||p|| = 0: the trust ratio falls back to 1
    grads = [[torch.randn(2, 3, generator=generator) * 3, torch.randn(4, generator=generator)] for _ in range(4)]
    return initial, grads


@pytest.mark.parametrize('weight_decay, max_grad_norm, zero_param', [
    (0.01, 1.0, False),   # gradients pre-normalised (their global norm is above 1)
    (0.1, 1000.0, False),  # no pre-normalisation
    (0.01, 0.0, True),    # pre-normalisation off, a zero tensor
    (0.0, 1.0, False),    # no weight decay: no trust ratio, as apex
])
def test_steps_match_the_formula(weight_decay, max_grad_norm, zero_param):
    initial, grads = random_case(seed=0, zero_param=zero_param)
    settings = dict(lr=0.05, betas=(0.9, 0.98), eps=1e-6, weight_decay=weight_decay, max_grad_norm=max_grad_norm)
    got = run_lamb(initial, grads, **settings)
    expected = lamb_by_hand(initial, grads, **settings)
    for got_tensor, expected_tensor in zip(got, expected):
        assert got_tensor == pytest.approx(expected_tensor, rel=1e-5, abs=1e-6)


def test_zero_update_leaves_the_parameter_alone_under_nvlamb():
    initial = [torch.ones(3), torch.randn(3)]
    grads = [[torch.zeros(3), torch.randn(3)] for _ in range(2)]  # m stays 0 and there is no decay: ||r|| = 0
    settings = dict(lr=0.1, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, max_grad_norm=1.0, use_nvlamb=True)
    got = run_lamb(initial, grads, **settings)
    assert got[0] == [1.0, 1.0, 1.0]
    assert got[1] == pytest.approx(lamb_by_hand(initial, grads, **settings)[1], rel=1e-5)


def test_without_decay_or_prenormalisation_it_is_adam():
    initial, grads = random_case(seed=3)
    got = run_lamb(initial, grads, lr=0.01, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.0, max_grad_norm=0.0)
    params = [torch.nn.Parameter(p.clone()) for p in initial]
    adam = torch.optim.Adam(params, lr=0.01, betas=(0.9, 0.98), eps=1e-9)
    for step_grads in grads:
        for param, grad in zip(params, step_grads):
            param.grad = grad.clone()
        adam.step()
    for got_tensor, param in zip(got, params):
        assert got_tensor == pytest.approx(param.detach().double().flatten().tolist(), rel=1e-5)


def test_state_dict_resumes_exactly():
    initial, grads = random_case(seed=5)
    straight = run_lamb(initial, grads, lr=0.05, weight_decay=0.01)
    params = [torch.nn.Parameter(p.clone()) for p in initial]
    first = Lamb(params, lr=0.05, weight_decay=0.01)
    resumed = Lamb(params, lr=0.05, weight_decay=0.01)
    for step, step_grads in enumerate(grads):
        if step == 2:
            resumed.load_state_dict(first.state_dict())
        for param, grad in zip(params, step_grads):
            param.grad = grad.clone()
        (first if step < 2 else resumed).step()
    assert [p.detach().double().flatten().tolist() for p in params] == straight


def test_trains_a_tiny_regression():
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(64, 4, generator=generator)
    targets = inputs @ torch.tensor([[1.5], [-2.0], [0.5], [3.0]])
    torch.manual_seed(0)  # the initial weights, whatever ran before
    # no bias: the trust ratio scales a step by the parameter's own norm, so a bias that starts near zero barely
    # moves under LAMB (a property of the method, not of this implementation)
    model = torch.nn.Linear(4, 1, bias=False)
    optimizer = Lamb(model.parameters(), lr=0.05, betas=(0.9, 0.98), eps=1e-9, weight_decay=1e-6)
    losses = []
    for _ in range(300):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 1e-2 * losses[0]


@pytest.mark.parametrize('kwargs, problem', [
    ({'lr': -1.0}, 'invalid lr -1.0'),
    ({'betas': (0.9, 1.0)}, r'invalid betas \(0.9, 1.0\)'),
    ({'max_grad_norm': -1.0}, 'invalid max_grad_norm -1.0'),
])
def test_invalid_settings_are_named(kwargs, problem):
    with pytest.raises(ValueError, match=problem):
        Lamb([torch.nn.Parameter(torch.ones(1))], **kwargs)
