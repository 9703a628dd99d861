//! The systems under comparison, behind three small traits: reading, updating, grace periods.
//!
//! Each system holds one published [`Payload`](super::payload::Payload). The hot loop of each
//! system lives in its own `read_n`, so the trait object is called once per batch of reads, not
//! once per read.

use core::hint::black_box;
use core::sync::atomic::{AtomicBool, Ordering};

pub(crate) mod arc_swap;
pub(crate) mod cell;
pub(crate) mod counter_floor;
pub(crate) mod crossbeam;
#[cfg(feature = "liburcu")]
pub(crate) mod liburcu;
#[cfg(feature = "liburcu")]
pub(crate) mod liburcu_qsbr;
pub(crate) mod ours;
pub(crate) mod ours_qsbr;
pub(crate) mod plain;
pub(crate) mod rwlock;

/// How many reads `read_until` does between two looks at its stop flag.
pub(crate) const READ_BATCH: u64 = 1024;

/// A system that readers use to read the published payload.
pub(crate) trait ReadPeer: Sync {
    /// The name in the report.
    fn name(&self) -> &'static str;

    /// Prepares the current thread to use the system (liburcu needs its threads registered).
    fn enter_thread(&self) {}

    /// Undoes [`ReadPeer::enter_thread`] before the thread exits.
    fn leave_thread(&self) {}

    /// Runs `iterations` read-side sections, each reading the payload's value; returns the sum.
    fn read_n(&self, iterations: u64) -> u64;

    /// Reads until `stop` is set (looking at it every [`READ_BATCH`] reads); returns how many.
    fn read_until(&self, stop: &AtomicBool) -> u64 {
        let mut count = 0;
        // Relaxed: the flag carries no data; the reads are counted by this thread.
        while !stop.load(Ordering::Relaxed) {
            black_box(self.read_n(READ_BATCH));
            count += READ_BATCH;
        }
        count
    }
}

/// A system whose payload one updater replaces, retiring the old one without waiting where the
/// system can.
pub(crate) trait UpdatePeer: ReadPeer {
    /// Publishes a payload holding `value` and retires the old one. One updater at a time.
    fn update(&self, value: u64);

    /// Waits until every retired payload has been freed, where the system offers a way to.
    fn drain(&self) {}
}

/// A system with a blocking wait for a grace period.
pub(crate) trait GracePeriodPeer: ReadPeer {
    /// Waits until every read-side section that began before the call has ended.
    fn synchronize(&self);
}

/// Runs `f` on the current thread between `enter_thread` and `leave_thread` (which runs even
/// if `f` panics: a liburcu thread must not exit registered).
pub(crate) fn on_thread<P: ReadPeer + ?Sized, R>(peer: &P, f: impl FnOnce() -> R) -> R {
    struct Leave<'a, P: ReadPeer + ?Sized>(&'a P);
    impl<P: ReadPeer + ?Sized> Drop for Leave<'_, P> {
        fn drop(&mut self) {
            self.0.leave_thread();
        }
    }
    peer.enter_thread();
    let _leave = Leave(peer);
    f()
}

/// Runs `f` with the current thread entered into every peer of `peers`.
pub(crate) fn on_thread_all<R>(peers: &[Box<dyn ReadPeer>], f: impl FnOnce() -> R) -> R {
    match peers.split_first() {
        None => f(),
        Some((first, rest)) => on_thread(first.as_ref(), || on_thread_all(rest, f)),
    }
}

/// The liburcu peer is compiled in only with the `liburcu` feature.
#[cfg(feature = "liburcu")]
pub(crate) use liburcu::Liburcu;
#[cfg(feature = "liburcu")]
pub(crate) use liburcu_qsbr::LiburcuQsbr;

/// What the report says about liburcu in a build without the `liburcu` feature.
#[cfg(not(feature = "liburcu"))]
pub(crate) const LIBURCU_SKIPPED: &str =
    "liburcu memb (built without `--features liburcu`; `apt-get install liburcu-dev` first)";

/// The same for liburcu's QSBR flavour.
#[cfg(not(feature = "liburcu"))]
pub(crate) const LIBURCU_QSBR_SKIPPED: &str =
    "liburcu qsbr (built without `--features liburcu`; `apt-get install liburcu-dev` first)";

#[cfg(test)]
mod tests {
    use super::arc_swap::ArcSwapPeer;
    use super::counter_floor::CounterFloor;
    use super::crossbeam::CrossbeamEpoch;
    use super::ours::{OursMutex, OursRcu};
    use super::ours_qsbr::{OursQsbr, QS_INTERVAL};
    use super::plain::PlainAtomic;
    use super::rwlock::RwLockPeer;
    use super::*;

    #[test]
    fn every_reader_reads_the_published_value_once_per_iteration() {
        let peers: Vec<Box<dyn ReadPeer>> = vec![
            Box::new(PlainAtomic::new()),
            Box::new(CounterFloor::new()),
            Box::new(OursRcu::new()),
            Box::new(OursMutex::new()),
            Box::new(OursQsbr::new()),
            Box::new(CrossbeamEpoch::new()),
            Box::new(ArcSwapPeer::new()),
            Box::new(RwLockPeer::new()),
        ];
        on_thread_all(&peers, || {
            for peer in &peers {
                assert_eq!(peer.read_n(10), 10, "{}: the payload holds 1", peer.name());
            }
        });
    }

    #[test]
    fn every_updater_publishes_the_new_value() {
        let peers: Vec<Box<dyn UpdatePeer>> = vec![
            Box::new(OursMutex::new()),
            Box::new(CrossbeamEpoch::new()),
            Box::new(ArcSwapPeer::new()),
            Box::new(RwLockPeer::new()),
        ];
        for peer in &peers {
            on_thread(peer.as_ref(), || {
                peer.update(5);
                peer.update(7);
                assert_eq!(peer.read_n(3), 21, "{}", peer.name());
                peer.drain();
            });
        }
    }

    #[cfg(feature = "liburcu")]
    #[test]
    fn liburcu_reads_updates_and_frees_through_the_shim() {
        let peer = Liburcu::new();
        on_thread(&peer, || {
            assert_eq!(peer.read_n(4), 4);
            peer.update(3);
            assert_eq!(peer.read_n(2), 6);
            peer.drain();
            assert_eq!(peer.live(), 1, "only the published payload is left");
        });
    }

    #[test]
    fn qsbr_readers_read_across_quiescent_states_and_leave_offline() {
        let peer = OursQsbr::new();
        on_thread(&peer, || {
            let n = 3 * QS_INTERVAL + 5;
            assert_eq!(peer.read_n(n), n);
            assert!(rcu_runtime::is_reading(), "online between batches");
        });
        assert!(!rcu_runtime::is_reading(), "leave_thread drops the reader");
        rcu_runtime::synchronize_rcu();
    }

    #[cfg(feature = "liburcu")]
    #[test]
    fn liburcu_qsbr_reads_through_the_shim() {
        let peer = LiburcuQsbr::new();
        on_thread(&peer, || assert_eq!(peer.read_n(2 * 1024 + 3), 2 * 1024 + 3));
    }

    #[test]
    fn read_until_stops_when_told() {
        let peer = OursRcu::new();
        let stop = AtomicBool::new(true);
        assert_eq!(on_thread(&peer, || peer.read_until(&stop)), 0);
    }
}
