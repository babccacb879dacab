"""The stacked networks of NID: N small MLPs, one per instance, held and updated as one.

``linear(mask) + MLP(mask)`` per instance. Each instance's parameters are one row of an (N, size)
tensor (:class:`StackLayout`), used through (N, in, out) weight views in batched products; the
gradient is written out (:func:`loss_gradient`) and Adam updates the whole stack at once
(:class:`StackedAdam`). Every operation treats each instance on its own, so an instance's numbers
do not depend on the stack around it. Trained by :mod:`.training`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["StackLayout", "StackedAdam", "forward", "init_params", "loss_gradient", "weighted_mse"]


class StackLayout:
    """Where each layer's weights and biases sit in one flat parameter row per instance.

    All of an instance's parameters share one row of an ``(N, size)`` tensor, so Adam,
    early-stopping copies and dropping stopped instances are one operation each instead of one
    per layer. The linear (main-effect) part rides along as one more column of the first layer,
    ``(p, h1 + 1)`` with bias ``(1, h1 + 1)``, outside the ReLU: one product serves both.
    """

    def __init__(self, sizes: Sequence[int]):
        self.sizes = list(sizes)
        self.n_layers = len(sizes) - 1
        self.h1 = sizes[1]
        self.slices: list[tuple[slice, tuple[int, int]]] = []  # (weights, shape), (bias, shape), ...
        offset = 0
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            width = fan_out + 1 if layer == 0 else fan_out
            for shape in ((fan_in, width), (1, width)):
                self.slices.append((slice(offset, offset + shape[0] * shape[1]), shape))
                offset += shape[0] * shape[1]
        self.size = offset

    def views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """(N, size) -> per part (N, *shape), views: (w, b) per layer, the first with the linear column."""
        return [flat[:, s].view(flat.shape[0], *shape) for s, shape in self.slices]

    def mlp_weights(self, parts: list[torch.Tensor]) -> list[torch.Tensor]:
        """The MLP's weight matrices (N, in, out), without the linear column."""
        return [parts[0][:, :, : self.h1], *(parts[2 * layer] for layer in range(1, self.n_layers))]

    def linear(self, parts: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """The linear part's weights (N, p, 1) and bias (N, 1, 1)."""
        return parts[0][:, :, self.h1 :], parts[1][:, :, self.h1 :]


def init_params(
    n_inst: int,
    layout: StackLayout,
    input_init_scale: float,
    gen: torch.Generator,
    dtype: torch.dtype,
) -> torch.Tensor:
    """PyTorch's default ``nn.Linear`` initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Every instance starts from the same draw (its network is trained on its own data only, and
    its start does not depend on the batch around it). The first layer's weights are scaled by
    ``input_init_scale``; the linear part is left at zero (the caller sets it). Returns the
    (N, size) flat parameters.
    """
    flat = torch.zeros((1, layout.size), dtype=dtype)
    parts = layout.views(flat)
    weights = layout.mlp_weights(parts)
    biases = [parts[1][:, :, : layout.h1], *(parts[2 * layer + 1] for layer in range(1, layout.n_layers))]
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        bound = 1.0 / math.sqrt(w.shape[1])
        w.copy_((torch.rand(w.shape, generator=gen, dtype=dtype) * 2 - 1) * bound)
        b.copy_((torch.rand(b.shape, generator=gen, dtype=dtype) * 2 - 1) * bound)
        if layer == 0:
            w.mul_(input_init_scale)
    return flat.expand(n_inst, -1).clone()


def _hidden(x: torch.Tensor, parts: list[torch.Tensor], layout: StackLayout) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Activations of the hidden ReLU layers ((N, B, h_l) each, input first) and the linear part (N, B)."""
    first = torch.baddbmm(parts[1], x, parts[0])  # (N, B, h1 + 1): units, then the linear part
    acts = [x, torch.relu(first[:, :, : layout.h1])]
    for layer in range(1, layout.n_layers - 1):
        acts.append(torch.relu(torch.baddbmm(parts[2 * layer + 1], acts[-1], parts[2 * layer])))
    return acts, first[:, :, layout.h1]


def _one_output(h: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``h @ w + b`` for one output unit: (N, B, k), (N, k, 1), (N, 1, 1) -> (N, B).

    A product and a sum over the last axis rather than a batched matrix product: with one output
    column, the batched product takes another code path for one matrix than for many, so an
    instance's numbers would depend on the batch around it.
    """
    return (h * w.transpose(1, 2)).sum(dim=-1) + b[:, :, 0]


def forward(x: torch.Tensor, parts: list[torch.Tensor], layout: StackLayout) -> torch.Tensor:
    """Stacked forward pass: x (N, B, p) -> (N, B). ``parts`` as from :meth:`StackLayout.views`."""
    acts, linear = _hidden(x, parts, layout)
    return _one_output(acts[-1], parts[-2], parts[-1]) + linear


def loss_gradient(
    x: torch.Tensor,
    y: torch.Tensor,
    w: torch.Tensor,
    flat: torch.Tensor,
    layout: StackLayout,
    l1: float,
    grad: torch.Tensor,
) -> None:
    """Gradient of each instance's weighted MSE plus ``l1`` times its MLP weights' L1 norm.

    Backpropagation written out for the stacked network (a fraction of autograd's overhead on
    these small matrices); fills ``grad`` (N, size) in the layout of ``flat``. The L1 term's
    gradient is ``sign(w)`` (0 at 0, as autograd's ``abs``). Every operation treats each
    instance on its own, so its gradient does not depend on the other instances in the stack.
    """
    parts = layout.views(flat)
    grads = layout.views(grad)
    n_layers = layout.n_layers
    acts, linear = _hidden(x, parts, layout)
    pred = _one_output(acts[-1], parts[-2], parts[-1]) + linear
    g = 2.0 * w * (pred - y) / w.sum(dim=1, keepdim=True).clamp_min(1e-12)  # (N, B)
    grads[-2].copy_((acts[-1] * g[:, :, None]).sum(dim=1)[:, :, None])  # output unit
    grads[-1].copy_(g.sum(dim=1)[:, None, None])
    g_units = torch.ops.aten.threshold_backward(g[:, :, None] * parts[-2].transpose(1, 2), acts[-1], 0.0)
    for layer in range(n_layers - 2, 0, -1):
        a_in = acts[layer]
        grads[2 * layer].copy_(torch.bmm(a_in.transpose(1, 2), g_units))
        grads[2 * layer + 1].copy_(g_units.sum(dim=1, keepdim=True))
        g_units = torch.ops.aten.threshold_backward(torch.bmm(g_units, parts[2 * layer].transpose(1, 2)), a_in, 0.0)
    g_first = torch.cat([g_units, g[:, :, None]], dim=2)  # the units, then the linear part
    grads[0].copy_(torch.bmm(x.transpose(1, 2), g_first))
    grads[1].copy_(g_first.sum(dim=1, keepdim=True))
    if l1 > 0:
        for w_grad, w_value in zip(layout.mlp_weights(grads), layout.mlp_weights(parts), strict=True):
            w_grad.add_(torch.sign(w_value), alpha=l1)


def weighted_mse(
    x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, parts: list[torch.Tensor], layout: StackLayout
) -> torch.Tensor:
    """Per-instance weighted mean squared error of the stacked networks, shape (N,)."""
    pred = forward(x, parts, layout)
    return (w * (pred - y) ** 2).sum(dim=1) / w.sum(dim=1).clamp_min(1e-12)


class StackedAdam:
    """Adam on stacked per-instance parameters, one flat row per instance (dim 0 = instance).

    Adam is elementwise, so one optimiser over the stack equals N independent optimisers.
    :meth:`keep` drops the rows (instances) that stopped training.
    """

    def __init__(
        self,
        params: torch.Tensor,
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params = params
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.m = torch.zeros_like(params)
        self.v = torch.zeros_like(params)
        self.t = 0

    @torch.no_grad()
    def step(self, grad: torch.Tensor) -> None:
        self.t += 1
        c1 = 1 - self.beta1**self.t
        c2 = 1 - self.beta2**self.t
        self.m.mul_(self.beta1).add_(grad, alpha=1 - self.beta1)
        self.v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        denom = (self.v / c2).sqrt_().add_(self.eps)
        self.params.addcdiv_(self.m, denom, value=-self.lr / c1)

    @torch.no_grad()
    def keep(self, rows: torch.Tensor) -> None:
        """Keep only the instances where ``rows`` (bool, shape (n_working,)) is True."""
        self.params = self.params[rows]
        self.m = self.m[rows]
        self.v = self.v[rows]
