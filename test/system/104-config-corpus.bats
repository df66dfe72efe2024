#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Every compose file of the shared corpus (helpers-corpus.bash): valid ones load and their config
# output reads back to the same bytes; the ones invalid on purpose are rejected with an error
# that names the right thing.

load helpers
load helpers-corpus

setup() {
    berth_setup
    corpus_setup
}

@test "every corpus file is accepted and round-trips, or rejected for its known reason" {
    local accepted=0 rejected=0 bad=()
    local f rel exp out out2 st
    while IFS= read -r -d '' f; do
        rel="${f#"$CORPUS_TREE"/}"
        exp=$(corpus_rejection "$rel")
        st=0
        out=$(corpus_berth "$f" -f "$(basename "$f")" config 2>&1) || st=$?
        if [ -n "$exp" ]; then
            local want="${exp%%|*}"
            if [ "$st" -ne 1 ] || [[ "$out" != *"$want"* ]]; then
                bad+=("$rel: expected rejection containing '$want' (${exp#*|}), got status $st: ${out:0:300}")
            fi
            rejected=$((rejected + 1))
            continue
        fi
        if [ "$st" -ne 0 ]; then
            bad+=("$rel: rejected (status $st): ${out:0:300}")
            continue
        fi
        # The output (without the warnings printed first) read back from stdin in the same
        # directory, so the same .env applies: berth config | berth config -f -
        local model
        model=$(grep -v '^WARN' <<<"$out")
        out2=$(corpus_berth "$f" -f - config 2>/dev/null <<<"$model") || st=$?
        if [ "$st" -ne 0 ] || [ "$out2" != "$model" ]; then
            bad+=("$rel: config output does not read back to the same bytes")
        fi
        accepted=$((accepted + 1))
    done < <(corpus_files)
    echo "# corpus: $accepted accepted, $rejected rejected as expected, ${#bad[@]} wrong" >&3
    if [ "${#bad[@]}" -gt 0 ]; then
        printf '%s\n' "${bad[@]}"
        return 1
    fi
    [ "$accepted" -gt 250 ]
}
