//! `HasRcuHead` is an `unsafe trait`: `call_rcu` and `drop_async` trust its pointer arithmetic,
//! so implementing it by hand takes an `unsafe impl`.

use rcu_runtime::{HasRcuHead, RcuHead};

struct Node {
    head: RcuHead,
}

impl HasRcuHead for Node {
    fn raw_get_rcu_head(this: *mut Self) -> *mut RcuHead {
        this.cast()
    }

    unsafe fn rcu_head_container_of(head: *mut RcuHead) -> *mut Self {
        head.cast()
    }
}

fn main() {
    let node = Node { head: RcuHead::new() };
    drop(node.head);
}
