//! The parts of the `compare` program (`src/bin/compare.rs`): the systems under comparison
//! ([`peers`]), the scenarios that measure them ([`scenarios`]), and the report ([`report`],
//! [`chart`]).
//!
//! Honesty rules that every scenario follows: every system publishes and replaces the same
//! [`payload::Payload`]; every hot loop returns the sum of what it read, which the caller keeps
//! with `black_box`; every loop is warmed up before it is timed; every timed figure (scenarios 1
//! to 5) is the median of at least five repetitions, taken in rounds that visit the systems (or
//! the cases of one system) in turn, so that a burst of background load hits them alike. The
//! memory figures (scenario 6) are peaks over one run per system.

pub(crate) mod chart;
pub(crate) mod machine;
pub(crate) mod options;
pub(crate) mod pacing;
pub(crate) mod payload;
pub(crate) mod peers;
pub(crate) mod report;
pub(crate) mod sample;
pub(crate) mod scenarios;
