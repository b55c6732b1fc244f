"""Smoke test of BUILD_DIR/pyenv (scripts/python-env): Debian's CPU PyTorch with the pinned
transformers and fairscale.

    BUILD_DIR/pyenv/bin/python tests/python/env_smoke.py

Builds a tiny random-init Mixtral and runs it with router logits, then a fairscale MOELayer
(Top2Gate) in a single-process gloo group. Downloads nothing (the Hugging Face hub is set
offline). Prints the versions; exits non-zero on any failure.
"""

import os
import sys
import tempfile
import time

# No network and nothing written under $HOME: set before transformers is imported.
_hf_home = tempfile.TemporaryDirectory(prefix="moeprof-hf-")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HOME"] = _hf_home.name
os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")

import importlib.metadata as md  # noqa: E402

import numpy  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402


def check_origins():
    """torch and numpy must be Debian's (system site), never a wheel pip put into the venv."""
    for module in (torch, numpy):
        assert module.__file__.startswith("/usr/lib/python3/dist-packages/"), (
            f"{module.__name__} comes from {module.__file__}, not Debian's python3-{module.__name__}")
    assert sys.prefix != sys.base_prefix and sys.base_prefix == "/usr", "not run from a venv of /usr/bin/python3"
    assert torch.__version__.startswith("1.13."), torch.__version__


def print_versions():
    names = ["torch", "numpy", "transformers", "tokenizers", "safetensors", "huggingface-hub", "fairscale"]
    print(f"python {sys.version.split()[0]} ({sys.executable})")
    print("  ".join(f"{n} {md.version(n)}" for n in names))


def mixtral():
    from transformers import MixtralConfig, MixtralForCausalLM

    torch.manual_seed(0)
    layers, experts, top_k = 4, 8, 2
    config = MixtralConfig(vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=layers,
                           num_attention_heads=4, num_key_value_heads=2, num_local_experts=experts,
                           num_experts_per_tok=top_k)
    model = MixtralForCausalLM(config).eval()
    batch, seq = 2, 16
    ids = torch.randint(0, config.vocab_size, (batch, seq))
    with torch.no_grad():
        out = model(input_ids=ids, output_router_logits=True)
    assert out.logits.shape == (batch, seq, config.vocab_size), out.logits.shape
    assert len(out.router_logits) == layers, len(out.router_logits)
    for i, logits in enumerate(out.router_logits):
        assert logits.shape == (batch * seq, experts), (i, logits.shape)
        assert torch.isfinite(logits).all(), i
    assert out.aux_loss is not None and torch.isfinite(out.aux_loss)

    # Same seed, same model, same routing: what a profiler comparing runs relies on.
    torch.manual_seed(0)
    again = MixtralForCausalLM(config).eval()
    with torch.no_grad():
        out2 = again(input_ids=ids, output_router_logits=True)
    for a, b in zip(out.router_logits, out2.router_logits):
        assert torch.equal(a, b)
    top = [logits.topk(top_k, dim=-1).indices for logits in out.router_logits]
    per_expert = torch.bincount(torch.cat(top).flatten(), minlength=experts)
    assert int(per_expert.sum()) == layers * batch * seq * top_k

    # A training step (loss includes the router's load-balancing loss) and a safetensors
    # round trip through save_pretrained / from_pretrained, all local.
    model.train()
    loss = model(input_ids=ids, labels=ids, output_router_logits=True).loss
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None for p in model.model.layers[0].block_sparse_moe.gate.parameters())
    with tempfile.TemporaryDirectory() as d:
        model.save_pretrained(d)
        assert os.path.exists(os.path.join(d, "model.safetensors"))
        loaded = MixtralForCausalLM.from_pretrained(d).eval()
    with torch.no_grad():
        out3 = loaded(input_ids=ids, output_router_logits=True)
    assert torch.allclose(out3.logits, out.logits, atol=1e-6)
    print(f"mixtral: {layers} layers of router logits [{batch * seq}, {experts}], "
          f"aux_loss {float(out.aux_loss):.4f}, tokens per expert (top-{top_k}, all layers) {per_expert.tolist()}")


def fairscale_moe():
    from fairscale.nn.moe import MOELayer, Top2Gate

    with tempfile.TemporaryDirectory() as d:
        dist.init_process_group("gloo", init_method=f"file://{d}/store", rank=0, world_size=1)
        try:
            torch.manual_seed(0)
            model_dim, num_experts = 16, 4
            experts = torch.nn.ModuleList([torch.nn.Linear(model_dim, model_dim) for _ in range(num_experts)])
            moe = MOELayer(Top2Gate(model_dim, num_experts), experts)
            # (sequences, tokens, model); the sequence count must be a multiple of the local experts.
            x = torch.randn(4, 8, model_dim, requires_grad=True)
            y = moe(x)
            assert y.shape == x.shape, y.shape
            assert torch.isfinite(y).all() and torch.isfinite(moe.l_aux)
            (y.sum() + moe.l_aux).backward()
            assert x.grad is not None and torch.isfinite(x.grad).all()
            print(f"fairscale: MOELayer(Top2Gate({model_dim}, {num_experts})) on gloo, world size "
                  f"{dist.get_world_size()}: output {list(y.shape)}, l_aux {float(moe.l_aux):.4f}")
        finally:
            dist.destroy_process_group()


def main():
    start = time.monotonic()
    print_versions()
    check_origins()
    mixtral()
    fairscale_moe()
    print(f"env_smoke: OK in {time.monotonic() - start:.1f} s")


if __name__ == "__main__":
    main()
