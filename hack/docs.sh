#!/usr/bin/env bash
# Build the collection, install the tarball, and render every module's documentation from it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/build/dist"
rm -rf "$out" "$root/build/installed" && mkdir -p "$out"
ansible-galaxy collection build --force --output-path "$out" "$root" >/dev/null
ansible-galaxy collection install --force -p "$root/build/installed" "$out"/signl4-connectwise-*.tar.gz >/dev/null
count=0
for module in "$root"/plugins/modules/*.py; do
  name="signl4.connectwise.$(basename "$module" .py)"
  ANSIBLE_COLLECTIONS_PATH="$root/build/installed" ansible-doc "$name" >/dev/null
  count=$((count + 1))
done
echo "built, installed and rendered the docs of $count modules"
