//! rcutorture, short: readers race with a writer that uses every reclamation path (synchronous,
//! `RcuOld::wait`, `drop_async`, `defer_drop`, `RcuBox`, polled grace periods) and with fake
//! writers, under a poisoning allocator; no reader may reach freed memory or an element older than
//! one grace period.
//!
//! This is the few-seconds run that is part of `cargo test`; for long runs use
//! `cargo run --release -p examples --bin rcutorture -- --seconds N`. `RCU_TORTURE_SECONDS`
//! lengthens this one too.

use std::time::Duration;

use test_support::poison_alloc::PoisonAllocator;
use test_support::torture::{TortureConfig, run};

#[global_allocator]
static ALLOC: PoisonAllocator = PoisonAllocator;

#[test]
fn readers_never_see_freed_or_outdated_elements() {
    let seconds = std::env::var("RCU_TORTURE_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    let report = run(&TortureConfig::new(Duration::from_secs_f64(seconds)));
    println!("{report}");
    let failures = report.failures();
    assert!(failures.is_empty(), "rcutorture failed:\n{report}");
}
