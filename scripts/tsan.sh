#!/usr/bin/env bash
# ThreadSanitizer run of rcu-runtime: its unit and behaviour tests (tests/*.rs but the loom
# models; the #[ignore]d ones stay ignored), then a short run of the rcutorture binary.
#
# Needs a nightly toolchain (`rustup toolchain install nightly`); nothing else. Without rust-src
# there is no -Zbuild-std, so the standard library stays uninstrumented, and TSan misses the
# happens-before edges that std creates inside its own compiled code:
# - std's Mutex and Condvar: the contended lock path and the re-locking in Condvar::wait. Built
#   with --cfg rcu_tsan, the harness's locks (test-support/src/sync.rs) tell TSan about their
#   edges with __tsan_acquire/__tsan_release; the runtime's engine locks need the same (see
#   RELIABILITY.md, "ThreadSanitizer"), or every access to the data they protect is reported;
# - Arc's last drop (a fence) and libtest's result channel: named in scripts/tsan.supp, with why.
# Anything else TSan reports fails the run. -Cunsafe-allow-abi-mismatch=sanitizer lets our
# instrumented crates link against that uninstrumented std.
#
# The engine runs its fallback flavour (RCU_BARRIER=fences): TSan does not model membarrier(2).
# It does not model standalone fences either, so in both flavours a reader's section end and the
# grace period's look at it (Relaxed accesses ordered by fences) carry no edge TSan can see; under
# --cfg rcu_tsan the runtime would make them Release and Acquire (again: RELIABILITY.md).
#
# Environment: RCU_TSAN_TORTURE_SECONDS (default 10) sets the length of the rcutorture run;
# CARGO_TARGET_DIR (default target/tsan) keeps the instrumented build apart from the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu
torture_seconds=${RCU_TSAN_TORTURE_SECONDS:-10}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/tsan}
export RUSTFLAGS="-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer --cfg rcu_tsan"
export RCU_BARRIER=fences
export CARGO_TERM_COLOR=never

suppressions="$PWD/scripts/tsan.supp"
# halt_on_error: the first report fails the test binary, with its stacks. die_after_fork=0: the
# fork tests and the torture run's forker start threads in children of a multi-threaded parent
# (the child's callback worker), which TSan refuses by default; TSan's own state is kept
# consistent across fork by its fork interceptor. second_deadlock_stack: both stacks of a
# lock-order report.
export TSAN_OPTIONS="suppressions=$suppressions:halt_on_error=1:die_after_fork=0:second_deadlock_stack=1${TSAN_OPTIONS:+:$TSAN_OPTIONS}"

step() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
failed=()

step "toolchain"
cargo +nightly --version

# Every behaviour test file but the loom models (loom*.rs, which build to nothing without --cfg loom).
tests=()
for file in rcu-runtime/tests/*.rs; do
    name=$(basename "$file" .rs)
    [[ $name == loom* ]] || tests+=(--test "$name")
done

step "rcu-runtime unit and behaviour tests under ThreadSanitizer"
cargo +nightly test -p rcu-runtime --target "$target" --locked --no-fail-fast --lib "${tests[@]}" ||
    failed+=("test suite")

step "rcutorture under ThreadSanitizer, ${torture_seconds} s"
# A debug build, like the tests: in an optimized one TSan names the functions inlined into a racing
# access by their short names (`drop<..>` for an `Arc` drop inlined into `JoinHandle::join`), which
# the suppressions' full names do not match.
cargo +nightly run -p examples --bin rcutorture --target "$target" --locked -- \
    --seconds "$torture_seconds" --progress 5 || failed+=("rcutorture")

if ((${#failed[@]})); then
    step "FAILED: ${failed[*]}"
    exit 1
fi
step "done"
