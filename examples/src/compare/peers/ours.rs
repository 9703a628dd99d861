//! rcu-runtime, two ways: a plain [`Rcu`] (read-only here), and an [`RcuMutex`] whose reader view
//! readers use while the updater replaces the payload and frees the old one with `drop_async`.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, rcu_barrier, read_lock, synchronize_rcu};

use super::{GracePeriodPeer, ReadPeer, UpdatePeer};
use crate::compare::payload::Payload;

/// `read_lock` + `Rcu::dereference` on an `Rcu` that nobody updates.
pub(crate) struct OursRcu {
    current: Rcu<Box<Payload>>,
}

impl OursRcu {
    pub(crate) fn new() -> Self {
        Self { current: Rcu::new(Payload::boxed(1)) }
    }
}

impl ReadPeer for OursRcu {
    fn name(&self) -> &'static str {
        "rcu-runtime Rcu"
    }

    fn enter_thread(&self) {
        register_current_thread();
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        for _ in 0..iterations {
            let guard = read_lock();
            let value = self.current.dereference(&guard).map_or(0, |payload| payload.read());
            sum = sum.wrapping_add(value);
            drop(guard);
        }
        sum
    }
}

impl GracePeriodPeer for OursRcu {
    fn synchronize(&self) {
        synchronize_rcu();
    }
}

/// What the [`RcuMutex`] protects: the published payload, the one field readers reach.
#[derive(RcuProtected)]
struct Published {
    #[rcu]
    current: Rcu<Box<Payload>>,
}

/// The reader view of an [`RcuMutex`] for readers, `replace` + `drop_async` under its lock for
/// the updater.
pub(crate) struct OursMutex {
    published: RcuMutex<Published>,
}

impl OursMutex {
    pub(crate) fn new() -> Self {
        Self { published: RcuMutex::new(Published { current: Rcu::new(Payload::boxed(1)) }) }
    }
}

impl ReadPeer for OursMutex {
    fn name(&self) -> &'static str {
        "rcu-runtime RcuMutex view"
    }

    fn enter_thread(&self) {
        register_current_thread();
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        for _ in 0..iterations {
            let guard = read_lock();
            let value =
                self.published.rcu().current().dereference(&guard).map_or(0, |payload| payload.read());
            sum = sum.wrapping_add(value);
            drop(guard);
        }
        sum
    }
}

impl UpdatePeer for OursMutex {
    fn update(&self, value: u64) {
        let mut locked = self.published.lock();
        if let Some(old) = locked.project().current.replace(Payload::boxed(value)) {
            // `call_rcu` through the payload's own head: no allocation, no waiting.
            old.drop_async();
        }
    }

    fn drain(&self) {
        rcu_barrier();
    }
}

impl GracePeriodPeer for OursMutex {
    fn synchronize(&self) {
        synchronize_rcu();
    }
}

/// Registers the thread as a reader now, rather than inside the first timed section, so that
/// grace periods see it from the start (as liburcu's explicit registration does).
fn register_current_thread() {
    drop(read_lock());
}
