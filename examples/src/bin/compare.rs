//! rcu-runtime against its peers, side by side in one process: the read side, read scaling,
//! reads under updates, grace-period latency, asynchronous freeing and the memory it holds;
//! `RcuCell` against arc-swap on arc-swap's job; grace periods per synchronous update.
//!
//! Prints a table of medians and their ratios to ours, and the targets of the design with
//! whether this run met them; optionally writes the tables as Markdown and a chart as SVG.
//!
//! ```text
//! cargo run --release -p examples --bin compare                      # without liburcu
//! apt-get install -y liburcu-dev
//! cargo run --release -p examples --bin compare --features liburcu -- \
//!     --markdown book/src/performance/table.md --svg book/src/performance/compare.svg
//! cargo run --release -p examples --bin compare -- --quick           # a smoke test, < 20 s
//! ```

#[path = "../compare/mod.rs"]
mod compare;

use std::process::ExitCode;
use std::time::Instant;

use compare::machine::{self, CpuClock};
use compare::options::{Options, USAGE};
use compare::report::{Report, Section};
use compare::scenarios;

/// One scenario of the comparison: runs it and returns its tables, checks and chart panels.
type Scenario = fn(&Options) -> Section;

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("compare: {error}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    if cfg!(debug_assertions) {
        eprintln!("compare: this is a debug build; its figures mean nothing (use --release)");
    }

    let started = Instant::now();
    let clock = CpuClock::now();
    let date = machine::utc_now();
    #[cfg_attr(not(feature = "liburcu"), expect(unused_mut, reason = "liburcu joins with its feature only"))]
    let mut barriers = format!("rcu-runtime {:?}", rcu_runtime::config::barrier_mode());
    #[cfg(feature = "liburcu")]
    barriers.push_str(&format!(", liburcu memb {}", compare::peers::liburcu::barrier_mode()));
    eprintln!("compare: {}, {} repetitions per figure", date, options.reps);

    let steps: [(u8, &str, Scenario); 10] = [
        (1, "read side, one thread", scenarios::read_side::run),
        (2, "read throughput, one and two readers", scenarios::read_scaling::run),
        (3, "reads under updates", scenarios::reads_under_updates::run),
        (4, "synchronize_rcu latency", scenarios::grace_periods::run),
        (5, "replace + asynchronous free", scenarios::async_free::run),
        (6, "memory waiting to be freed", scenarios::memory::run),
        (7, "hash maps", scenarios::hash_maps::run),
        (8, "list traversal", scenarios::list_traversal::run),
        (9, "RcuCell against arc-swap", scenarios::cell::run),
        (10, "grace periods per synchronous update", scenarios::gc_writers::run),
    ];
    let mut sections = Vec::new();
    for (number, name, run) in steps {
        if options.runs(number) {
            let step = Instant::now();
            eprintln!("compare: {number}. {name} ...");
            sections.push(run(&options));
            eprintln!("compare: {number}. done in {:.1} s", step.elapsed().as_secs_f64());
        }
    }

    let report = Report {
        command: options.command(),
        date,
        machine: machine::describe(),
        barriers,
        reps: options.reps,
        sections,
        noise: clock.noise_since(),
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    print!("{}", report.to_text());
    if let Some(path) = &options.markdown
        && let Err(error) = std::fs::write(path, report.to_markdown())
    {
        eprintln!("compare: cannot write {}: {error}", path.display());
        return ExitCode::FAILURE;
    }
    if let Some(path) = &options.svg {
        let subtitle =
            format!("{} · {} · median of {} repetitions", report.date, report.machine, report.reps);
        let svg = compare::chart::render("rcu-runtime compared", &subtitle, &report.panels());
        if let Err(error) = std::fs::write(path, svg) {
            eprintln!("compare: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
