#!/usr/bin/python3
"""Independent PyTorch reference for the PromptAD pipeline, written from SPEC.md §5-§6 (not from the C#).

Uses clip_reference.py's CLIP model code (float64) on the tiny-test weights already in Golden/clip, the reference
tokenizer (clip_tokenizer_reference.py) and torch.optim.SGD + CosineAnnealingLR. Fixed inputs: initial prompt
vectors N(0, 0.02^2), 2 few-shot images and 3 test images (standard normal CHW), all generated here with a seed.
Runs EPOCHS = 10 training steps of each head on a 10-epoch cosine schedule (T_max = 10), then scores the test
images at a 32x32 output size. Writes tests/PromptAD.Tests/Golden/promptad/tiny-test.promptad.safetensors; what depends
on the mid-level features (memory banks, scores, maps) is written for both modes of SPEC §4 item 3: as published under
the plain names, the plain block output with a ".block_output" suffix (clip_reference.image_forward's hooks). The pixel head's margin term
(SPEC §5.3) is trained both ways: as published (the authors' train_seg.py: squared distance summed over the patches of
each [k, patches, width] feature tensor, averaged over k·width) under the plain names, the paper's per-patch form with a
".per_patch" suffix (pixel losses, learned vectors, prototypes, and the scores/maps made with them).

Token ids for the tiny vocabulary (64): every BPE word id becomes id mod (vocab - 2); start/end become vocab-2 /
vocab-1; zero padding after the end token (the same documented mapping as the C# TokenIdMapping).

  /usr/bin/python3 tests/reference/promptad_reference.py
  /usr/bin/python3 tests/reference/promptad_reference.py --bench --data DIR --shot NAME [--epochs N] [--test-images N]
      timings of `promptad bench e2e`'s work in PyTorch (float32, random ViT-B-16-plus-240 weights, one JSON line):
      image-head training (shot encoding + N epochs), pixel-head training (N epochs), scoring the test images
      (loading, preprocessing, encoding in batches of 8, scores and blurred 400x400 maps). No per-epoch test evaluation.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import clip_reference as cr  # noqa: E402
from clip_tokenizer_reference import SimpleTokenizer  # noqa: E402

OUT = os.path.join(cr.ROOT, "tests", "PromptAD.Tests", "Golden", "promptad")
CONFIG = "tiny-test"
EPOCHS, LR, MIN_LR, MOMENTUM, WD, ALIGN, MARGIN = 10, 0.002, 1e-5, 0.9, 5e-4, 0.001, 0.0
N_CTX, N_PRO_IMAGE, N_PRO_PIXEL, N_CTX_AB, N_PRO_AB = 4, 3, 1, 1, 4
OUTPUT_SIZE = 32
CLASS_NAME = "bottle"
# Generic states (SPEC §5.1) + bottle's states (data/prompts.json), duplicated in PipelineParityTests.cs.
STATES = ["damaged {}", "flawed {}", "abnormal {}", "imperfect {}", "blemished {}", "{} with flaw", "{} with defect",
          "{} with damage", "{} with large breakage", "{} with small breakage", "{} with contamination"]


read_safetensors = cr.read_safetensors


def map_ids(ids, vocab):
    out = [vocab - 2] + [i % (vocab - 2) for i in ids[1:-1]] + [vocab - 1]
    return out + [0] * (77 - len(out))


def build_prompts(tok, vocab, n_pro):
    """(ids [B, 77], positions per prompt, learned row per position into cat(ctx, ctx_ab)), counts."""
    ids, positions, rows = [], [], []
    x = tok.encode("X")
    assert len(x) == 1

    def add(text, i, j):
        n = N_CTX + (N_CTX_AB if j >= 0 else 0)
        prompt = " ".join(["X"] * n) + " " + text + "."
        enc = tok.encode(prompt)
        assert enc[:n] == x * n
        full = [tok.encoder["<|startoftext|>"]] + enc + [tok.encoder["<|endoftext|>"]]
        ids.append(map_ids(full, vocab))
        positions.append(list(range(1, n + 1)))
        rows.extend(i * N_CTX + t for t in range(N_CTX))
        if j >= 0:
            rows.extend(n_pro * N_CTX + j * N_CTX_AB + t for t in range(N_CTX_AB))

    for i in range(n_pro):
        add(CLASS_NAME, i, -1)
    for s in STATES:
        for i in range(n_pro):
            add(s.replace("{}", CLASS_NAME), i, -1)
    for j in range(N_PRO_AB):
        for i in range(n_pro):
            add(CLASS_NAME, i, j)
    counts = (n_pro, len(STATES) * n_pro, N_PRO_AB * n_pro)
    return np.array(ids, dtype=np.int64), positions, rows, counts


def normalize(x):
    return x / x.norm(dim=-1, keepdim=True)


def encode(cfg, W, eps, prompts, ctx, ctx_ab, full_context=False):
    ids, positions, rows, counts = prompts
    # causal: later positions never reach the end token; the published code still runs all 77 (full_context)
    seq = ids.shape[1] if full_context else int(ids.argmax(axis=1).max()) + 1
    learned = torch.cat([ctx, ctx_ab])[rows]
    f = cr.text_forward(cfg, W, torch.tensor(ids[:, :seq]), learned, positions, eps)
    n, m, _ = counts
    return f[:n], f[n:n + m], f[n + m:]


def losses(v, tn, tm, tl, s):
    """v: [samples, width] (one distance per sample), or [k, patches, width] for the pixel head as published, whose
    margin term sums the squared distance over dim 1 (the patches) and averages over k·width."""
    ta = torch.cat([tm, tl])
    pn, pa = normalize(tn.mean(0)), normalize(ta.mean(0))
    rows = v.reshape(-1, v.shape[-1])
    logits = s * torch.cat([(rows @ pn)[:, None], rows @ normalize(ta).T], dim=1)
    ce = F.cross_entropy(logits, torch.zeros(rows.shape[0], dtype=torch.long))
    summed = 1 if v.dim() == 3 else -1
    eam = torch.relu(((v - pn) ** 2).sum(summed) - ((v - pa) ** 2).sum(summed) + MARGIN).mean()
    align = ((normalize(tm).mean(0) - normalize(tl).mean(0)) ** 2).sum()
    return ce + eam + ALIGN * align, ce, eam, align


def train_head(cfg, W, eps, prompts, v, s, ctx0, ctx_ab0):
    ctx = torch.tensor(ctx0, dtype=torch.float64, requires_grad=True)
    ctx_ab = torch.tensor(ctx_ab0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([ctx, ctx_ab], lr=LR, momentum=MOMENTUM, weight_decay=WD)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS, eta_min=MIN_LR)
    log = []
    for _ in range(EPOCHS):
        tn, tm, tl = encode(cfg, W, eps, prompts, ctx, ctx_ab)
        terms = losses(v, tn, tm, tl, s)
        log.append([t.item() for t in terms])
        opt.zero_grad()
        terms[0].backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        tn, tm, tl = encode(cfg, W, eps, prompts, ctx, ctx_ab)
        protos = torch.stack([normalize(tn.mean(0)), normalize(torch.cat([tm, tl]).mean(0))])
    return np.array(log), ctx.detach(), ctx_ab.detach(), protos


def upsample(m, grid):
    return F.interpolate(m.reshape(1, 1, grid, grid), size=(OUTPUT_SIZE, OUTPUT_SIZE), mode="bilinear",
                         align_corners=False)[0, 0]


def main():
    cfg = cr.load_config(CONFIG)
    eps, vocab = cfg.get("layerNormEps", 1e-5), cfg["text"]["vocabSize"]
    stored = read_safetensors(os.path.join(cr.GOLDEN, CONFIG + ".weights.safetensors"))
    W = {k: torch.tensor(a, dtype=torch.float64) for k, a in stored.items()}
    s = W["logit_scale"].item()  # raw stored value (SPEC §5.5, the authors' default)
    tok = SimpleTokenizer()
    width, size, grid = cfg["text"]["width"], cfg["vision"]["imageSize"], cfg["vision"]["imageSize"] // cfg["vision"]["patchSize"]

    rng = np.random.default_rng(2024)
    init = {
        "image.ctx": (0.02 * rng.standard_normal((N_PRO_IMAGE * N_CTX, width))).astype(np.float32),
        "image.ctx_ab": (0.02 * rng.standard_normal((N_PRO_AB * N_CTX_AB, width))).astype(np.float32),
        "pixel.ctx": (0.02 * rng.standard_normal((N_PRO_PIXEL * N_CTX, width))).astype(np.float32),
        "pixel.ctx_ab": (0.02 * rng.standard_normal((N_PRO_AB * N_CTX_AB, width))).astype(np.float32),
    }
    shots = rng.standard_normal((2, 3, size, size)).astype(np.float32)
    tests = rng.standard_normal((3, 3, size, size)).astype(np.float32)

    shot_features = {m: [normalize(t) for t in cr.image_forward(cfg, W, torch.tensor(shots, dtype=torch.float64), eps, m)]
                     for m in cr.MID_MODES}
    test_features = {m: [normalize(t) for t in cr.image_forward(cfg, W, torch.tensor(tests, dtype=torch.float64), eps, m)]
                     for m in cr.MID_MODES}
    g, loc, _, _ = shot_features["as-published"]  # the global and local features do not depend on the mid mode
    img_prompts = build_prompts(tok, vocab, N_PRO_IMAGE)
    pix_prompts = build_prompts(tok, vocab, N_PRO_PIXEL)
    img_log, img_ctx, img_ctx_ab, img_protos = train_head(cfg, W, eps, img_prompts, g, s, init["image.ctx"], init["image.ctx_ab"])
    pixel = {margin: train_head(cfg, W, eps, pix_prompts, v, s, init["pixel.ctx"], init["pixel.ctx_ab"])
             for margin, v in (("as-published", loc), ("per-patch", loc.reshape(-1, loc.shape[-1])))}

    def score(mode, pix_protos):
        """Memory banks from the shots' and test scores/maps from the tests' mid features of one mode (SPEC §6)."""
        _, _, m1, m2 = shot_features[mode]
        bank1, bank2 = m1.reshape(-1, m1.shape[-1]), m2.reshape(-1, m2.shape[-1])
        scores, maps = [], []
        with torch.no_grad():
            tg, tl, tm1, tm2 = test_features[mode]
            for b in range(tests.shape[0]):
                pad_img = torch.softmax(s * (img_protos @ tg[b]), 0)[1]
                pad_pix = torch.softmax(s * (tl[b] @ pix_protos.T), 1)[:, 1]
                d1 = ((1 - tm1[b] @ bank1.T) / 2).min(1).values
                d2 = ((1 - tm2[b] @ bank2.T) / 2).min(1).values
                vad = (d1 + d2) / 2
                fused = 1 / (1 / pad_pix + 1 / vad)
                pix = ndimage.gaussian_filter(upsample(fused, grid).numpy(), sigma=4, mode="reflect", truncate=4.0)
                vmax = upsample(vad, grid).max()
                scores.append([(1 / (1 / pad_img + 1 / vmax)).item(), pad_img.item(), vmax.item()])
                maps.append(pix)
        return bank1, bank2, np.array(scores), np.stack(maps)

    f32 = lambda z: np.asarray(z.numpy() if torch.is_tensor(z) else z, dtype=np.float32)
    out = [(k, v) for k, v in init.items()] + [
        ("shots", shots), ("tests", tests),
        ("image.token_ids", img_prompts[0].astype(np.float32)), ("pixel.token_ids", pix_prompts[0].astype(np.float32)),
        ("image.losses", f32(img_log)), ("image.ctx.trained", f32(img_ctx)), ("image.ctx_ab.trained", f32(img_ctx_ab)),
        ("image.prototypes", f32(img_protos)),
    ]
    # The pixel head's margin as published under the plain names, per patch with a ".per_patch" suffix.
    for margin, suffix in (("as-published", ""), ("per-patch", ".per_patch")):
        pix_log, pix_ctx, pix_ctx_ab, pix_protos = pixel[margin]
        out += [("pixel.losses" + suffix, f32(pix_log)), ("pixel.ctx.trained" + suffix, f32(pix_ctx)),
                ("pixel.ctx_ab.trained" + suffix, f32(pix_ctx_ab)), ("pixel.prototypes" + suffix, f32(pix_protos))]
        print("pixel margin", margin, "losses", pix_log[[0, -1]].tolist())
    # Mid features as published under the plain names, the plain block output with a ".block_output" suffix; both
    # scored with the as-published pixel head, and the as-published mid features also with the per-patch one.
    for mode, margin, suffix in (("as-published", "as-published", ""), ("block-output", "as-published", ".block_output"),
                                 ("as-published", "per-patch", ".per_patch")):
        bank1, bank2, scores, maps = score(mode, pixel[margin][3])
        if margin == "as-published":
            out += [("bank.mid1" + suffix, f32(bank1)), ("bank.mid2" + suffix, f32(bank2))]
        out += [("scores" + suffix, f32(scores)), ("maps" + suffix, f32(maps))]
        print(mode, margin, "scores", scores.tolist())
    cr.write_safetensors(os.path.join(OUT, CONFIG + ".promptad.safetensors"), out)
    print("image losses", img_log[[0, -1]])


def bench(args):
    import time
    from PIL import Image
    opt = lambda name, default: args[args.index(name) + 1] if name in args else default
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", os.cpu_count())))
    cfg = cr.load_config(opt("--config", "ViT-B-16-plus-240"))
    epochs, n_test, data, shot = int(opt("--epochs", "100")), int(opt("--test-images", "0")), opt("--data", None), opt("--shot", "131.png")
    # --as-published: the authors' code's costs (minus per-epoch test evaluation): every prompt through all 77 text
    # positions, and the shots' image features recomputed every epoch.
    published = "--as-published" in args
    eps, vocab, size = cfg.get("layerNormEps", 1e-5), cfg["text"]["vocabSize"], cfg["vision"]["imageSize"]
    grid = size // cfg["vision"]["patchSize"]
    W = {k: torch.tensor(a) for k, a in cr.random_weights(cfg, np.random.default_rng(0))}
    s = W["logit_scale"].item()
    tok = SimpleTokenizer()
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(3, 1, 1)

    def load(path):
        img = Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC)
        return (torch.from_numpy(np.asarray(img, dtype=np.float32) / 255).permute(2, 0, 1) - mean) / std

    def train(prompts, features, n_pro):
        width = cfg["text"]["width"]
        ctx = (0.02 * torch.randn(n_pro * N_CTX, width)).requires_grad_(True)
        ctx_ab = (0.02 * torch.randn(N_PRO_AB * N_CTX_AB, width)).requires_grad_(True)
        sgd = torch.optim.SGD([ctx, ctx_ab], lr=LR, momentum=MOMENTUM, weight_decay=WD)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=epochs, eta_min=MIN_LR)
        v = None if published else features()
        for _ in range(epochs):
            if published:
                v = features()
            tn, tm, tl = encode(cfg, W, eps, prompts, ctx, ctx_ab, published)
            loss = losses(v, tn, tm, tl, s)[0]
            sgd.zero_grad()
            loss.backward()
            sgd.step()
            sched.step()
        with torch.no_grad():
            tn, tm, tl = encode(cfg, W, eps, prompts, ctx, ctx_ab, published)
            return torch.stack([normalize(tn.mean(0)), normalize(torch.cat([tm, tl]).mean(0))])

    global OUTPUT_SIZE
    OUTPUT_SIZE = 400
    shot_image = load(os.path.join(data, "train", "good", shot))[None]

    def shot_features():
        with torch.no_grad():
            return [normalize(t) for t in cr.image_forward(cfg, W, shot_image, eps)]

    t0 = time.perf_counter()
    g, loc, m1, m2 = shot_features()
    img_protos = train(build_prompts(tok, vocab, N_PRO_IMAGE), lambda: shot_features()[0], N_PRO_IMAGE)
    t1 = time.perf_counter()
    pix_protos = train(build_prompts(tok, vocab, N_PRO_PIXEL), lambda: shot_features()[1], N_PRO_PIXEL)  # pixel margin as published
    t2 = time.perf_counter()
    bank1, bank2 = m1.reshape(-1, m1.shape[-1]), m2.reshape(-1, m2.shape[-1])
    test_dir = os.path.join(data, "test")
    files = [os.path.join(test_dir, d, f) for d in sorted(os.listdir(test_dir)) for f in sorted(os.listdir(os.path.join(test_dir, d)))]
    if 0 < n_test < len(files):  # as the C# bench: both classes kept in proportion, evenly spaced within each
        normal = [f for f in files if os.sep + "good" + os.sep in f]
        defective = [f for f in files if f not in normal]
        k = 0 if not normal else n_test if not defective else min(max(round(n_test * len(normal) / len(files)), 1), max(1, n_test - 1))
        spaced = lambda xs, n: [xs[i * len(xs) // n] for i in range(n)]
        keep = set(spaced(normal, k) + spaced(defective, n_test - k))
        files = [f for f in files if f in keep]
    with torch.no_grad():
        for b0 in range(0, len(files), 8):
            batch = torch.stack([load(f) for f in files[b0:b0 + 8]])
            tg, tl, tm1, tm2 = [normalize(t) for t in cr.image_forward(cfg, W, batch, eps)]
            for b in range(batch.shape[0]):
                pad_img = torch.softmax(s * (img_protos @ tg[b]), 0)[1]
                pad_pix = torch.softmax(s * (tl[b] @ pix_protos.T), 1)[:, 1]
                vad = (((1 - tm1[b] @ bank1.T) / 2).min(1).values + ((1 - tm2[b] @ bank2.T) / 2).min(1).values) / 2
                ndimage.gaussian_filter(upsample(1 / (1 / pad_pix + 1 / vad), grid).numpy(), sigma=4, mode="reflect", truncate=4.0)
                vmax = upsample(vad, grid).max()
                (1 / (1 / pad_img + 1 / vmax)).item()
    t3 = time.perf_counter()
    print(json.dumps({"image_head_s": t1 - t0, "pixel_head_s": t2 - t1, "test_s": t3 - t2, "test_images": len(files),
                      "epochs": epochs, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    if "--bench" in sys.argv:
        bench(sys.argv[1:])
    else:
        main()
