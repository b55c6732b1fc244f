"""fairscale's MOELayer (GShard): each layer, numbered in the order the layers are built,
records per-expert token counts from its gate's dispatch mask (the tokens each expert really
gets, after the capacity limit), its expert placement (local experts of rank r are experts
r*L .. r*L+L-1 of its group), expert compute spans, and is the layer of the two all-to-alls
of its forward (dispatch, then combine). The all-to-alls of its backward are recorded with
the layer of their forward and phase "other"."""

import functools

from .. import _abi
from .all_to_all import group_ranks
from .routers import add_compute_spans


def install(moe_layer_module, runtime):
    MOELayer = moe_layer_module.MOELayer
    AllToAll = moe_layer_module._AllToAll
    guard = runtime.guard("fairscale MOELayer")
    original_init = MOELayer.__init__
    layers = []

    def attach(layer_module):
        import torch.distributed as dist

        layer = len(layers)
        layers.append(layer)
        layer_module._moeprof_layer = layer
        local = layer_module.num_local_experts
        world = layer_module.world_size
        num_experts = local * world
        runtime.declare_layer(layer, num_experts, 2)
        layer_module.register_forward_pre_hook(guard.hook(lambda m, i: runtime.enter_layer(m._moeprof_layer)))
        layer_module.register_forward_hook(guard.hook(lambda m, i, o: runtime.exit_layer()))
        layer_module.gate.register_forward_hook(guard.hook(lambda m, i, o: record_counts(layer, o)))
        group = layer_module.group
        ranks = group_ranks(dist, group) or list(range(world))
        runtime.agent.set_placement(layer, list(range(num_experts)), [ranks[e // local] for e in range(num_experts)])
        if "compute" in runtime.settings.hooks:
            add_compute_spans(runtime, layer_module.gate, layer, "gate", "gate")
            # Named by global expert, as the placement numbers them: local expert j of this
            # rank is expert first + j of the layer.
            first = dist.get_rank(group) * local
            for j, expert in enumerate(layer_module.experts):
                add_compute_spans(runtime, expert, layer, "expert", f"expert {first + j}")
        wg = getattr(layer_module.gate, "wg", None)
        runtime.update_topology(num_layers=len(layers), num_experts=num_experts, top_k=2, ep_size=world,
                                hidden_size=getattr(wg, "in_features", None), model_name="fairscale MOELayer")

    def record_counts(layer, gate_output):
        if not runtime.agent.enabled():
            return
        dispatch_mask = gate_output[2]  # (l_aux, combine_weights, dispatch_mask[tokens, experts, capacity])
        runtime.record_counts(layer, dispatch_mask.detach().sum(dim=(0, 2)))

    @functools.wraps(original_init)
    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        guard.run(attach, self)

    MOELayer.__init__ = init

    original_forward = AllToAll.forward
    original_backward = AllToAll.backward

    def forward(ctx, *args):
        ctx.moeprof_layer = runtime.thread.layer
        return original_forward(ctx, *args)

    def backward(ctx, *grad_output):
        state = runtime.thread
        saved = state.layer, state.phase
        state.layer, state.phase = getattr(ctx, "moeprof_layer", -1), _abi.PHASE_OTHER
        try:
            return original_backward(ctx, *grad_output)
        finally:
            state.layer, state.phase = saved

    AllToAll.forward = staticmethod(forward)
    AllToAll.backward = staticmethod(backward)
