//! `#[repr(packed)]` added by an attribute macro that runs after the derive (so the derive never
//! sees it) is still rejected: the derive emits a function that borrows every field, which the
//! compiler refuses for a packed struct.

use rcu_runtime::RcuProtected;

#[derive(RcuProtected)]
#[attacker::add_repr_packed]
struct Config {
    flags: u8,
    #[pin]
    generation: u64,
}

fn main() {}
