"""LAMB optimizer (You et al., 2019), behaving like apex's FusedLAMB that FastPitch 1.0 trains with.

One step, with t counting the steps of the parameter group:
  1. gradient pre-normalisation: every gradient is divided by max(1, G / max_grad_norm), G being the L2 norm of
     all gradients of all groups together (apex does this inside FusedLAMB, default max_grad_norm=1.0, and
     FastPitch keeps that default; max_grad_norm=0 turns it off);
  2. Adam moments m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, and with bias_correction (apex default)
     m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t);
  3. update r = m_hat / (sqrt(v_hat) + eps) + weight_decay * p (decoupled decay, apex's adam_w_mode=True);
  4. trust ratio q = ||p|| / ||r|| per tensor, 1 when either norm is 0; like apex it is used only for groups with
     weight_decay != 0 (use_nvlamb=True uses it everywhere), otherwise q = 1 and the step is AdamW's;
  5. p = p - lr * q * r.
Defaults are apex's; FastPitch passes betas (0.9, 0.98), eps 1e-9 and its --weight-decay.
"""
import torch


class Lamb(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.01,
                 bias_correction=True, max_grad_norm=1.0, use_nvlamb=False):
        checks = {'lr': lr >= 0, 'betas': all(0 <= b < 1 for b in betas), 'eps': eps >= 0,
                  'weight_decay': weight_decay >= 0, 'max_grad_norm': max_grad_norm >= 0}
        for name, valid in checks.items():
            if not valid:
                raise ValueError(f'Lamb: invalid {name} {locals()[name]!r}')
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      bias_correction=bias_correction, use_nvlamb=use_nvlamb))
        self.max_grad_norm = max_grad_norm  # one threshold for the global norm, so not a per-group setting

    def _gradient_divisor(self):
        """max(1, G / max_grad_norm) for the global gradient norm G (a tensor: no host synchronisation)."""
        grads = [p.grad for group in self.param_groups for p in group['params'] if p.grad is not None]
        if not grads or self.max_grad_norm == 0:
            return 1.0
        total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
        return torch.clamp(total / self.max_grad_norm, min=1.0)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        divisor = self._gradient_divisor()
        for group in self.param_groups:
            group['step'] = group.get('step', 0) + 1
            params = [param for param in group['params'] if param.grad is not None]
            if any(param.grad.is_sparse for param in params):
                raise RuntimeError('Lamb does not support sparse gradients')
            if params:
                self._update(group, params, divisor)
        return loss

    def _update(self, group, params, divisor):
        """Steps 2-5 for the parameters of one group, each as one multi-tensor (foreach) operation over all of them:
        the same arithmetic as a loop over the tensors, without a Python loop of ten small operations per tensor."""
        beta1, beta2 = group['betas']
        correction1 = 1 - beta1 ** group['step'] if group['bias_correction'] else 1.0
        correction2 = 1 - beta2 ** group['step'] if group['bias_correction'] else 1.0
        for param in params:
            if not self.state[param]:
                self.state[param]['exp_avg'] = torch.zeros_like(param)
                self.state[param]['exp_avg_sq'] = torch.zeros_like(param)
        exp_avgs = [self.state[param]['exp_avg'] for param in params]
        exp_avg_sqs = [self.state[param]['exp_avg_sq'] for param in params]
        grads = torch._foreach_div([param.grad for param in params], divisor)
        torch._foreach_mul_(exp_avgs, beta1)
        torch._foreach_add_(exp_avgs, grads, alpha=1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, value=1 - beta2)
        del grads  # each temporary list is as large as the model: hold at most two at once
        denominators = torch._foreach_div(exp_avg_sqs, correction2)
        torch._foreach_sqrt_(denominators)
        torch._foreach_add_(denominators, group['eps'])
        updates = torch._foreach_div(exp_avgs, correction1)
        torch._foreach_div_(updates, denominators)
        del denominators
        torch._foreach_add_(updates, params, alpha=group['weight_decay'])
        if group['weight_decay'] != 0 or group['use_nvlamb']:
            param_norms = torch.stack(torch._foreach_norm(params))
            update_norms = torch.stack(torch._foreach_norm(updates))
            usable = (param_norms > 0) & (update_norms > 0)
            trust = torch.where(usable, param_norms / update_norms, torch.ones_like(param_norms))
            torch._foreach_mul_(updates, list(trust.unbind()))
        torch._foreach_add_(params, updates, alpha=-group['lr'])
