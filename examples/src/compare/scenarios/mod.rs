//! The scenarios of the comparison, one module each, and the timing helpers they share.

use core::hint::black_box;
use std::time::{Duration, Instant};

use super::options::Options;
use super::peers::{READ_BATCH, ReadPeer, on_thread_all};
use super::sample::{Samples, median_of};

pub(crate) mod async_free;
pub(crate) mod cell;
pub(crate) mod gc_writers;
pub(crate) mod grace_periods;
pub(crate) mod hash_maps;
pub(crate) mod list_traversal;
pub(crate) mod memory;
pub(crate) mod read_scaling;
pub(crate) mod read_side;
pub(crate) mod reads_under_updates;

/// Reads through `peer` for about `target` and returns the cost of one read, in nanoseconds.
///
/// The calling thread must have entered the peer. Reads run in batches that grow until one batch
/// takes at least 1/64 of the target, so looking at the clock costs nothing measurable, even for
/// the sub-nanosecond floor.
pub(crate) fn time_reads(peer: &dyn ReadPeer, target: Duration) -> f64 {
    let mut batch = READ_BATCH;
    let mut count = 0_u64;
    let start = Instant::now();
    loop {
        black_box(peer.read_n(batch));
        count += batch;
        let elapsed = start.elapsed();
        if elapsed >= target {
            return elapsed.as_nanos() as f64 / count as f64;
        }
        if elapsed < target / 64 {
            batch *= 2;
        }
    }
}

/// Times every peer's reads on one fresh thread, in rounds that visit each peer in turn (round 0
/// warms them all up: registration, caches, branch predictors); the samples are in peer order.
pub(crate) fn sample_reads_in_rounds(options: &Options, peers: &[Box<dyn ReadPeer>]) -> Vec<Samples> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut samples = vec![Samples::default(); peers.len()];
            on_thread_all(peers, || {
                for round in 0..=options.reps {
                    for (peer, samples) in peers.iter().zip(&mut samples) {
                        let ns = time_reads(peer.as_ref(), options.read_rep());
                        if round > 0 {
                            samples.push(ns);
                        }
                    }
                }
            });
            samples
        })
        .join()
        .expect("the read thread panicked")
    })
}

/// Each time is its own sample; their median, in microseconds.
pub(crate) fn median_us(times: &[Duration]) -> f64 {
    median_of(times.iter().map(|t| t.as_secs_f64() * 1e6))
}

/// `a / b` for two medians, NaN when either is missing.
pub(crate) fn ratio_of(a: f64, b: f64) -> f64 {
    if b > 0.0 && a.is_finite() && b.is_finite() { a / b } else { f64::NAN }
}
