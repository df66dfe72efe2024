# SPDX-License-Identifier: Apache-2.0
# The shared corpus of compose files (../shared/corpus: real files written by others) for the
# config tests: the files berth rejects on purpose and why, the neighbours and environments some
# fixtures need, and the tree rebuilt per test. The corpus stores files with '/' written as '__';
# the trees are rebuilt so fixtures find their neighbours.
#
# A .bats file loads this after helpers (`load helpers-corpus`) and calls corpus_setup from its
# setup, after berth_setup.

CORPUS="$BERTH_TOP/../shared/corpus"

# path (inside the rebuilt tree) | text the error must contain | why the file is rejected
CORPUS_REJECTIONS=(
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
    "compose/pkg/e2e/fixtures/publish/oci/compose-override.yaml|services.app: neither an image nor a build context|an override file, only used after compose.yaml"
    "compose/pkg/e2e/testdata/TestLocalComposeConfigNoConsistency/compose.yaml|services.incomplete: neither an image nor a build context|docker compose's test of config --no-consistency, on purpose"
)

# Neighbours the fixtures ship that the corpus (compose files only) lacks: path | file beside
# it, created empty | why
CORPUS_NEIGHBOURS=(
    "compose-go/loader/testdata/include/dir/compose.yaml|extra.env|the env_file of compose-go's include fixture"
    "compose/pkg/e2e/testdata/TestPublishDetectSensitiveData/compose.yaml|publish-sensitive.env|the env_file of docker compose's publish test"
)

# Files used with an environment: path | VAR=value ...
CORPUS_ENVIRONMENTS=(
    "compose/pkg/e2e/testdata/TestUpImageID/compose.yaml|ID=sha256:0123456789abcdef"
    "compose/pkg/e2e/testdata/TestUpContainerNameConflict/compose.yaml|FIXED_NAME=fixed-name"
    "compose/pkg/e2e/fixtures/logs-test/cat.yaml|FILE=/tmp/text_file.txt"
)

# Rebuild the corpus under $TEST_DIR/corpus (sets CORPUS_TREE) with its neighbours; skips the
# test when the corpus is not beside the repository.
corpus_setup() {
    [ -d "$CORPUS" ] || skip "the shared corpus is not beside the repository (../shared)"
    CORPUS_TREE="$TEST_DIR/corpus"
    # One process rebuilds the trees (hundreds of mkdir and cp would take longer than the test).
    "$PYTHON" - "$CORPUS" "$CORPUS_TREE" <<'PYEOF'
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
    local n f
    for n in "${CORPUS_NEIGHBOURS[@]}"; do
        f="${n%%|*}"
        n="${n#*|}"
        touch "$CORPUS_TREE/$(dirname "$f")/${n%%|*}"
    done
}

# The entry of a list ("path|...") for a path inside the tree, without the path; nothing when the
# path is not in the list. corpus_entry REL ENTRY...
corpus_entry() {
    local rel=$1 e
    shift
    for e in "$@"; do
        if [ "${e%%|*}" = "$rel" ]; then
            echo "${e#*|}"
            return 0
        fi
    done
    return 0
}

# "text|why" when berth must reject the file, else nothing.
corpus_rejection() {
    corpus_entry "$1" "${CORPUS_REJECTIONS[@]}"
}

# Every compose file of the tree, NUL-terminated, in a stable order.
corpus_files() {
    find "$CORPUS_TREE" -name '*.y*ml' -print0 | sort -z
}

# corpus_berth FILE ARGS...: berth ARGS run in FILE's directory with the environment the file
# needs (stdin is the caller's); prints the output and returns berth's status. The caller names
# the file (-f "$(basename "$f")" or -f -): berth is run directly, not through run_berth, so
# hundreds of files take seconds.
corpus_berth() {
    local f=$1 env
    shift
    env=$(corpus_entry "${f#"$CORPUS_TREE"/}" "${CORPUS_ENVIRONMENTS[@]}")
    # shellcheck disable=SC2086 # env holds VAR=value words
    (cd "$(dirname "$f")" && ${env:+env $env} "$BERTH" "$@")
}
