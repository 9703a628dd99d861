//! The pipe-age histogram that readers fill: how old the elements they saw were.

use core::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// How many grace periods an element lives through after removal before the writer frees it.
///
/// The histogram has a bucket per stage `0..=PIPE_LEN` (the last one also counts anything older).
pub const PIPE_LEN: usize = 10;

/// Stages a correct RCU lets a reader see: 0 (the element is current) and 1 (removed, but the
/// grace period that follows the removal has not ended yet, so it may still wait for this reader).
pub const LEGAL_STAGES: usize = 2;

/// Counts of what readers saw, per pipe stage, plus the reads that found a freed element.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PipeHistogram {
    /// `buckets[s]`: reads that found an element at pipe stage `s` (the last bucket: `PIPE_LEN` or more).
    pub buckets: [u64; PIPE_LEN + 1],
    /// Reads that found an element whose memory was already poisoned (freed).
    pub poisoned: u64,
}

impl PipeHistogram {
    /// Records a read of a live element at pipe stage `stage`.
    pub fn record(&mut self, stage: u64) {
        let bucket = usize::try_from(stage).unwrap_or(PIPE_LEN).min(PIPE_LEN);
        self.buckets[bucket] += 1;
    }

    /// Records a read that found poison instead of a live element.
    pub fn record_poison(&mut self) {
        self.poisoned += 1;
    }

    /// All reads recorded.
    pub fn reads(&self) -> u64 {
        self.buckets.iter().sum::<u64>() + self.poisoned
    }

    /// Reads of an element that a grace period should already have protected against.
    pub fn too_old(&self) -> u64 {
        self.buckets[LEGAL_STAGES..].iter().sum()
    }
}

impl fmt::Display for PipeHistogram {
    /// The kernel's rcutorture format: `Reader Pipe:` and one count per stage, then the poison count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Reader Pipe:")?;
        for count in self.buckets {
            write!(f, " {count}")?;
        }
        write!(f, "  poisoned: {}", self.poisoned)
    }
}

/// A histogram that reader threads add their local counts to from time to time, so that progress
/// can be shown while they run without making them share a cache line on every read.
#[derive(Default)]
pub struct SharedHistogram {
    buckets: [AtomicU64; PIPE_LEN + 1],
    poisoned: AtomicU64,
}

impl SharedHistogram {
    /// Adds `local` and clears it.
    pub fn drain_from(&self, local: &mut PipeHistogram) {
        for (shared, count) in self.buckets.iter().zip(local.buckets) {
            // Relaxed: plain statistics, read after the readers are joined (or for progress only).
            shared.fetch_add(count, Ordering::Relaxed);
        }
        self.poisoned.fetch_add(local.poisoned, Ordering::Relaxed);
        *local = PipeHistogram::default();
    }

    /// What has been added so far.
    pub fn snapshot(&self) -> PipeHistogram {
        PipeHistogram {
            buckets: core::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            poisoned: self.poisoned.load(Ordering::Relaxed),
        }
    }
}
