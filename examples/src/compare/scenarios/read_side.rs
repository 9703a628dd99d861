//! Scenario 1: the read side on one thread, with nobody updating.
//!
//! One critical section per iteration: enter, load the published pointer, read the payload's
//! value, leave. All systems are timed by the same thread, in rounds that visit each in turn.

use super::{ratio_of, sample_reads_in_rounds};
use crate::compare::options::Options;
use crate::compare::peers::ReadPeer;
use crate::compare::peers::arc_swap::ArcSwapPeer;
use crate::compare::peers::counter_floor::CounterFloor;
use crate::compare::peers::crossbeam::CrossbeamEpoch;
use crate::compare::peers::ours::{OursMutex, OursRcu};
use crate::compare::peers::ours_qsbr::OursQsbr;
use crate::compare::peers::plain::PlainAtomic;
use crate::compare::peers::rwlock::RwLockPeer;
use crate::compare::report::{self, Check, Panel, Section, Table};

/// The name of the row every ratio is taken against.
const OURS: &str = "rcu-runtime Rcu";

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    let mut peers: Vec<Box<dyn ReadPeer>> = vec![
        Box::new(PlainAtomic::new()),
        Box::new(CounterFloor::new()),
        Box::new(OursRcu::new()),
        Box::new(OursMutex::new()),
        Box::new(OursQsbr::new()),
    ];
    #[cfg(feature = "liburcu")]
    {
        peers.push(Box::new(crate::compare::peers::Liburcu::new()));
        peers.push(Box::new(crate::compare::peers::LiburcuQsbr::new()));
    }
    #[cfg(not(feature = "liburcu"))]
    section.skipped.extend(
        [crate::compare::peers::LIBURCU_SKIPPED, crate::compare::peers::LIBURCU_QSBR_SKIPPED]
            .map(str::to_owned),
    );
    peers.push(Box::new(CrossbeamEpoch::new()));
    peers.push(Box::new(ArcSwapPeer::new()));
    peers.push(Box::new(RwLockPeer::new()));

    let samples = sample_reads_in_rounds(options, &peers);

    let median = |name: &str| {
        peers.iter().zip(&samples).find(|(p, _)| p.name() == name).map_or(f64::NAN, |(_, s)| s.median())
    };
    let ours = median(OURS);
    let floor = median("AtomicPtr load (floor)");
    let counter_floor = median("TLS counter + fences (RCU floor)");
    let mut table = Table::new(
        "1. Read side, one thread",
        "One read-side critical section per iteration (enter, load the pointer, read a field, \
         leave), nobody updating; cost per iteration. The RCU floor is a bare thread-local \
         counter section (what the memb design costs at the least; it protects nothing). The \
         QSBR readers have no sections: they load and read, with a quiescent state every 1024 \
         reads.",
        &["system", "per read", "× ours", "× AtomicPtr floor", "× RCU floor"],
    );
    for (peer, samples) in peers.iter().zip(&samples) {
        let m = samples.median();
        table.row(vec![
            peer.name().to_owned(),
            report::ns(samples),
            report::ratio(ratio_of(m, ours)),
            report::ratio(ratio_of(m, floor)),
            report::ratio(ratio_of(m, counter_floor)),
        ]);
    }
    section.tables.push(table);

    let liburcu = median("liburcu memb");
    if liburcu.is_finite() {
        section.checks.push(Check::at_most(
            "read side: ours / liburcu memb",
            ratio_of(ours, liburcu),
            1.3,
            "×",
        ));
    }
    section.checks.push(Check::at_most(
        "QSBR read side: ours / AtomicPtr floor",
        ratio_of(median("rcu-runtime QsbrReader"), floor),
        1.2,
        "×",
    ));
    let faster = [("crossbeam-epoch pin+load", 5.0), ("arc-swap load", 10.0), ("RwLock<Arc<T>>::read", 8.0)];
    // The same targets for each of our two read sides: sections (`Rcu`) and QSBR.
    for (ours_name, ours) in [("ours", ours), ("ours QSBR", median("rcu-runtime QsbrReader"))] {
        for (peer, at_least) in faster {
            section.checks.push(Check::at_least(
                &format!("read side: {peer} / {ours_name}"),
                ratio_of(median(peer), ours),
                at_least,
                "×",
            ));
        }
    }
    section.panels.push(Panel {
        title: "Read side, one thread: ns per read-side section (lower is better)".to_owned(),
        unit: "ns".to_owned(),
        bars: peers.iter().zip(&samples).map(|(p, s)| (p.name().to_owned(), s.median())).collect(),
    });
    section
}
