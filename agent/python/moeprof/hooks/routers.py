"""MoE layers of any PyTorch model, found by their structure rather than their class names:
a module with a list of experts (ModuleList/ModuleDict of E >= 2 modules) next to a router
that produces E scores per token (a Linear with E outputs, or a module holding one). Its
output tells the hook how the layer routed:

  - a tensor of E router logits per token: the top-k is derived exactly as transformers'
    MoE blocks route (scores = softmax (or sigmoid) in float32, torch.topk, optional
    renormalisation), on the same logits, so ids and counts are the model's own;
  - a tuple holding a tensor of top-k ids (integers, k per token) and one of their weights,
    as routers that select themselves return: those are recorded as they are.

Each layer found records per-expert token counts (always) and router decisions (when the
routing mode wants them), gate and expert compute spans (hook "compute"), and makes its
forward the layer of the all-to-alls it issues."""

# transformers' Mixtral renormalises the top-k weights unconditionally (no norm_topk_prob).
_RENORMALISES_WITHOUT_FLAG = frozenset({"mixtral"})
_ROUTER_NAMES = ("gate", "router", "wg", "w_gate", "switch", "gating", "routing")
_TOP_K_NAMES = ("top_k", "num_experts_per_tok", "num_experts_per_token", "topk", "moe_top_k", "moe_topk",
                "router_top_k", "num_selected_experts", "k")


class RouterSpec:
    """How one MoE layer turns router logits into its top-k."""

    def __init__(self, layer, num_experts, top_k, scoring, renormalise):
        self.layer = layer
        self.num_experts = num_experts
        self.top_k = top_k
        self.scoring = scoring
        self.renormalise = renormalise


class MoEBlock:
    def __init__(self, name, module, router, experts):
        self.name = name
        self.module = module
        self.router = router
        self.experts = experts


def find_moe_blocks(root):
    """The MoE layers under `root` (root itself included), in module order."""
    import torch.nn as nn

    blocks = []
    for name, module in root.named_modules():
        for experts in module.children():
            if not isinstance(experts, (nn.ModuleList, nn.ModuleDict)) or len(experts) < 2:
                continue
            router = _router_of(module, experts, len(experts), nn)
            if router is not None:
                blocks.append(MoEBlock(name, module, router, experts))
                break
    return blocks


def _router_of(module, experts, num_experts, nn):
    candidates = []
    for child_name, child in module.named_children():
        if child is experts or isinstance(child, (nn.ModuleList, nn.ModuleDict)):
            continue
        if isinstance(child, nn.Linear):
            found = child.out_features == num_experts
        else:
            found = any(isinstance(m, nn.Linear) and m.out_features == num_experts for m in child.modules())
        if found:
            preferred = any(word in child_name.lower() for word in _ROUTER_NAMES)
            candidates.append((not preferred, len(candidates), child))
    return min(candidates, key=lambda c: c[:2])[2] if candidates else None


def _int_attribute(objects, names, upper):
    for obj in objects:
        for name in names:
            value = getattr(obj, name, None)
            if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= upper:
                return value
    return None


def router_spec(layer, block, config):
    """The routing rule of `block`, or a reason it cannot be derived from logits."""
    objects = [block.module, block.router] + ([config] if config is not None else [])
    num_experts = len(block.experts)
    top_k = _int_attribute(objects, _TOP_K_NAMES, num_experts)
    scoring = getattr(config, "scoring_func", "softmax") if config is not None else "softmax"
    if scoring not in ("softmax", "sigmoid"):
        scoring = None
    grouped = any(getattr(o, "n_group", 1) not in (None, 1) or hasattr(o, "e_score_correction_bias") for o in objects)
    flag = None
    for obj in objects:
        flag = getattr(obj, "norm_topk_prob", None)
        if flag is not None:
            break
    if flag is None:
        flag = getattr(config, "model_type", None) in _RENORMALISES_WITHOUT_FLAG
    spec = RouterSpec(layer, num_experts, top_k, scoring, bool(flag))
    spec.logits_unusable = ("its top-k is group-limited or bias-corrected" if grouped else
                            "its top-k is unknown" if top_k is None else
                            "its scoring function is unknown" if scoring is None else None)
    return spec


