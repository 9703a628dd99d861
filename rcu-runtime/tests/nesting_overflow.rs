//! The read-side nesting depth cannot be driven to wrap by safe code: forgetting guards by the
//! billion (about 4.3 billion on a 64-bit target) makes `read_lock` panic before the depth would
//! wrap to zero, a depth at which the thread would look idle to grace periods while borrows taken
//! under the forgotten guards still live.
//!
//! The loop takes seconds in a release build and minutes in a debug one, so the test is ignored
//! by default; run it with
//! `cargo test --release -p rcu-runtime --test nesting_overflow -- --ignored`.
//! (The unit test `nesting_as_deep_as_the_counter_holds_panics_and_changes_nothing` in
//! `src/engine/reader.rs` checks the same refusal from a counter set near its limit, in every
//! run.)

use std::panic::catch_unwind;

use rcu_runtime::{Rcu, is_reading, read_lock};

#[test]
#[ignore = "forgets 2^32 guards: run it in release, see the module documentation"]
fn forgetting_guards_by_the_billion_panics_before_the_depth_wraps() {
    // Never dropped: dropping it would wait for the sections this test leaves open for good.
    let shared: &'static Rcu<Box<u64>> = Box::leak(Box::new(Rcu::new(Box::new(7))));
    let guard = Box::leak(Box::new(read_lock()));
    let seven = shared.dereference(guard).expect("published");
    let outcome = catch_unwind(|| {
        let mut levels = 1_u64;
        loop {
            core::mem::forget(read_lock());
            levels += 1;
            assert!(levels <= u64::from(u32::MAX), "the depth wrapped without a panic");
        }
    });
    assert!(outcome.is_err(), "read_lock panicked at the deepest level");
    assert!(is_reading(), "the thread is still inside its sections");
    assert_eq!(*seven, 7);
}
