#!/usr/bin/env bash
# AddressSanitizer run of rcu-runtime: its whole test suite (unit, behaviour and doc tests,
# including the short rcutorture run), then the long rcutorture binary.
#
# Needs a nightly toolchain (`rustup toolchain install nightly`); nothing else. The target is
# given explicitly so that RUSTFLAGS reach only the target code, not build scripts or the derive
# macro (proc macros cannot be sanitized). Inside the stress runs the torture harness's own
# poisoning quarantine is switched off (RCU_TORTURE_QUARANTINE=off): ASan has its own quarantine
# and reports the exact access, with the allocation and free stacks, for blocks it knows are freed.
#
# Environment: RCU_ASAN_TORTURE_SECONDS (default 20) sets the length of the long run;
# CARGO_TARGET_DIR (default target/asan) keeps the instrumented build apart from the normal one.
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-gnu
torture_seconds=${RCU_ASAN_TORTURE_SECONDS:-20}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/asan}
export RUSTFLAGS="-Zsanitizer=address"
export RUSTDOCFLAGS="-Zsanitizer=address"
# Stop at the first error (the report names it); leak checking stays on.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export RCU_TORTURE_QUARANTINE=off
export CARGO_TERM_COLOR=never

# Leaks that tests make on purpose, matched by the test function that allocates them. Anything
# else LeakSanitizer finds fails the run.
suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
cat >"$suppressions" <<'SUPP'
# tests/leaked_guard.rs leaks a guard on purpose: its section must stay open for good.
leak:leaked_guard::
# A drop of an RcuOld (or a non-null Rcu) that panics inside a section cannot free the value
# without the grace period it refused to wait for: it leaks it (tests/misuse_panics.rs).
leak:misuse_panics::dropping_
# An RcuOld dropped while a panic unwinds out of a read-side section leaks its value on purpose
# (waiting would deadlock, panicking again would abort): the two tests that check that path.
leak:misuse_panics::a_panic_that_unwinds_past_an_rcu_old_inside_a_section_does_not_abort
leak:misuse_panics::rcu_old_wait_inside_a_section_panics
# tests/qsbr.rs drops a non-null Rcu on a thread whose QsbrReader is online: the drop panics and
# leaks the value, as inside a section.
leak:qsbr::waiting_for_a_grace_period_while_online_panics_with_the_way_out
# A panic payload whose destructor panics: the engine drops it under a second catch_unwind and
# leaks the second payload instead of letting it escape (engine/panic.rs, catch).
leak:rcu_runtime::engine::panic::catch
# Tests that hand a `PanicsOnDrop` payload to their own caller and forget it there (dropping it
# would panic again): tests/rcu_hash_map.rs, tests/rcu_list.rs, tests/rcu_cell.rs.
leak:PanicsOnDrop
# Dropping an RcuOld inside a section panics even when its grace period has elapsed, and leaks
# the value it refused to drop (tests/grace_period_state.rs).
leak:grace_period_state::dropping_an_old_inside_a_section_panics_even_when_its_grace_period_has_elapsed
# tests/cell_attacks.rs: 20,000 futures forgotten while registered (their values with them); a
# cell dropped on the thread that borrows from it, and RcuOlds dropped inside closures that run
# in a section, panic and leak the value they refused to free.
leak:cell_attacks::forgotten_registered_futures_are_woken_by_the_next_grace_period_and_release_their_wakers
leak:cell_attacks::dropping_the_cell_on_the_thread_that_borrows_from_it_panics_and_leaks_the_borrowed_value
leak:cell_attacks::waiting_or_dropping_an_rcu_old_inside_a_closure_panics_and_publishes_nothing
# tests/rcu_pointer.rs drops an Rcu in place inside a leaked Box (the Box itself is the leak).
leak:rcu_pointer::dropping_an_rcu_waits_for_a_reader_elsewhere
SUPP
export LSAN_OPTIONS="suppressions=$suppressions${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

step() { printf '\n=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
failed=()

step "toolchain"
cargo +nightly --version

step "rcu-runtime test suite under AddressSanitizer"
cargo +nightly test -p rcu-runtime --target "$target" --locked --no-fail-fast || failed+=("test suite")

step "rcutorture under AddressSanitizer, ${torture_seconds} s"
cargo +nightly run --release -p examples --bin rcutorture --target "$target" --locked -- \
    --seconds "$torture_seconds" --progress 5 || failed+=("rcutorture")

if ((${#failed[@]})); then
    step "FAILED: ${failed[*]}"
    exit 1
fi
step "done"
