//! A struct has at most one `#[rcu_head]`: `HasRcuHead` names the one head `call_rcu` uses.

use rcu_runtime::{RcuHead, RcuProtected};

#[derive(RcuProtected)]
struct Node {
    value: u64,
    #[rcu_head]
    head: RcuHead,
    #[rcu_head]
    spare: RcuHead,
}

fn main() {}
