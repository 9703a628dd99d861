//! Twin of `call_rcu_requires_unsafe`, `has_rcu_head_impl_requires_unsafe`,
//! `drop_async_without_rcu_head` and `drop_async_value_not_send`: with an `unsafe impl
//! HasRcuHead` (what `#[rcu_head]` derives) a `Send` value can be freed through its embedded
//! head, by `drop_async` or, in an `unsafe` block, by `call_rcu`.

use std::pin::pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

use rcu_runtime::{HasRcuHead, Rcu, RcuHead, call_rcu, rcu_barrier};

static FREED: AtomicUsize = AtomicUsize::new(0);

#[repr(C)]
struct Route {
    head: RcuHead,
    prefix: u32,
}

impl Drop for Route {
    fn drop(&mut self) {
        FREED.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: `Route` is `repr(C)` with `head` first, so a pointer to a `Route` is a pointer to its
// head with the same provenance, and the other way around.
unsafe impl HasRcuHead for Route {
    fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
        this.cast()
    }

    unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
        head.cast()
    }
}

/// Frees a leaked `Box<Route>` through its head.
///
/// # Safety
///
/// `head` is the head of a `Box<Route>` leaked by the caller of `call_rcu`, passed here once.
unsafe fn free_route(head: NonNull<RcuHead>) {
    // SAFETY: by this function's contract the head belongs to a leaked `Box<Route>` we now own.
    drop(unsafe { Box::from_raw(Route::rcu_head_container_of(head.as_ptr())) });
}

fn main() {
    let mut table = pin!(Rcu::new(Box::new(Route { head: RcuHead::new(), prefix: 10 })));
    let old = table.as_mut().replace(Box::new(Route { head: RcuHead::new(), prefix: 11 }));
    old.expect("was published").drop_async();

    let route = Box::into_raw(Box::new(Route { head: RcuHead::new(), prefix: 12 }));
    let head = NonNull::new(Route::raw_get_rcu_head(route)).expect("boxes are non-null");
    // SAFETY: the box was leaked just above and never published, so we own its head exclusively
    // and no reader can reach it; `free_route` frees exactly that box, once.
    unsafe { call_rcu(head, free_route) };

    rcu_barrier();
    assert_eq!(FREED.load(Ordering::Relaxed), 2);
    let guard = rcu_runtime::read_lock();
    assert_eq!(table.dereference(&guard).map(|route| route.prefix), Some(11));
}
