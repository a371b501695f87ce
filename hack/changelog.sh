#!/usr/bin/env bash
# Lint the changelog fragments, then run `antsibull-changelog release` on a scratch copy of the
# checkout (a release consumes the fragments) and check that it produced CHANGELOG.rst.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${CHANGELOG_STAGE:-$root/build/changelog}"
rm -rf "$scratch"
coll="$(cd "$root" && hack/stage.sh "$scratch")"
cd "$coll"
antsibull-changelog lint
version="$(sed -n 's/^version: *//p' galaxy.yml)"
antsibull-changelog release --version "$version" --date 2026-12-01
grep -q "^v${version}$" CHANGELOG.rst
echo "CHANGELOG.rst for ${version}: $coll/CHANGELOG.rst ($(wc -l < CHANGELOG.rst) lines)"
