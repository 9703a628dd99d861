//! What a torture run saw, the failures it detected, and the report it prints (the kernel's
//! rcutorture format, plus a line per addition).

use core::fmt;
use std::time::Duration;

use rcu_runtime::config::BarrierMode;

use super::forks::ForkSummary;
use super::histogram::PipeHistogram;
use super::readers::is_qsbr_reader;
use super::stress::{TortureConfig, WriterMode};
use super::waits::WaitSummary;
use crate::poison_alloc::AllocCounters;

/// What a run saw.
#[derive(Clone, Debug)]
pub struct TortureReport {
    /// The configuration it ran with.
    pub config: TortureConfig,
    /// How long it took, teardown included.
    pub elapsed: Duration,
    /// Set when a wait did not return within the limit: the run was cut short there (its
    /// threads left behind), and the counts below are those of that moment.
    pub hung: Option<String>,
    /// What readers saw.
    pub histogram: PipeHistogram,
    /// Publications per writer mode, in [`WriterMode::ALL`] order.
    pub writes: [u64; WriterMode::ALL.len()],
    /// Operations of the fake writers.
    pub fake_writer_ops: u64,
    /// Elements created, dropped, and dropped twice.
    pub elements: (u64, u64, u64),
    /// Links (objects behind nested `Rcu`s) created, dropped, dropped twice; and how many of
    /// the drops ran on the callback worker.
    pub links: ((u64, u64, u64), u64),
    /// Links that readers walked through.
    pub links_read: u64,
    /// Sections that readers nested 2 to 64 deep, and the deepest.
    pub deep_sections: (u64, u64),
    /// The longest wait of each kind, and the waits over the limit.
    pub waits: WaitSummary,
    /// What the forks came to.
    pub forks: ForkSummary,
    /// Grace periods during the run.
    pub grace_periods: u64,
    /// Callbacks run during the run.
    pub callbacks_run: u64,
    /// Callbacks that panicked during the run.
    pub callback_panics: u64,
    /// The barrier flavour the engine used.
    pub barrier_mode: BarrierMode,
    /// Whether freed memory was poisoned and quarantined.
    pub quarantine: bool,
    /// What the poisoning allocator saw during the run (zero when it is not installed).
    pub allocator: AllocCounters,
}

impl TortureReport {
    /// Everything that went wrong, one line each; empty for a passing run.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if let Some(hung) = &self.hung {
            failures.push(format!("the run was cut short: {hung}"));
        }
        let h = &self.histogram;
        if h.reads() == 0 {
            failures.push("the readers never read: nothing was tested".to_owned());
        }
        if h.poisoned > 0 {
            failures.push(format!("{} reads reached a freed (poisoned) element", h.poisoned));
        }
        if h.too_old() > 0 {
            failures.push(format!(
                "{} reads saw an element at pipe stage 2 or more: a grace period ended under a reader",
                h.too_old()
            ));
        }
        // Only a run that ended has freed everything.
        if self.hung.is_none() {
            let (created, dropped, double) = self.elements;
            if created != dropped {
                failures.push(format!("{created} elements created but {dropped} dropped"));
            }
            let ((created, dropped, _), _) = self.links;
            if created != dropped {
                failures.push(format!("{created} links created but {dropped} dropped"));
            }
            if double > 0 {
                failures.push(format!("{double} elements dropped twice"));
            }
        }
        let ((_, _, links_double), _) = self.links;
        if links_double > 0 {
            failures.push(format!("{links_double} links dropped twice"));
        }
        if self.waits.over_limit > 0 {
            failures.push(format!(
                "{} waits took longer than {:?} (first: {})",
                self.waits.over_limit,
                self.waits.limit,
                self.waits.first_over_limit.as_deref().unwrap_or("?")
            ));
        }
        if self.forks.failed > 0 {
            failures.push(format!(
                "{} forked children failed (first: {})",
                self.forks.failed,
                self.forks.first_failure.as_deref().unwrap_or("?")
            ));
        }
        if self.callback_panics > 0 {
            failures.push(format!("{} callbacks panicked", self.callback_panics));
        }
        if self.allocator.writes_after_free > 0 {
            failures.push(format!(
                "{} freed blocks were written to after free",
                self.allocator.writes_after_free
            ));
        }
        failures
    }
}

impl fmt::Display for TortureReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        writeln!(
            f,
            "rcutorture: {:.1?}, {} readers ({} QSBR), {} fake writers, {:?} barriers, quarantine {}, seed {}",
            self.elapsed,
            c.readers,
            (0..c.readers).filter(|&i| is_qsbr_reader(i)).count(),
            c.fake_writers,
            self.barrier_mode,
            if self.quarantine { "on" } else { "off" },
            c.seed
        )?;
        writeln!(f, "{}", self.histogram)?;
        let total: u64 = self.writes.iter().sum();
        f.write_str("writer:")?;
        for (mode, count) in WriterMode::ALL.iter().zip(self.writes) {
            write!(f, " {} {count},", mode.name())?;
        }
        writeln!(f, " {total} publications; fake writers: {} operations", self.fake_writer_ops)?;
        let (created, dropped, double) = self.elements;
        writeln!(f, "elements: {created} created, {dropped} freed, {double} freed twice")?;
        let ((created, dropped, double), on_worker) = self.links;
        writeln!(
            f,
            "nested Rcus: {created} links created, {dropped} freed ({on_worker} by callbacks on the worker), \
             {double} freed twice; {} links read",
            self.links_read
        )?;
        let (deep, deepest) = self.deep_sections;
        writeln!(f, "nesting: {deep} sections nested 2 to 64 deep (deepest {deepest})")?;
        writeln!(f, "{}", self.forks)?;
        writeln!(f, "{}", self.waits)?;
        writeln!(
            f,
            "engine: {} grace periods, {} callbacks run, {} callback panics; allocator: {} poisoned frees, \
             {} writes after free",
            self.grace_periods,
            self.callbacks_run,
            self.callback_panics,
            self.allocator.poisoned_frees,
            self.allocator.writes_after_free
        )?;
        let failures = self.failures();
        if failures.is_empty() { write!(f, "SUCCESS") } else { write!(f, "FAILURE: {}", failures.join("; ")) }
    }
}
