#!/usr/bin/python3
"""PyTorch checkpoints as publishers ship them, written by PyTorch itself, for the native readers' tests.

From the tiny CLIP weights that clip_reference.py wrote (Golden/clip/<config>.weights.safetensors), this writes the
same values in the other published forms, into tests/PromptAD.Tests/Golden/checkpoints/:

  tiny-test.torch-save.bin                 torch.save of the OpenCLIP state dict (F16, as OpenCLIP's hub .bin files)
  tiny-test-quickgelu.torchscript.pt       torch.jit.save of a module tree holding the weights under OpenCLIP/OpenAI
                                           attribute names (BF16), plus the buffers OpenAI's archives carry that are
                                           not weights (attn_mask, input_resolution, context_length, vocab_size)
  tiny-test-quickgelu.transformers.safetensors
                                           the Transformers CLIPModel layout (separate q/k/v projections,
                                           visual_projection/text_projection as [embed, width], position_ids), BF16
  features.torch-save.pt                   reader features: F32/F16/BF16, a transposed (strided) view, a view at a
                                           storage offset sharing its storage, a Parameter, a 0-d tensor, an int64
                                           tensor, a nested dict
  features.deflated.pt                     the same archive with every entry deflated (zip rewritten by Python)
  features.expected.safetensors            every float tensor of features.torch-save.pt as F32 (hand-written)
  rounding.safetensors                     float32 values (random, ties, subnormals, near the limits) and PyTorch's
                                           .half() and .bfloat16() of them, widened back to F32: weights convert --dtype

  /usr/bin/python3 tests/reference/make_checkpoint_goldens.py           # the tiny files above (committed)
  /usr/bin/python3 tests/reference/make_checkpoint_goldens.py --large   # tests/reference/large/ (git-ignored):
      ViT-B-16-plus-240 random weights as safetensors, torch.save and TorchScript, and ViT-B-16 random weights as
      safetensors and in the Transformers layout (PROMPTAD_LARGE_GOLDEN=1 CheckpointParityTests)

The Transformers layout is written by hand (transformers is not needed): the key names and transposes follow
Transformers' CLIPModel (modeling_clip.py) and its OpenAI conversion script, independently of the C# mapping.
"""
import collections
import os
import sys
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from clip_reference import ROOT, load_config, random_weights, read_safetensors, write_safetensors  # noqa: E402

GOLDEN_CLIP = os.path.join(ROOT, "tests", "PromptAD.Tests", "Golden", "clip")
OUT = os.path.join(ROOT, "tests", "PromptAD.Tests", "Golden", "checkpoints")
LARGE = os.path.join(HERE, "large")


def torch_tensors(weights, dtype):
    return collections.OrderedDict((k, torch.from_numpy(np.array(v, dtype=np.float32)).to(dtype)) for k, v in weights.items())


# ---------------------------------------------------------------- torch.save (OpenCLIP's open_clip_pytorch_model.bin)
def save_state_dict(path, sd):
    torch.save(sd, path)