def routing_from_output(output, spec, with_weights=True):
    """(ids [tokens, k], weights [tokens, k] or None, None) of one router call, or (None, None,
    the reason) when the output is not understood. Derived weights are left out (None) unless
    with_weights: counts need only the ids. Works on detached tensors, so it records no
    autograd history (cheaper than entering no_grad on every call)."""
    import torch

    if isinstance(output, torch.Tensor):
        logits = output if output.shape[-1] == spec.num_experts else None
    elif isinstance(output, (tuple, list)):
        tensors = [t for t in output if isinstance(t, torch.Tensor)]
        for ids in tensors:
            if ids.is_floating_point() or ids.dim() < 2 or ids.shape[-1] > spec.num_experts:
                continue
            if spec.top_k is not None and ids.shape[-1] != spec.top_k:
                continue
            weights = next((w for w in tensors if w.is_floating_point() and w.shape == ids.shape), None)
            k = ids.shape[-1]
            return (ids.detach().reshape(-1, k), weights.detach().reshape(-1, k) if weights is not None else None,
                    None)
        logits = next((t for t in tensors if t.is_floating_point() and t.dim() >= 1
                       and t.shape[-1] == spec.num_experts), None)
    else:
        logits = None
    if logits is None:
        return None, None, "its router output holds neither top-k ids nor router logits"
    if spec.logits_unusable:
        return None, None, spec.logits_unusable
    logits = logits.detach()
    if logits.dim() != 2:
        logits = logits.reshape(-1, spec.num_experts)
    if spec.scoring == "softmax":
        scores = torch.softmax(logits, dim=-1, dtype=torch.float)
    else:
        scores = torch.sigmoid(logits.float())
    weights, ids = torch.topk(scores, spec.top_k, dim=-1)
    if not with_weights:
        return ids, None, None
    if spec.renormalise:
        weights = weights / weights.sum(dim=-1, keepdim=True)
    return ids, weights, None


def attach_blocks(runtime, blocks, first_layer, config=None, compute=True):
    """Hooks each block as layer first_layer + i; returns the specs."""
    specs = []
    for i, block in enumerate(blocks):
        spec = router_spec(first_layer + i, block, config)
        specs.append(spec)
        runtime.declare_layer(spec.layer, spec.num_experts, spec.top_k)
        block.module._moeprof_layer = spec.layer
        block.router._moeprof_router = spec
        layer_guard = runtime.guard("MoE layer")
        block.module.register_forward_pre_hook(layer_guard.hook(lambda m, i: runtime.enter_layer(m._moeprof_layer)))
        block.module.register_forward_hook(layer_guard.hook(lambda m, i, o: runtime.exit_layer()))
        block.router.register_forward_hook(runtime.guard("router").hook(_router_output(runtime)))
        if compute:
            add_compute_spans(runtime, block.router, spec.layer, "gate", "gate")
            experts = block.experts.values() if hasattr(block.experts, "values") else block.experts
            for j, expert in enumerate(experts):
                add_compute_spans(runtime, expert, spec.layer, "expert", f"expert {j}")
    return specs


def _router_output(runtime):
    def record(module, inputs, output):
        if not runtime.agent.enabled():
            return
        spec = module._moeprof_router
        ids, weights, problem = routing_from_output(output, spec, with_weights=runtime.agent.routing_wanted())
        if problem is not None:
            runtime.note(f"MoE layer {spec.layer} ({type(module).__name__}): not recorded, {problem}",
                         once_key=("router", id(module)))
            return
        runtime.record_routing(spec.layer, ids, weights, num_experts=spec.num_experts)
    return record


def add_compute_spans(runtime, module, layer, kind, name):
    """A compute span of `kind` for every forward of `module` with a non-empty input. The
    span's record is prepared once here (a call site), so a forward only stamps its times."""
    from .._abi import COMPUTE_KINDS

    guard = runtime.guard("compute span")
    site = runtime.agent.compute_site(layer, COMPUTE_KINDS[kind], name)
    now_ns = runtime.agent.now_ns
    start = [None]  # of the forward in flight (modules do not run re-entrantly)

    def enter(module, inputs):
        # An expert handed no tokens (transformers' loops call every expert) ran no compute.
        first = inputs[0] if inputs else None
        empty = first is not None and hasattr(first, "numel") and first.numel() == 0
        start[0] = None if empty else now_ns()

    def exit(module, inputs, output):
        if start[0] is not None:
            runtime.record_compute_site(site, start[0], now_ns())

    module.register_forward_pre_hook(guard.hook(enter))
    module.register_forward_hook(guard.hook(exit))
