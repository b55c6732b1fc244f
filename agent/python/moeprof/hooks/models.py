"""Attaching to a whole model: its MoE layers (hooks/routers.py) numbered 0.. in module order,
the model shape as the trace's topology, and its outermost forward as a step boundary
(MOEPROF_PYTHON_STEP=forward, or auto without an optimizer). Used for every transformers
model as it is built, and by moeprof.attach() for any other."""

from . import routers


def attach_model(runtime, root, config=None):
    if getattr(root, "_moeprof_root", False):
        return
    root._moeprof_root = True
    known = sorted({m._moeprof_layer for m in root.modules() if hasattr(m, "_moeprof_layer")})
    new_blocks = [b for b in routers.find_moe_blocks(root) if not hasattr(b.module, "_moeprof_layer")]
    first = known[-1] + 1 if known else 0
    specs = routers.attach_blocks(runtime, new_blocks, first, config, compute="compute" in runtime.settings.hooks)
    layers = known + [s.layer for s in specs]
    name = (getattr(config, "model_type", None) or type(root).__name__) if config is not None else type(root).__name__
    if not layers:
        key = id(config) if config is not None else id(root)
        runtime.note(f"no MoE layer found in {type(root).__name__} ({name}): none of its modules has a list of "
                     f"experts next to a router; nothing routed is recorded for it", once_key=("no-moe", key))
        return
    _add_root_hooks(runtime, root)
    runtime.steps.roots_attached = True
    shapes = [runtime.layers[layer] for layer in layers]
    hidden = getattr(config, "hidden_size", None) if config is not None else None
    shared = getattr(config, "n_shared_experts", None) if config is not None else None
    if shared is None and config is not None:
        shared = 1 if getattr(config, "shared_expert_intermediate_size", None) else 0
    runtime.update_topology(num_layers=len(layers), num_experts=max(s.num_experts for s in shapes),
                            top_k=shapes[0].top_k if shapes[0].top_k is not None else -1,
                            num_shared_experts=shared if isinstance(shared, int) else -1,
                            hidden_size=hidden if isinstance(hidden, int) else -1, model_name=name)


def _add_root_hooks(runtime, root):
    guard = runtime.guard("step")
    state = runtime.thread

    def enter(module):
        # A root entered again while it is the outermost one means its last forward raised
        # (so never exited): that one is over.
        if state.root_depth == 0 or getattr(state, "outermost", None) is module:
            state.root_depth = 0
            state.outermost = module
            runtime.steps.root_forward(True)
        state.root_depth += 1

    def leave(module):
        state.root_depth = max(0, state.root_depth - 1)
        if state.root_depth == 0:
            state.outermost = None
            runtime.steps.root_forward(False)

    root.register_forward_pre_hook(guard.hook(lambda m, i: enter(m)))
    root.register_forward_hook(guard.hook(lambda m, i, o: leave(m)))
