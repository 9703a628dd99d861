//! `#[repr(packed)]` written through `cfg_attr` is rejected as well.

use rcu_runtime::RcuProtected;

#[derive(RcuProtected)]
#[cfg_attr(all(), repr(packed(2)))]
struct Config {
    flags: u8,
    #[pin]
    generation: u64,
}

fn main() {}
