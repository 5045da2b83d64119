#!/usr/bin/env bash
# The action's install step: plugingate in a virtual environment and the pinned syft, grype and cosign
# (with the vulnerability database db-source names), all in ~/.cache (plugingate-action/ and plugingate/),
# outside $GITHUB_WORKSPACE: nothing the pull request commits can stand in for them (setup-tools also
# refuses a cache inside the workspace or any git work tree, and checks every tool's pinned digest).
# A cache of those folders (actions/cache, keyed by the action's ref) makes later runs start in seconds.
# Inputs arrive as environment variables: PG_VERSION, PG_TOOLS_FROM, PG_DB_SOURCE, PG_PYTHON, PG_BUNDLE.
# NOTE: db-source upstream (the default) runs `grype db update` with the job's GRYPE_DB_UPDATE_URL (a
# mirror's latest.json) when set; when it fails, setup-tools exits 3 and so does this step: no gate runs.
set -euo pipefail

action="${GITHUB_ACTION_PATH:?install.sh runs inside the plugingate action}"
root="$(cd "$action/../.." && pwd)"  # the plugingate checkout this action ships with
home="${PLUGINGATE_ACTION_HOME:-$HOME/.cache/plugingate-action}"
venv="$home/venv"
python="${PG_PYTHON:-python3}"
mkdir -p "$home"
case "$(realpath -m -- "$home")/" in
    "$(realpath -m -- "${GITHUB_WORKSPACE:-/nonexistent}")"/*)
        echo "::error title=plugingate::$home is inside the workspace; plugingate and its tools must live outside it"
        exit 3
        ;;
esac

if [ -n "${PG_VERSION:-}" ]; then
    case "$PG_VERSION" in
        *[!0-9A-Za-z.+-]*) echo "::error title=plugingate::plugingate-version '$PG_VERSION' is not a version"; exit 2 ;;
    esac
    spec="plugingate==$PG_VERSION"
    key="pypi $PG_VERSION"
else
    if [ ! -f "$root/pyproject.toml" ] || [ ! -d "$root/plugingate" ]; then
        echo "::error title=plugingate::no plugingate source at $root; set the plugingate-version input"
        exit 2
    fi
    spec="$root"
    # NOTE: keyed by the source's content, so a changed checkout reinstalls and an unchanged one doesn't.
    key="source $(cd "$root" && find pyproject.toml plugingate -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 \
        | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
fi

start=$(date +%s)
if [ -x "$venv/bin/plugingate" ] && [ "$(cat "$venv/.plugingate-key" 2>/dev/null)" = "$key" ]; then
    echo "plugingate: cached in $venv ($key)"
else
    echo "plugingate: installing $spec into $venv"
    # NOTE: the key file is written last: a half-done install has none and is redone.
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
    echo "$key" >"$venv/.plugingate-key"
fi
echo "$venv/bin" >>"$GITHUB_PATH"
"$venv/bin/plugingate" --version || true

PLUGINGATE_CACHE="${PLUGINGATE_CACHE:-$HOME/.cache/plugingate}" PLUGINGATE_TOOLS_FROM="${PG_TOOLS_FROM:-go}" \
    PLUGINGATE_DB_SOURCE="${PG_DB_SOURCE:-upstream}" PLUGINGATE_PYTHON="$venv/bin/python" \
    "$root/scripts/setup-tools" --github-env >>"$GITHUB_ENV"
# NOTE: Helm only for a bundle that declares a chart (docs/packaging.md); built once, then cached.
if [ -n "${PG_BUNDLE:-}" ]; then
    PLUGINGATE_CACHE="${PLUGINGATE_CACHE:-$HOME/.cache/plugingate}" \
        "$root/scripts/setup-helm" --github-env --if-chart "$PG_BUNDLE" >>"$GITHUB_ENV"
fi
echo "plugingate: ready in $(($(date +%s) - start))s"
