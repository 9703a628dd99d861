//! `#[rcu_head]` must be on the two-word `RcuHead`: `call_rcu` writes its link and callback there.

use rcu_runtime::RcuProtected;

#[derive(RcuProtected)]
struct Node {
    value: u64,
    #[rcu_head]
    head: [usize; 2],
}

fn main() {}