# ---------------------------------------------------------------- TorchScript (OpenAI's ViT-B-16.pt)
class Holder(torch.nn.Module):
    """A module tree whose attribute paths are the state-dict names (visual.transformer.resblocks.0.attn...)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def module_tree(sd, cfg):
    root = Holder()
    for name, t in sd.items():
        *path, leaf = name.split(".")
        m = root
        for part in path:
            if not hasattr(m, part):
                m.add_module(part, Holder())
            m = getattr(m, part)
        m.register_parameter(leaf, torch.nn.Parameter(t, requires_grad=False))
    # What OpenAI's archives hold beside the weights: the causal mask per text block and three sizes.
    ctx = cfg["text"]["contextLength"]
    mask = torch.full((ctx, ctx), float("-inf")).triu_(1)
    for i in range(cfg["text"]["layers"]):
        getattr(root.transformer.resblocks, str(i)).register_buffer("attn_mask", mask)  # one storage, shared as OpenAI's blocks share theirs
    root.register_buffer("input_resolution", torch.tensor(cfg["vision"]["imageSize"]))
    root.register_buffer("context_length", torch.tensor(ctx))
    root.register_buffer("vocab_size", torch.tensor(cfg["text"]["vocabSize"]))
    return root


def save_torchscript(path, sd, cfg):
    torch.jit.save(torch.jit.script(module_tree(sd, cfg)), path)


# ---------------------------------------------------------------- Transformers CLIPModel layout
HF_BLOCK = [  # (OpenCLIP suffix, Transformers suffix); in_proj is split into q/k/v below
    ("ln_1.weight", "layer_norm1.weight"), ("ln_1.bias", "layer_norm1.bias"),
    ("attn.out_proj.weight", "self_attn.out_proj.weight"), ("attn.out_proj.bias", "self_attn.out_proj.bias"),
    ("ln_2.weight", "layer_norm2.weight"), ("ln_2.bias", "layer_norm2.bias"),
    ("mlp.c_fc.weight", "mlp.fc1.weight"), ("mlp.c_fc.bias", "mlp.fc1.bias"),
    ("mlp.c_proj.weight", "mlp.fc2.weight"), ("mlp.c_proj.bias", "mlp.fc2.bias"),
]


def transformers_layout(w, cfg):
    """OpenCLIP names -> Transformers CLIPModel names (a list, in the order Transformers' state dict has)."""
    out = []

    def blocks(src, dst, layers):
        for i in range(layers):
            s, d = f"{src}.{i}.", f"{dst}.{i}."
            q, k, v = np.split(w[s + "attn.in_proj_weight"], 3, axis=0)
            qb, kb, vb = np.split(w[s + "attn.in_proj_bias"], 3, axis=0)
            for name, arr in (("k_proj.weight", k), ("k_proj.bias", kb), ("v_proj.weight", v), ("v_proj.bias", vb),
                              ("q_proj.weight", q), ("q_proj.bias", qb)):
                out.append((d + "self_attn." + name, arr))
            for a, b in HF_BLOCK:
                out.append((d + b, w[s + a]))

    out.append(("logit_scale", w["logit_scale"]))
    out.append(("text_model.embeddings.position_ids", np.arange(cfg["text"]["contextLength"])[None, :]))
    out.append(("text_model.embeddings.token_embedding.weight", w["token_embedding.weight"]))
    out.append(("text_model.embeddings.position_embedding.weight", w["positional_embedding"]))
    blocks("transformer.resblocks", "text_model.encoder.layers", cfg["text"]["layers"])
    out.append(("text_model.final_layer_norm.weight", w["ln_final.weight"]))
    out.append(("text_model.final_layer_norm.bias", w["ln_final.bias"]))
    tokens = (cfg["vision"]["imageSize"] // cfg["vision"]["patchSize"]) ** 2 + 1
    out.append(("vision_model.embeddings.position_ids", np.arange(tokens)[None, :]))
    out.append(("vision_model.embeddings.class_embedding", w["visual.class_embedding"]))
    out.append(("vision_model.embeddings.patch_embedding.weight", w["visual.conv1.weight"]))
    out.append(("vision_model.embeddings.position_embedding.weight", w["visual.positional_embedding"]))
    out.append(("vision_model.pre_layrnorm.weight", w["visual.ln_pre.weight"]))  # sic: Transformers' spelling
    out.append(("vision_model.pre_layrnorm.bias", w["visual.ln_pre.bias"]))
    blocks("visual.transformer.resblocks", "vision_model.encoder.layers", cfg["vision"]["layers"])
    out.append(("vision_model.post_layernorm.weight", w["visual.ln_post.weight"]))
    out.append(("vision_model.post_layernorm.bias", w["visual.ln_post.bias"]))
    out.append(("visual_projection.weight", np.ascontiguousarray(w["visual.proj"].T)))  # nn.Linear: [embed, width]
    out.append(("text_projection.weight", np.ascontiguousarray(w["text_projection"].T)))
    return out


def write_transformers_safetensors(path, hf, dtype):
    """position_ids as I64 (as Transformers stores them), every weight in `dtype`."""
    floats = [(k, v) for k, v in hf if not k.endswith("position_ids")]
    write_safetensors(path, floats, dtype)
    # Splice the I64 position ids in by rewriting the header (write_safetensors only writes floats).
    import json
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    end = len(data)
    extra = b""
    for k, v in hf:
        if k.endswith("position_ids"):
            raw = np.asarray(v, dtype="<i8").tobytes()
            header[k] = {"dtype": "I64", "shape": list(np.shape(v)), "data_offsets": [end + len(extra), end + len(extra) + len(raw)]}
            extra += raw
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        f.write(data)
        f.write(extra)


# ---------------------------------------------------------------- reader features
def features():
    g = torch.Generator().manual_seed(3)
    big = torch.randn(10, generator=g)
    base = torch.randn(3, 4, generator=g)
    return collections.OrderedDict([
        ("f32", torch.randn(2, 3, generator=g)),
        ("f16", torch.randn(5, generator=g).half()),
        ("bf16", torch.randn(2, 2, generator=g).bfloat16()),
        ("transposed", base.t()),                      # strides (1, 4): not contiguous
        ("big", big),
        ("slice", big[2:7]),                           # shares big's storage at offset 2
        ("every_other", big[1::3]),                    # offset 1, stride 3
        ("param", torch.nn.Parameter(torch.randn(2, 2, generator=g))),
        ("scalar", torch.tensor(2.5)),
        ("ints", torch.tensor([1, 2, 3], dtype=torch.int64)),
        ("nested", {"inner": {"x": torch.randn(3, generator=g)}}),
        ("epoch", 7),                                  # not a tensor: skipped by the reader
    ])


def flat_floats(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from flat_floats(v, prefix + k + ".")
        elif isinstance(v, torch.Tensor) and v.is_floating_point():
            yield prefix + k, v.detach().float().numpy()


def rounding():
    g = torch.Generator().manual_seed(5)
    bits = np.array([0x3F808000, 0x3F818000, 0x3F800001, 0x3F80FFFF, 0x00000001, 0x807FFFFF, 0x477FE000, 0x477FEFFF,
                     0x387FC000, 0x33800000, 0x7F7F7FFF, 0xFF7F0000, 0x00000000, 0x80000000], dtype=np.uint32)
    values = np.concatenate([torch.randn(200, generator=g).numpy() * 3, bits.view(np.float32),
                             (torch.rand(50, generator=g).numpy() - 0.5) * 1e-6]).astype(np.float32)
    t = torch.from_numpy(values)
    return [("values", values), ("as_f16", t.half().float().numpy()), ("as_bf16", t.bfloat16().float().numpy())]


def deflate_copy(src, dst):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():  # fixed dates: the same bytes on every run
            zout.writestr(zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0)), zin.read(info.filename), zipfile.ZIP_DEFLATED)


def main(args):
    if "--large" in args:
        os.makedirs(LARGE, exist_ok=True)
        rng = np.random.default_rng(11)
        cfg = load_config("ViT-B-16-plus-240")
        w = dict(random_weights(cfg, rng))
        write_safetensors(os.path.join(LARGE, "ViT-B-16-plus-240.weights.safetensors"), list(w.items()), "F32")
        sd = torch_tensors(w, torch.float32)
        save_state_dict(os.path.join(LARGE, "ViT-B-16-plus-240.torch-save.bin"), sd)
        save_torchscript(os.path.join(LARGE, "ViT-B-16-plus-240.torchscript.pt"), sd, cfg)
        cfg16 = load_config("ViT-B-16")
        w16 = dict(random_weights(cfg16, rng))
        write_safetensors(os.path.join(LARGE, "ViT-B-16.weights.safetensors"), list(w16.items()), "F32")
        write_transformers_safetensors(os.path.join(LARGE, "ViT-B-16.transformers.safetensors"), transformers_layout(w16, cfg16), "F32")
        return
    os.makedirs(OUT, exist_ok=True)
    gelu = read_safetensors(os.path.join(GOLDEN_CLIP, "tiny-test.weights.safetensors"))  # F16-exact values
    quick = read_safetensors(os.path.join(GOLDEN_CLIP, "tiny-test-quickgelu.weights.safetensors"))  # BF16-exact values
    save_state_dict(os.path.join(OUT, "tiny-test.torch-save.bin"), torch_tensors(gelu, torch.float16))
    save_torchscript(os.path.join(OUT, "tiny-test-quickgelu.torchscript.pt"), torch_tensors(quick, torch.bfloat16),
                     load_config("tiny-test-quickgelu"))
    write_transformers_safetensors(os.path.join(OUT, "tiny-test-quickgelu.transformers.safetensors"),
                                   transformers_layout(quick, load_config("tiny-test-quickgelu")), "BF16")
    f = features()
    torch.save(f, os.path.join(OUT, "features.torch-save.pt"))
    deflate_copy(os.path.join(OUT, "features.torch-save.pt"), os.path.join(OUT, "features.deflated.pt"))
    write_safetensors(os.path.join(OUT, "features.expected.safetensors"), list(flat_floats(f)), "F32")
    write_safetensors(os.path.join(OUT, "rounding.safetensors"), rounding(), "F32")


if __name__ == "__main__":
    main(sys.argv[1:])
