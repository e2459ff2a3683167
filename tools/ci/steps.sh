# shellcheck shell=bash
# Timed steps for .ci/run (sourced, not run): `step NAME COMMAND...` runs COMMAND with its output
# shown as usual, and when the script exits, whether it passed or not, a table says how long each
# step took and which one failed. The closing line of every pytest run is repeated after the table
# so that the last line of the log still says what the tests did.
#
# Bash 5 (EPOCHREALTIME). The caller sets `set -euo pipefail`: a failing step ends the script.

_steps_logs="$(mktemp -d)"
_steps_rows=()
_steps_current=""
_steps_started=""
_steps_begin=$EPOCHREALTIME

_steps_seconds_since() { # <EPOCHREALTIME value>
    awk -v start="$1" -v now="$EPOCHREALTIME" 'BEGIN { printf "%.1f", now - start }'
}

step() { # <name> <command>...
    local name=$1
    shift
    printf '\n==> %s: %s\n' "$name" "$*"
    _steps_current=$name
    _steps_started=$EPOCHREALTIME
    "$@" 2>&1 | tee "$_steps_logs/$(( ${#_steps_rows[@]} + 100 )).log"
    _steps_rows+=("$name|$(_steps_seconds_since "$_steps_started")|ok")
    _steps_current=""
}

_steps_summary() {
    local code=$? row name seconds result log line
    if [[ -n $_steps_current ]]; then
        _steps_rows+=("$_steps_current|$(_steps_seconds_since "$_steps_started")|FAILED (exit $code)")
    fi
    printf '\n%-24s %9s  %s\n' "step" "seconds" "result"
    for row in "${_steps_rows[@]}"; do
        IFS='|' read -r name seconds result <<<"$row"
        printf '%-24s %9s  %s\n' "$name" "$seconds" "$result"
    done
    printf '%-24s %9s  %s\n' "total" "$(_steps_seconds_since "$_steps_begin")" \
        "$([[ $code -eq 0 ]] && echo ok || echo "FAILED (exit $code)")"
    for log in "$_steps_logs"/*.log; do
        [[ -e $log ]] || continue
        line="$(grep -E '^=+ .*(passed|failed|errors?|skipped|no tests ran).* in [0-9.]+s' "$log" \
            | tail -n 1 || true)"
        [[ -n $line ]] && printf '%s\n' "$line"
    done
    rm -rf "$_steps_logs"
    return "$code"
}
trap _steps_summary EXIT
