"""A tiny random-init Mixtral (transformers' own MixtralForCausalLM) run for a few forward
steps: the workload of the adapter's end-to-end test and benchmark.

    python mixtral_workload.py --steps N [--truth FILE.json] [--logits FILE.bin]

--truth writes the ground truth of every (step, layer) computed here from the router logits
the model itself returns (output_router_logits=True), the way Mixtral routes them: the top-2
experts of softmax(logits) and the tokens per expert. --logits writes the raw bytes of every
step's output logits, so that runs with and without the adapter can be compared bit for bit.
No weights or data are downloaded: the model is built from a config, its inputs are random.
"""

import argparse
import json
import sys

import torch
from transformers import MixtralConfig, MixtralForCausalLM

LAYERS, EXPERTS, TOP_K, VOCAB = 4, 8, 2, 128


def build_model(seed=0, hidden=32):
    torch.manual_seed(seed)
    config = MixtralConfig(vocab_size=VOCAB, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=LAYERS,
                           num_attention_heads=4, num_key_value_heads=2, num_local_experts=EXPERTS,
                           num_experts_per_tok=TOP_K, max_position_embeddings=64)
    return MixtralForCausalLM(config).eval()


def batches(steps, batch=2, sequence=16, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(0, VOCAB, (batch, sequence), generator=generator) for _ in range(steps)]


def routing_truth(router_logits):
    """Per layer: top-k ids [tokens, k] and per-expert counts, as Mixtral's block derives them."""
    layers = []
    for logits in router_logits:
        weights = torch.softmax(logits, dim=1, dtype=torch.float)
        top_weights, ids = torch.topk(weights, TOP_K, dim=-1)
        top_weights = top_weights / top_weights.sum(dim=-1, keepdim=True)
        layers.append({"ids": ids.tolist(), "weights": top_weights.tolist(),
                       "counts": torch.bincount(ids.reshape(-1), minlength=EXPERTS).tolist()})
    return layers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--truth")
    parser.add_argument("--logits")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the same reduction order in every run: bitwise comparable
    model = build_model()
    truth, outputs = [], []
    with torch.no_grad():
        for tokens in batches(args.steps):
            out = model(tokens, output_router_logits=True)
            outputs.append(out.logits.contiguous().numpy().tobytes())
            truth.append(routing_truth(out.router_logits))
    if args.truth:
        with open(args.truth, "w") as f:
            json.dump({"layers": LAYERS, "experts": EXPERTS, "top_k": TOP_K, "steps": truth}, f)
    if args.logits:
        with open(args.logits, "wb") as f:
            f.write(b"".join(outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
