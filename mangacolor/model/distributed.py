"""Multi-process training (``training.processes``): the torch.distributed process group that torchrun starts, the
sums every process needs, and a BatchNorm whose training statistics are those of the global batch.

``mangacolor train --processes N`` runs under ``torchrun --standalone --nproc_per_node N``: each process trains on
1/N of every global batch (``DistributedSampler``), DistributedDataParallel averages the gradients, and process 0
writes the checkpoint, model and history. Backends: gloo on CPU, nccl on CUDA (one GPU per process).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class Group:
    """This process's place in the training: ``rank`` of ``world`` processes, ``local_rank`` on its node."""
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Process 0: the one that logs and writes files."""
        return self.rank == 0


def start(processes: int, device: torch.device) -> Group:
    """Join the process group torchrun set up (env WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT).

    ``processes`` 1 needs no group and starts none. Raises RuntimeError when the environment was not started by
    ``torchrun --nproc_per_node processes``."""
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if processes == 1:
        if world != 1:
            raise RuntimeError(f"training.processes is 1 but WORLD_SIZE is {world}: launch without torchrun")
        return Group()
    if world != processes:
        raise RuntimeError(f"training.processes {processes} needs `torchrun --nproc_per_node {processes}` "
                           f"(WORLD_SIZE is {world})")
    local_rank = int(os.environ["LOCAL_RANK"])
    if device.type == "cuda":
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Group(dist.get_rank(), dist.get_world_size(), local_rank)


def stop(group: Group) -> None:
    """Leave the process group, if this process joined one."""
    if group.world > 1 and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(values: list[float], group: Group, device: torch.device) -> list[float]:
    """Each value summed over every process (float64); the values themselves with one process."""
    if group.world == 1:
        return [float(v) for v in values]
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


class _Sum(torch.autograd.Function):
    """A tensor summed over every process, differentiably: the gradient of a sum is the sum of the gradients."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        out = tensor.clone()
        dist.all_reduce(out)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training-mode statistics (and running statistics) are those of the global batch over every
    process, gradients included: N processes then train exactly as one process with the whole batch.

    torch's SyncBatchNorm does this on GPUs only; this one sums with a differentiable all-reduce, so it runs on gloo
    (CPU) and nccl alike. Mean first, then the variance around it (two sums:
    raw activations span orders of magnitude, and E[x^2] - E[x]^2 would cancel). Outside a process group, or in
    eval mode, it is a plain BatchNorm2d; its state dict is BatchNorm2d's.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
            return super().forward(x)
        c = x.shape[1]
        dims = [0, *range(2, x.ndim)]
        count = torch.tensor([x.numel() // c], dtype=torch.float64, device=x.device)
        total = _Sum.apply(torch.cat([x.sum(dims, dtype=torch.float64), count]))
        n = total[-1]
        mean = (total[:c] / n).to(x.dtype)
        shape = (1, c) + (1,) * (x.ndim - 2)
        centred = x - mean.view(shape)
        var = (_Sum.apply(centred.square().sum(dims, dtype=torch.float64)) / n).to(x.dtype)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - factor).add_(factor * mean)
                self.running_var.mul_(1 - factor).add_(factor * var * (n / (n - 1)).to(x.dtype))
        y = centred * torch.rsqrt(var + self.eps).view(shape)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y


def global_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every BatchNorm2d replaced in place by a GlobalBatchNorm2d holding the same parameters and
    buffers (so state dicts load either way)."""
    for name, child in module.named_children():
        if type(child) is nn.BatchNorm2d:
            bn = GlobalBatchNorm2d(child.num_features, child.eps, child.momentum, child.affine,
                                   child.track_running_stats)
            bn.load_state_dict(child.state_dict())
            bn.to(next(child.buffers(), torch.empty(0)).device)
            setattr(module, name, bn)
        else:
            global_batchnorm(child)
    return module
