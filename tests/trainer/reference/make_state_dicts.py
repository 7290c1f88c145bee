#!/usr/bin/env python3
"""Writes the fixtures of the reference-import test with Debian's python3-torch.

The reference Python code of arXiv:2402.15558 keeps its conditional flow in a
module whose state dict names the three blocks net.mlps1, net.mlp1 and net.mlp2
(linear layers at indices 0, 2 and 4 of each, ELU between them) and the time
frequencies in a buffer `freqs`; with Flipout layers every linear layer holds
mu_weight, rho_weight, mu_bias and rho_bias instead, next to the buffers of its
prior and noise. This script builds state dicts of that shape with random
weights (fixed seed), saves each as a plain dict of tensors with torch.save, and
records the velocity field v(t, x, c) and dv/dx computed by PyTorch at a few
points, so that the C++ test can check what it imports against PyTorch itself.

    python3 tests/trainer/reference/make_state_dicts.py tests/trainer/reference
"""
import collections
import json
import math
import sys

import torch

N_CONDITIONS = 6
WIDTH = 64
FREQUENCIES = 3
BLOCK_NAMES = ["mlps1", "mlp1", "mlp2"]


def block_shapes(width=WIDTH):
    """(input, output) of each linear layer, block by block."""
    embedding = 2 * FREQUENCIES
    shapes = []
    for block in range(len(BLOCK_NAMES)):
        first_in = (1 if block == 0 else width) + embedding + N_CONDITIONS
        last_out = 1 if block == len(BLOCK_NAMES) - 1 else width
        shapes.append([(first_in, width), (width, width), (width, last_out)])
    return shapes


def plain_state_dict(generator, width=WIDTH):
    state = {}
    for name, layers in zip(BLOCK_NAMES, block_shapes(width)):
        for index, (n_in, n_out) in zip((0, 2, 4), layers):
            bound = 1.0 / math.sqrt(n_in)
            weight = (torch.rand(n_out, n_in, generator=generator) * 2 - 1) * bound
            bias = (torch.rand(n_out, generator=generator) * 2 - 1) * bound
            state[f"net.{name}.{index}.weight"] = weight
            state[f"net.{name}.{index}.bias"] = bias
    state["freqs"] = torch.arange(1, FREQUENCIES + 1) * torch.pi
    return state


def flipout_state_dict(generator):
    state = {}
    for name, layers in zip(BLOCK_NAMES, block_shapes()):
        for index, (n_in, n_out) in zip((0, 2, 4), layers):
            bound = 1.0 / math.sqrt(n_in)
            prefix = f"net.{name}.{index}."
            state[prefix + "mu_weight"] = (torch.rand(n_out, n_in, generator=generator) * 2 - 1) * bound
            state[prefix + "rho_weight"] = -4.0 + 0.5 * torch.randn(n_out, n_in, generator=generator)
            state[prefix + "mu_bias"] = (torch.rand(n_out, generator=generator) * 2 - 1) * bound
            state[prefix + "rho_bias"] = -4.0 + 0.5 * torch.randn(n_out, generator=generator)
            # buffers a Flipout layer carries besides its parameters
            state[prefix + "eps_weight"] = torch.zeros(n_out, n_in)
            state[prefix + "eps_bias"] = torch.zeros(n_out)
            state[prefix + "prior_weight_mu"] = torch.zeros(n_out, n_in)
            state[prefix + "prior_weight_sigma"] = torch.ones(n_out, n_in)
            state[prefix + "prior_bias_mu"] = torch.zeros(n_out)
            state[prefix + "prior_bias_sigma"] = torch.ones(n_out)
    state["freqs"] = torch.arange(1, FREQUENCIES + 1) * torch.pi
    return state


def velocity(state, suffix, t, x, c):
    """The reference's forward pass in float64: before every block the input is
    [cos(freqs t), sin(freqs t), state, conditions]; ELU inside a block only."""
    angles = state["freqs"].double() * t[:, None]
    embedding = torch.cat([angles.cos(), angles.sin()], dim=-1)
    hidden = x[:, None]
    for name in BLOCK_NAMES:
        hidden = torch.cat([embedding, hidden, c], dim=-1)
        for position, index in enumerate((0, 2, 4)):
            weight = state[f"net.{name}.{index}.{suffix[0]}"].double()
            bias = state[f"net.{name}.{index}.{suffix[1]}"].double()
            hidden = hidden @ weight.T + bias
            if position < 2:
                hidden = torch.nn.functional.elu(hidden)
    return hidden[:, 0]


def expected_values(state, suffix, generator):
    n = 12
    t = torch.rand(n, generator=generator, dtype=torch.float64)
    t[0], t[1] = 0.0, 1.0
    x = torch.randn(n, generator=generator, dtype=torch.float64).requires_grad_()
    c = torch.randn(n, N_CONDITIONS, generator=generator, dtype=torch.float64)
    c[:, 0] = torch.where(c[:, 0] > 0, 1.0, -1.0)  # the label, mapped to -1 and +1
    v = velocity(state, suffix, t, x, c)
    (dv_dx,) = torch.autograd.grad(v.sum(), x)
    return {
        "times": t.tolist(),
        "states": x.detach().tolist(),
        "conditions": c.flatten().tolist(),
        "velocity": v.detach().tolist(),
        "derivative": dv_dx.tolist(),
    }


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "."
    generator = torch.Generator().manual_seed(2402)
    plain = plain_state_dict(generator)
    flipout = flipout_state_dict(generator)
    torch.save(plain, f"{directory}/reference_plain.pt")
    torch.save(flipout, f"{directory}/reference_flipout.pt")

    rho = torch.cat([value.flatten() for key, value in flipout.items() if ".rho_" in key])
    expected = {
        "torch_version": torch.__version__,
        "plain": expected_values(plain, ("weight", "bias"), generator),
        "flipout_mean": expected_values(flipout, ("mu_weight", "mu_bias"), generator),
        "flipout_mean_sigma": torch.nn.functional.softplus(rho.double()).mean().item(),
        "n_weights": sum(value.numel() for key, value in plain.items() if key != "freqs"),
    }
    # Small files (width 8) for the import's other cases: one in float64, one saved as
    # the OrderedDict that state_dict() returns (LibTorch cannot read it), broken ones.
    small = plain_state_dict(generator, width=8)
    torch.save(collections.OrderedDict(small), f"{directory}/reference_ordered.pt")
    torch.save({key: value.double() for key, value in small.items()},
               f"{directory}/reference_double.pt")
    broken = dict(small)
    broken["net.mlp1.2.weight"] = torch.zeros(8, 7)
    torch.save(broken, f"{directory}/reference_bad_shape.pt")
    broken = dict(small)
    del broken["net.mlp1.2.bias"]
    torch.save(broken, f"{directory}/reference_missing_bias.pt")
    broken = dict(small)
    broken["net.mlp1.6.weight"] = torch.zeros(8, 8)
    torch.save(broken, f"{directory}/reference_extra_layer.pt")
    broken = dict(small)
    broken["net.mlps1.0.weight"] = torch.full((8, 13), float("nan"))
    torch.save(broken, f"{directory}/reference_nan.pt")
    broken = dict(small)
    del broken["freqs"]
    torch.save(broken, f"{directory}/reference_no_freqs.pt")
    torch.save(small["net.mlps1.0.weight"], f"{directory}/reference_tensor.pt")

    with open(f"{directory}/reference_expected.json", "w") as stream:
        json.dump(expected, stream, indent=1)
        stream.write("\n")


if __name__ == "__main__":
    main()
