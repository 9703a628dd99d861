//! What the demo programs (`routing_table`, `rcu_mutex`) share besides the command line: the
//! engine's choices in words, number formatting, and stopping the threads on the way out.

use std::sync::atomic::{AtomicBool, Ordering};

use rcu_runtime::config::BarrierMode;

/// What `mode` means for readers and for grace periods, in one line.
pub fn describe_barriers(mode: BarrierMode) -> &'static str {
    match mode {
        BarrierMode::Membarrier => {
            "membarrier: readers use compiler fences only, grace periods call membarrier(2)"
        }
        BarrierMode::Fences => {
            "full fences on both sides (membarrier(2) unavailable or turned off): slower reads"
        }
    }
}

/// `n` with a comma between groups of three digits.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Sets the flag the worker threads poll when dropped, so that a `thread::scope` whose main
/// thread panics (say, on a closed stdout) still ends: it joins threads that were told to stop.
pub struct StopOnDrop<'a>(pub &'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
