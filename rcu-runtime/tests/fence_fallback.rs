//! The fallback barrier flavour: with `force_fence_barriers()` called before the engine starts,
//! readers and grace periods use full fences instead of membarrier, and a short torture run still
//! finds no reader reaching freed or outdated memory. (The default flavour is covered by
//! `tests/torture.rs`; each test binary is its own process, so each gets its own engine.)

use std::time::Duration;

use rcu_runtime::config::{self, BarrierMode};
use test_support::poison_alloc::PoisonAllocator;
use test_support::torture::{TortureConfig, run};

#[global_allocator]
static ALLOC: PoisonAllocator = PoisonAllocator;

#[test]
fn a_torture_run_passes_with_fence_barriers() {
    // The only test of this binary, so nothing has started the engine yet.
    config::force_fence_barriers().expect("the engine has not started in this process");
    assert_eq!(config::barrier_mode(), BarrierMode::Fences);
    let report = run(&TortureConfig::new(Duration::from_secs(2)));
    println!("{report}");
    assert_eq!(report.barrier_mode, BarrierMode::Fences);
    assert!(report.failures().is_empty(), "rcutorture with fence barriers failed:\n{report}");
    // Asking again once started reports the flavour in use, which is the one asked for.
    assert_eq!(config::force_fence_barriers(), Ok(()));
}
