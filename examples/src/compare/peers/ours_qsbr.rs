//! rcu-runtime's quiescent-state-based reader: reads through [`QsbrReader::guard`], a quiescent
//! state every [`QS_INTERVAL`] reads (as the liburcu QSBR peer does).

use core::cell::RefCell;

use rcu_runtime::{QsbrReader, Rcu};

use super::ReadPeer;
use crate::compare::payload::Payload;

/// Reads between two quiescent states.
pub(crate) const QS_INTERVAL: u64 = 1024;

thread_local! {
    /// The thread's reader, between `enter_thread` and `leave_thread`.
    static READER: RefCell<Option<QsbrReader>> = const { RefCell::new(None) };
}

/// An [`Rcu`] that nobody updates, read by QSBR readers.
pub(crate) struct OursQsbr {
    current: Rcu<Box<Payload>>,
}

impl OursQsbr {
    pub(crate) fn new() -> Self {
        Self { current: Rcu::new(Payload::boxed(1)) }
    }
}

impl ReadPeer for OursQsbr {
    fn name(&self) -> &'static str {
        "rcu-runtime QsbrReader"
    }

    fn enter_thread(&self) {
        READER.with_borrow_mut(|reader| *reader = Some(QsbrReader::register()));
    }

    fn leave_thread(&self) {
        READER.with_borrow_mut(|reader| drop(reader.take()));
    }

    fn read_n(&self, iterations: u64) -> u64 {
        READER.with_borrow_mut(|reader| {
            let reader = reader.as_mut().expect("enter_thread registers the thread's QsbrReader");
            let mut sum = 0_u64;
            let mut left = iterations;
            while left > 0 {
                let chunk = left.min(QS_INTERVAL);
                for _ in 0..chunk {
                    let value = self.current.dereference(reader.guard()).map_or(0, |payload| payload.read());
                    sum = sum.wrapping_add(value);
                }
                reader.quiescent_state();
                left -= chunk;
            }
            sum
        })
    }
}
