#!/usr/bin/env bash
# The command-line tool end to end on small data: train (with report, metrics, checkpoints),
# resume, info, every eval mode, embed → .npy, augment-preview, and bad input → one line on
# stderr and a non-zero exit.
set -u
BIN=${1:-build/bin/contrastive}
OUT=${2:-build/cli-test}
PY=${PYTHON:-python3}
rm -rf "$OUT"; mkdir -p "$OUT"
fails=0; checks=0
ok()   { checks=$((checks+1)); echo "ok: $1"; }
bad()  { checks=$((checks+1)); fails=$((fails+1)); echo "FAIL: $1"; }
expect_ok() { local what=$1; shift; if "$@" >"$OUT/last.out" 2>"$OUT/last.err"; then ok "$what"; else bad "$what (exit $?): $(tail -3 "$OUT/last.err")"; fi; }
# A failing command must exit non-zero with exactly one "contrastive: ..." line on stderr.
expect_fail() {
  local what=$1; shift
  if "$@" >"$OUT/last.out" 2>"$OUT/last.err"; then bad "$what: exited 0"; return; fi
  if [ "$(wc -l <"$OUT/last.err")" -eq 1 ] && grep -q '^contrastive: ' "$OUT/last.err"; then ok "$what: $(cat "$OUT/last.err")"
  else bad "$what: stderr was: $(cat "$OUT/last.err")"; fi
}

SMALL=(--data procedural:640:16 --arch convnet --channels 8,16,32 --head-hidden 64 --head-out 32 --batch 64 --quiet --seed 3)
expect_ok "train simclr" "$BIN" train "${SMALL[@]}" --epochs 2 --out "$OUT/run"
for f in checkpoint.safetensors encoder.safetensors metrics.csv metrics.json report.html augment_preview.png; do
  [ -s "$OUT/run/$f" ] && ok "wrote $f" || bad "missing $OUT/run/$f"
done
grep -q "raw pixels" "$OUT/last.out" && grep -q "random-init encoder" "$OUT/last.out" && grep -q "simclr encoder" "$OUT/last.out" \
  && ok "evaluation table printed" || bad "evaluation table missing: $(cat "$OUT/last.out")"
[ "$(wc -l <"$OUT/run/metrics.csv")" -eq 21 ] && ok "metrics.csv has 20 steps" || bad "metrics.csv rows: $(wc -l <"$OUT/run/metrics.csv")"
$PY - "$OUT/run" <<'PYEOF' && ok "metrics.json parses, report is self-contained" || bad "metrics.json / report.html check"
import json, sys, re
run = sys.argv[1]
m = json.load(open(f"{run}/metrics.json"))
assert m["config"]["method"] == "simclr" and len(m["epochs"]) == 2, m
assert [r["features"] for r in m["evaluation"]] == ["raw pixels", "random-init encoder", "simclr encoder"], m["evaluation"]
html = open(f"{run}/report.html").read()
assert "<svg" in html and "data:image/png;base64," in html and "Evaluation" in html
assert not re.search(r"""(src|href)=["']https?:""", html), "report must not load anything from the network"
PYEOF
expect_ok "resume to 3 epochs" "$BIN" train "${SMALL[@]}" --epochs 3 --out "$OUT/run" --resume "$OUT/run/checkpoint.safetensors" --no-eval
grep -q "resumed" "$OUT/last.out" && ok "resume reported" || bad "resume not reported"
expect_ok "info (training checkpoint)" "$BIN" info "$OUT/run/checkpoint.safetensors"
grep -q "method simclr, epoch 3/3" "$OUT/last.out" && ok "info shows method and epoch" || bad "info: $(head -3 "$OUT/last.out")"
expect_ok "info (encoder)" "$BIN" info "$OUT/run/encoder.safetensors"
for mode in knn linear map cluster; do
  expect_ok "eval $mode" "$BIN" eval $mode --encoder "$OUT/run/encoder.safetensors" --data procedural:640:16
  grep -qE "top1=|map=|nmi=" "$OUT/last.out" && ok "eval $mode prints: $(cat "$OUT/last.out")" || bad "eval $mode output: $(cat "$OUT/last.out")"
done
expect_ok "eval finetune" "$BIN" eval finetune --encoder "$OUT/run/encoder.safetensors" --data procedural:640:16 --epochs 1 --batch 64
expect_ok "embed" "$BIN" embed --encoder "$OUT/run/encoder.safetensors" --data procedural:100:16 --out "$OUT/feats.npy" --normalize
$PY -c "import numpy as np, sys; a = np.load('$OUT/feats.npy'); assert a.shape == (100, 32) and a.dtype == np.float32; assert abs(np.linalg.norm(a, axis=1) - 1).max() < 1e-4" \
  && ok "embed wrote (100, 32) unit rows" || bad "feats.npy content"
expect_ok "augment-preview" "$BIN" augment-preview --data procedural:8:32 --out "$OUT/preview.png"
[ "$(head -c 4 "$OUT/preview.png" | od -An -tx1 | tr -d ' ')" = "89504e47" ] && ok "preview is a PNG" || bad "preview is not a PNG"

expect_fail "unknown command" "$BIN" frobnicate
expect_fail "unknown option" "$BIN" train --epoch 3
expect_fail "bad number" "$BIN" train --epochs three
expect_fail "bad method" "$BIN" train --method nope
expect_fail "missing value" "$BIN" train --epochs
expect_fail "unknown dataset" "$BIN" train --data nowhere:1
expect_fail "batch larger than the dataset" "$BIN" train --data procedural:32:16 --batch 64 --quiet
expect_fail "missing file" "$BIN" info "$OUT/does-not-exist.safetensors"
expect_fail "not a checkpoint" "$BIN" info "$OUT/run/metrics.csv"
expect_fail "eval without encoder" "$BIN" eval knn --data procedural:64:16
expect_fail "eval unknown mode" "$BIN" eval nope --encoder "$OUT/run/encoder.safetensors"
expect_fail "eval k larger than the training set" "$BIN" eval knn --encoder "$OUT/run/encoder.safetensors" --data procedural:64:16 --k 1000
expect_fail "resume from another method" "$BIN" train "${SMALL[@]}" --method byol --epochs 3 --out "$OUT/run2" --resume "$OUT/run/checkpoint.safetensors" --no-eval

echo "test_cli: $checks checks, $fails failures"
[ "$fails" -eq 0 ]
