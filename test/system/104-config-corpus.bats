#!/usr/bin/env bats
# SPDX-License-Identifier: Apache-2.0
# Every compose file of the shared corpus (../shared/corpus, real files written by others):
# valid ones load and their config output reads back to the same bytes; the ones invalid on
# purpose are rejected with an error that names the right thing. The corpus stores files with
# '/' written as '__'; the trees are rebuilt so fixtures find their neighbours.

load helpers

CORPUS="$BATS_TEST_DIRNAME/../../../shared/corpus"

# path (inside the rebuilt tree) | text the error must contain | why the file is rejected
EXPECTED_REJECTIONS=(
    "compose-go/loader/testdata/compose-depends-on-cycle.yaml|dependency cycle: service1 -> service2 -> service3 -> service1|a depends_on cycle, on purpose"
    "compose-go/loader/testdata/compose-depends-on-self.yaml|dependency cycle: service1 -> service1|a service depending on itself, on purpose"
    "compose-go/loader/testdata/compose-depends-on-profile-no-cycle.yaml|dependency cycle|no profiles in the file, so the cycle is real (compose-go's test selects services)"
    "compose-go/loader/testdata/compose-include-cycle.yaml|include cycle|includes itself, on purpose"
    "compose-go/loader/testdata/remote/cycle/compose.yaml|remote:cycle|compose-go's test-only 'remote:' resource loader"
    "compose-go/loader/testdata/remote/cycle/compose-cycle.yaml|remote:cycle|compose-go's test-only 'remote:' resource loader"
    "compose-go/loader/testdata/remote/nested/compose.yaml|remote:nested|compose-go's test-only 'remote:' resource loader"
    "compose-go/schema/using-variables.yaml|services.foo.deploy.replicas: '' is not an integer|schema-only test data: its variables are unset (and its networks undefined)"
    "compose-go/loader/testdata/extends/base.yaml|services.nil: must be a mapping, got null|only ever used as an extends source; on its own a null service is invalid"
    "compose/pkg/e2e/fixtures/wrong-composefile/compose.yaml|unknown key 'wrongField'|docker compose's own invalid-file test"
    "compose/pkg/e2e/testdata/TestUpContainerNameConflict/compose.yaml|'fixed-name' is also the container name of service 'test'|two services with one container_name, on purpose"
    "compose/pkg/e2e/fixtures/env_file/compose.yaml|env file '/doesnotexist/.env' not found|a missing env_file, on purpose (docker compose's test only selects the other service)"
)

# Neighbours the fixtures ship that the corpus (compose files only) lacks: path | file beside
# it, created empty | why
NEIGHBOURS=(
    "compose-go/loader/testdata/include/dir/compose.yaml|extra.env|the env_file of compose-go's include fixture"
    "compose/pkg/e2e/testdata/TestPublishDetectSensitiveData/compose.yaml|publish-sensitive.env|the env_file of docker compose's publish test"
)

# Files used with an environment: path | VAR=value ...
ENVIRONMENTS=(
    "compose/pkg/e2e/testdata/TestUpImageID/compose.yaml|ID=sha256:0123456789abcdef"
    "compose/pkg/e2e/testdata/TestUpContainerNameConflict/compose.yaml|FIXED_NAME=fixed-name"
    "compose/pkg/e2e/fixtures/logs-test/cat.yaml|FILE=/tmp/text_file.txt"
)

setup() {
    berth_setup
    [ -d "$CORPUS" ] || skip "the shared corpus is not beside the repository (../shared)"
    TREE="$TEST_DIR/corpus"
    # One process rebuilds the trees (hundreds of mkdir and cp would take longer than the test).
    /usr/bin/python3 - "$CORPUS" "$TREE" <<'PYEOF'
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
for sub in sorted(os.listdir(src)):
    if not os.path.isdir(os.path.join(src, sub)):
        continue
    for name in sorted(os.listdir(os.path.join(src, sub))):
        target = os.path.join(dst, sub, name.replace("__", "/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(src, sub, name), target)
PYEOF
}

expected_for() { # the EXPECTED_REJECTIONS entry of a file, or nothing
    local e
    for e in "${EXPECTED_REJECTIONS[@]}"; do
        if [ "${e%%|*}" = "$1" ]; then
            echo "$e"
            return 0
        fi
    done
    return 0
}

env_for() {
    local e
    for e in "${ENVIRONMENTS[@]}"; do
        if [ "${e%%|*}" = "$1" ]; then
            echo "${e#*|}"
            return 0
        fi
    done
    return 0
}

@test "every corpus file is accepted and round-trips, or rejected for its known reason" {
    local accepted=0 rejected=0 bad=()
    local f rel exp env out out2 st n
    for n in "${NEIGHBOURS[@]}"; do
        f="${n%%|*}"
        n="${n#*|}"
        touch "$TREE/$(dirname "$f")/${n%%|*}"
    done
    while IFS= read -r -d '' f; do
        rel="${f#"$TREE"/}"
        exp=$(expected_for "$rel")
        env=$(env_for "$rel")
        st=0
        # shellcheck disable=SC2086 # env holds VAR=value words
        out=$(cd "$(dirname "$f")" && ${env:+env $env} "$BERTH" -f "$(basename "$f")" config 2>&1) ||
            st=$?
        if [ -n "$exp" ]; then
            local want="${exp#*|}"
            want="${want%%|*}"
            if [ "$st" -ne 1 ] || [[ "$out" != *"$want"* ]]; then
                bad+=("$rel: expected rejection containing '$want' (${exp##*|}), got status $st: ${out:0:300}")
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
        # shellcheck disable=SC2086
        out2=$(cd "$(dirname "$f")" && ${env:+env $env} "$BERTH" -f - config 2>/dev/null <<<"$model") ||
            st=$?
        if [ "$st" -ne 0 ] || [ "$out2" != "$model" ]; then
            bad+=("$rel: config output does not read back to the same bytes")
        fi
        accepted=$((accepted + 1))
    done < <(find "$TREE" -name '*.y*ml' -print0 | sort -z)
    echo "# corpus: $accepted accepted, $rejected rejected as expected, ${#bad[@]} wrong" >&3
    if [ "${#bad[@]}" -gt 0 ]; then
        printf '%s\n' "${bad[@]}"
        return 1
    fi
    [ "$accepted" -gt 250 ]
}
