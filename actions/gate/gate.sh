#!/usr/bin/env bash
# The action's gate step. Every input arrives as an environment variable (PLUGINGATE_<OPTION> is read by
# plugingate itself); nothing here is interpolated into the script, so no input can become shell code.
# plugingate writes $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY itself, and its exit code is the step's.
set -euo pipefail

if [ -z "${PG_BUNDLE:-}" ]; then
    echo "::error title=plugingate::the bundle input is empty; set it to the bundle's path in the workspace"
    exit 2
fi
# NOTE: an absolute output folder, so that the path outputs stay valid in later steps whatever
# their working-directory (and plugingate's tools, which run in private working folders, never see
# a relative one).
out="${PLUGINGATE_OUT:-plugingate-out}"
case "$out" in
    /*) ;;
    *) out="$PWD/$out" ;;
esac
export PLUGINGATE_OUT="$out"
args=(gate)
# NOTE: --mode as an argument, not PLUGINGATE_MODE: an option the installed plugingate does not know
# must fail loudly rather than be ignored.
if [ -n "${PG_MODE:-}" ]; then
    args+=(--mode "$PG_MODE")
fi
if [ -n "${PLUGINGATE_ATTEST_KEY:-}" ]; then
    export PLUGINGATE_PASSWORD="${PG_ATTEST_KEY_PASSWORD:-}"
fi
unset PG_ATTEST_KEY_PASSWORD PG_MODE
exec plugingate "${args[@]}" -- "$PG_BUNDLE"
