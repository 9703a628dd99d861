//! arc-swap: `ArcSwap::load` on the read side, `store` on the update side (the old `Arc` is freed
//! by whoever drops its last reference).

use arc_swap::ArcSwap;
use std::sync::Arc;

use super::{ReadPeer, UpdatePeer};
use crate::compare::payload::Payload;

/// A payload in an `ArcSwap`.
pub(crate) struct ArcSwapPeer {
    current: ArcSwap<Payload>,
}

impl ArcSwapPeer {
    pub(crate) fn new() -> Self {
        Self { current: ArcSwap::from_pointee(Payload::new(1)) }
    }
}

impl ReadPeer for ArcSwapPeer {
    fn name(&self) -> &'static str {
        "arc-swap load"
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        for _ in 0..iterations {
            sum = sum.wrapping_add(self.current.load().read());
        }
        sum
    }
}

impl UpdatePeer for ArcSwapPeer {
    fn update(&self, value: u64) {
        self.current.store(Arc::new(Payload::new(value)));
    }
}
