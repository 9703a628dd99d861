//! A `#[repr(packed)]` struct may have unaligned fields, which are moved before being dropped, so
//! its fields cannot be structurally pinned. (A struct with an `Rcu` field could not be packed
//! anyway: `Rcu` holds an over-aligned atomic, E0588; these cases pin a plain `u64` instead.)
//! As for every error the derive reports, it also emits a stub impl, so using `Config` with
//! `RcuMutex` below adds no error of its own.

use rcu_runtime::{RcuMutex, RcuProtected};

#[derive(RcuProtected)]
#[repr(C, packed)]
struct Config {
    flags: u8,
    #[pin]
    generation: u64,
}

fn main() {
    let config = RcuMutex::new(Config { flags: 0, generation: 0 });
    let _projection = config.lock().project();
}
