//! Updaters that run at a steady rate, or flat out, until told to stop.

use core::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How many updates were done in how long.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rate {
    pub(crate) updates: u64,
    pub(crate) elapsed: Duration,
}

impl Rate {
    /// Updates per second.
    pub(crate) fn per_second(&self) -> f64 {
        self.updates as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// The period of a paced updater: it catches up with its schedule once per tick, then sleeps.
///
/// Sleeping rather than spinning between bursts leaves the CPU to readers and to the callback
/// threads, as an updater that has other work to do would.
const TICK: Duration = Duration::from_millis(1);

/// Calls `update(i)` for i = 0, 1, … at `per_second` on average until `stop` is set.
pub(crate) fn paced(per_second: u64, stop: &AtomicBool, mut update: impl FnMut(u64)) -> Rate {
    let start = Instant::now();
    let mut done = 0_u64;
    // Relaxed: the flag carries no data.
    while !stop.load(Ordering::Relaxed) {
        let due = (start.elapsed().as_secs_f64() * per_second as f64) as u64;
        while done < due {
            update(done);
            done += 1;
        }
        thread::sleep(TICK);
    }
    Rate { updates: done, elapsed: start.elapsed() }
}

/// Calls `update(i)` for i = 0, 1, … as fast as it can until `stop` is set.
pub(crate) fn flat_out(stop: &AtomicBool, mut update: impl FnMut(u64)) -> Rate {
    let start = Instant::now();
    let mut done = 0_u64;
    // Relaxed: the flag carries no data.
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..64 {
            update(done);
            done += 1;
        }
    }
    Rate { updates: done, elapsed: start.elapsed() }
}
