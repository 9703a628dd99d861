//! `call_rcu` is `unsafe`: the caller promises the head is owned, unpublished and queued once,
//! which the compiler cannot check.

use std::ptr::NonNull;

use rcu_runtime::{RcuHead, call_rcu};

unsafe fn leak_it(_head: NonNull<RcuHead>) {}

fn main() {
    let head = Box::leak(Box::new(RcuHead::new()));
    call_rcu(NonNull::from(head), leak_it);
}
