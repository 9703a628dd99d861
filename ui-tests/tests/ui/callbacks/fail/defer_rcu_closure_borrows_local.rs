//! `defer_rcu` runs its closure after a grace period, when the caller's scope may be long gone,
//! so the closure must be `'static`: it cannot borrow a local.

fn main() {
    let counter = std::sync::atomic::AtomicU32::new(0);
    rcu_runtime::defer_rcu(|| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    rcu_runtime::rcu_barrier();
}
