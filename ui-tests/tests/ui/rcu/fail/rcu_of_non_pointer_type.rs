//! An `Rcu` holds an owning pointer (`Box`, `Arc`, `Pin<Box>`, `RcuBox`): a value that is not
//! `ForeignOwnable` cannot be published, since readers load it with one atomic pointer load.

use rcu_runtime::Rcu;

fn main() {
    let _ = Rcu::new(5_u64);
}
