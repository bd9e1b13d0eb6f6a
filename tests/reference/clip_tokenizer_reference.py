#!/usr/bin/python3
"""Independent re-implementation of CLIP's SimpleTokenizer (openai/CLIP simple_tokenizer.py),
written from its specification, used to produce golden token ids for ClipTokenizerTests.

Differences from CLIP: ftfy.fix_text is skipped (ftfy is not packaged for Debian here); for the
test strings it is a no-op except for mojibake repair, which we deliberately avoid in the inputs.

Run with Debian's python (needs python3-regex):
    /usr/bin/python3 tests/reference/clip_tokenizer_reference.py
Writes tests/PromptAD.Tests/Golden/tokenizer/clip_tokens.json: a list of
{text, ids (no SOS/EOS), tokenized ([SOS] ids [EOS] truncated to 77, padding implied)}.
"""
import gzip
import html
import json
import os

import regex as re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
BPE_PATH = os.path.join(SHARED, "data", "clip", "bpe_simple_vocab_16e6.txt.gz")
PROMPTS_PATH = os.path.join(SHARED, "data", "prompts.json")
OUT_PATH = os.path.join(ROOT, "tests", "PromptAD.Tests", "Golden", "tokenizer", "clip_tokens.json")


def bytes_to_unicode():
    # Printable bytes map to themselves; the rest are shifted to 256+ so no byte maps to
    # whitespace/control characters that the BPE would treat specially.
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def get_pairs(word):
    return {(word[i], word[i + 1]) for i in range(len(word) - 1)}


def basic_clean(text):
    # ftfy.fix_text would run here in CLIP.
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = re.sub(r"\s+", " ", text)
    return text.strip()


class SimpleTokenizer:
    def __init__(self, bpe_path=BPE_PATH):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(bpe_path).read().decode("utf-8").split("\n")
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(m.split()) for m in merges]
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        for m in merges:
            vocab.append("".join(m))
        vocab.extend(["<|startoftext|>", "<|endoftext|>"])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat = re.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        result = " ".join(word)
        self.cache[token] = result
        return result

    def encode(self, text):
        ids = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids


def tokenize(tok, text, context_length=77):
    # open_clip-style truncation: keep the end token as the last element. Returned unpadded
    # (the zero padding to context_length is implied) to keep the golden file small.
    ids = [tok.encoder["<|startoftext|>"]] + tok.encode(text) + [tok.encoder["<|endoftext|>"]]
    if len(ids) > context_length:
        ids = ids[:context_length]
        ids[-1] = tok.encoder["<|endoftext|>"]
    return ids


def prompt_strings():
    cfg = json.load(open(PROMPTS_PATH, encoding="utf-8"))
    generic = cfg["generic_states"]
    names = cfg["class_names"]
    categories = sorted(set(cfg["category_states"].keys()) | set(names.keys()) |
                        {"bottle", "hazelnut", "screw", "metal_nut"})
    out = []
    for cat in categories:
        cls = names.get(cat, cat.replace("_", " "))
        for ph in ("X X X X", "N N N N"):
            out.append(f"{ph} {cls}.")
            out.append(f"{ph} A {cls}.")
            for s in generic + cfg["category_states"].get(cat, []):
                out.append(f"{ph} {s.format(cls)}.")
        out.append(cls)
    return out


EXTRA = [
    "", " ", "a", "A photo of a Bottle.", "a photo of a damaged hazelnut!",
    "Hello, World!!! ... ??? ;-) (parentheses) [brackets] {braces}",
    "it's isn't they're we've I'm you'll he'd IT'S THEY'RE",
    "rock'n'roll o'clock 'quoted' \"double\"",
    "12345 3.14159 1,000,000 2nd 3rd 4th 10x 0xFF",
    "café naïve résumé Zürich São Paulo Ångström façade",
    "Ελληνικά русский язык 中文字符 日本語のテキスト 한국어",
    "emoji 😀🎉👍🏽 ❤️ 🐍",
    "&amp; &lt;tag&gt; &quot;quoted&quot; &#39;apos&#39; &amp;amp; &copy; &eacute;",
    "   leading and trailing   \t spaces \n newlines\r\n tabs\t\t ",
    "MiXeD CaSe WoRdS UPPERCASE lowercase",
    "<|startoftext|>inside<|endoftext|>",
    "hyphen-ated under_score slash/path back\\slash a+b=c 50% $5 #tag @user ~tilde ^caret",
    "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "scratched metal nut with a flipped orientation.",
    "ﬁ ligature ½ fraction ² superscript Ⅻ roman",
    "\u00a0non-breaking\u00a0space\u2003em space",
    "zero\u200bwidth",
    "aaaaaaaaaaaaaaaa bbbbbbbbb",
    "supplementary letters \U00020000\U00020001 \U0001d400\U0001d401bold \U0001d7ce digit",
    "!'s ''s 'S 'LL x'd",
]


def long_strings():
    words = "the quick brown fox jumps over the lazy dog".split()
    return [
        " ".join(words * 10),
        "damaged bottle with large breakage " * 20,
        ", ".join(str(i) for i in range(100)),
        "X X X X " * 30 + "bottle.",
    ]


def main():
    tok = SimpleTokenizer()
    seen = set()
    cases = []
    for text in prompt_strings() + EXTRA + long_strings():
        if text in seen:
            continue
        seen.add(text)
        cases.append({"text": text, "ids": tok.encode(text), "tokenized": tokenize(tok, text)})
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUT_PATH}")


if __name__ == "__main__":
    main()
