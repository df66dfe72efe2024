#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Enforces the module boundaries of STYLE.md section 1: dependencies flow one way
# (orchestrator -> healthcheck, netdns, engine, compose), engine/base is the only part of engine/
# that every module may include, and *-int.h headers stay inside their folder.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bad=0
# module: which berth include prefixes it may use
declare -A allowed=(
    [compose]="engine/base/ compose/"
    [netdns]="engine/base/ netdns/"
    [healthcheck]="engine/base/ engine/engine.h healthcheck/"
    [engine]="engine/"
    [orchestrator]="engine/ compose/ netdns/ healthcheck/ orchestrator/"
)
for mod in "${!allowed[@]}"; do
    [ -d "$mod" ] || continue
    while IFS=: read -r file line inc; do
        path=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"$inc")
        ok=0
        for prefix in ${allowed[$mod]}; do
            case "$path" in "$prefix"*) ok=1 ;; esac
        done
        case "$path" in
            *-int.h) [ "$(dirname "$path")" = "$(dirname "$file")" ] || ok=0 ;;
        esac
        if [ "$ok" -eq 0 ]; then
            echo "$file:$line: $mod/ may not include \"$path\" (STYLE.md section 1)"
            bad=1
        fi
    done < <(grep -rn --include='*.[ch]' '^#include "' "$mod")
done
# engine/base knows nothing of the rest of engine/.
if grep -rn --include='*.[ch]' '^#include "' engine/base | grep -v '"engine/base/'; then
    echo "engine/base may include only engine/base"
    bad=1
fi
exit $bad
