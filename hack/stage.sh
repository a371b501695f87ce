#!/usr/bin/env bash
# Copy the tracked (and untracked, not ignored) files into DIR/ansible_collections/signl4/connectwise,
# the layout ansible-test insists on (it resolves symlinks, so a link does not do).
set -euo pipefail
dest="$1/ansible_collections/signl4/connectwise"
rm -rf "$dest" && mkdir -p "$dest"
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$dest"
echo "$dest"
