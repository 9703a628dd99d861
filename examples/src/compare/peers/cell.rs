//! `RcuCell` against arc-swap on arc-swap's own job: one `Arc` that readers load and any thread
//! replaces. Both sides publish the same `Arc<Payload>`.

use std::sync::Arc;

use arc_swap::ArcSwap;
use rcu_runtime::{RcuCell, read_lock};

use super::ReadPeer;
use crate::compare::payload::Payload;

/// What the read peers of this file do in each iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CellRead {
    /// `read_lock` + `dereference` + read a field + drop the guard.
    Dereference,
    /// `read()`: a snapshot with its own guard, read, dropped.
    Snapshot,
    /// `dereference(&guard)?.to_arc()`: an owned `Arc` (one increment, one decrement).
    ToArc,
}

/// An `RcuCell<Arc<Payload>>`, read one of three ways.
pub(crate) struct OursCell {
    cell: RcuCell<Arc<Payload>>,
    how: CellRead,
}

impl OursCell {
    pub(crate) fn new(how: CellRead) -> Self {
        Self { cell: RcuCell::new(Arc::new(Payload::new(1))), how }
    }
}

impl ReadPeer for OursCell {
    fn name(&self) -> &'static str {
        match self.how {
            CellRead::Dereference => "RcuCell dereference",
            CellRead::Snapshot => "RcuCell read()",
            CellRead::ToArc => "RcuCell dereference + to_arc",
        }
    }

    fn enter_thread(&self) {
        // Registers the thread now rather than inside the first timed section.
        drop(read_lock());
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        match self.how {
            CellRead::Dereference => {
                for _ in 0..iterations {
                    let guard = read_lock();
                    let value = self.cell.dereference(&guard).map_or(0, |payload| payload.read());
                    sum = sum.wrapping_add(value);
                    drop(guard);
                }
            }
            CellRead::Snapshot => {
                for _ in 0..iterations {
                    sum = sum.wrapping_add(self.cell.read().map_or(0, |payload| payload.read()));
                }
            }
            CellRead::ToArc => {
                for _ in 0..iterations {
                    let owned = self.cell.dereference(&read_lock()).map(|b| b.to_arc());
                    sum = sum.wrapping_add(owned.map_or(0, |payload| payload.read()));
                }
            }
        }
        sum
    }
}

/// arc-swap's `load_full`: an owned `Arc` per read.
pub(crate) struct ArcSwapFull {
    current: ArcSwap<Payload>,
}

impl ArcSwapFull {
    pub(crate) fn new() -> Self {
        Self { current: ArcSwap::from_pointee(Payload::new(1)) }
    }
}

impl ReadPeer for ArcSwapFull {
    fn name(&self) -> &'static str {
        "arc-swap load_full"
    }

    fn read_n(&self, iterations: u64) -> u64 {
        let mut sum = 0_u64;
        for _ in 0..iterations {
            sum = sum.wrapping_add(self.current.load_full().read());
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::peers::on_thread;

    #[test]
    fn every_way_of_reading_the_cell_reads_the_payload() {
        for how in [CellRead::Dereference, CellRead::Snapshot, CellRead::ToArc] {
            let peer = OursCell::new(how);
            assert_eq!(on_thread(&peer, || peer.read_n(5)), 5, "{}", peer.name());
        }
        assert_eq!(ArcSwapFull::new().read_n(3), 3);
    }
}
