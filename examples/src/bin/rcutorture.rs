//! rcutorture for rcu-runtime: the long-running stress test.
//!
//! Reader threads read two RCU-protected slots inside nested read-side critical sections with
//! random delays, sometimes nested up to 64 deep (every other reader as a `QsbrReader`, between
//! quiescent states); one writer publishes new elements and reclaims the old ones through every
//! path the runtime offers (`RcuOld` drop, `RcuOld::wait`, `drop_async`, `defer_drop`, `RcuBox`,
//! polled grace periods, `defer_rcu`), some elements owning nested `Rcu`s whose drops a callback
//! must defer; fake writers call `synchronize_rcu`, `rcu_barrier` and polled grace periods on
//! their own, and a forker forks children that must be able to read (and, when forked with the
//! readers paused, to wait for grace periods). Freed memory is poisoned and quarantined by the
//! global allocator. The run fails if a reader ever reaches freed memory or an element that a
//! completed grace period should have retired (pipe stage 2 or more in the histogram), if an
//! element is not freed exactly once, if a child fails, or if a wait takes longer than
//! `--max-wait`.
//!
//! ```text
//! cargo run --release -p examples --bin rcutorture -- [--seconds N] [--readers N]
//!     [--fake-writers N] [--fences] [--seed N] [--progress SECONDS] [--max-wait SECONDS]
//!     [--fork-every MS]
//! ```
//!
//! `--fences` runs the fallback flavour (full fences instead of membarrier). Exits with status 1
//! on failure, 2 on a usage error. The harness lives in the `test-support` crate
//! (`test-support/src/torture/`), shared with the short run that `cargo test` does.

use std::process::ExitCode;
use std::time::Duration;

use test_support::poison_alloc::PoisonAllocator;
use test_support::torture::{TortureConfig, run};

#[global_allocator]
static ALLOC: PoisonAllocator = PoisonAllocator;

const HELP: &str = "\
usage: rcutorture [--seconds N] [--readers N] [--fake-writers N] [--fences] [--seed N] [--progress SECONDS]
                  [--max-wait SECONDS] [--fork-every MS]
  --seconds N         how long the writer publishes (default 10)
  --readers N         reader threads, every other one a QsbrReader (default: 2 per CPU, at least 4)
  --fake-writers N    threads that only call synchronize_rcu, rcu_barrier and polled grace periods (default 2)
  --fences            run the fallback flavour: full fences instead of membarrier(2)
  --seed N            the random seed (default: from the clock; the report prints it, to replay a run)
  --progress SECONDS  a progress line this often, 0 for none (default 5)
  --max-wait SECONDS  a grace period, barrier, throttled call_rcu or forked child that takes longer
                      fails the run; one that does not return ends it (default 10)
  --fork-every MS     fork a child this often on average, 0 for never (default 200)
  -h, --help          this text";

/// How to read the report, printed before the run.
const LEGEND: &str = "\
how to read the report (the kernel's rcutorture format):
  Reader Pipe: reads per age of the element found: 1st column still published, 2nd removed but
    the grace period after its removal not over yet (both legal), 3rd and later a grace period had
    ended and a reader still saw it (a failure). poisoned: reads that reached freed memory.
  writer: publications per way of retiring the old element; fake writers: their grace-period calls
  elements: created and freed must be equal, none freed twice
  nested Rcus: links (objects behind an Rcu inside an element) created and freed, and how many
    were freed by callbacks on the worker, where a nested Rcu's drop must defer instead of waiting
  nesting: read-side sections nested 2 to 64 deep
  forks: quiet ones pause the readers, and the child must complete grace periods and a barrier;
    busy ones fork while readers are inside sections, and the child only reads
  waits: the longest of each kind; any over the limit fails the run
  engine: Membarrier barriers = readers use compiler fences and grace periods membarrier(2);
    Fences = full fences on both sides (--fences). Writes after free are caught by the allocator,
    which poisons and quarantines freed memory.
  last line: SUCCESS, or FAILURE and why (exit status 1)";

/// What the command line asks for.
enum Command {
    Run(Options),
    Help,
}

/// The command line: a torture configuration and the barrier flavour.
struct Options {
    config: TortureConfig,
    fences: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut config = TortureConfig::new(Duration::from_secs(10));
    config.progress_every = Some(Duration::from_secs(5));
    let mut fences = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> Result<String, String> {
            args.next().ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--seconds" => config.duration = Duration::from_secs_f64(number(&value("--seconds")?)?),
            "--readers" => config.readers = count(&value("--readers")?)?.max(1),
            "--fake-writers" => config.fake_writers = count(&value("--fake-writers")?)?,
            "--seed" => config.seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--progress" => {
                let seconds = number(&value("--progress")?)?;
                config.progress_every = (seconds > 0.0).then(|| Duration::from_secs_f64(seconds));
            }
            "--max-wait" => config.max_wait = Duration::from_secs_f64(number(&value("--max-wait")?)?),
            "--fork-every" => {
                let ms = number(&value("--fork-every")?)?;
                config.fork_every = (ms > 0.0).then(|| Duration::from_secs_f64(ms / 1000.0));
            }
            "--fences" => fences = true,
            "-h" | "--help" => return Ok(Command::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Run(Options { config, fences }))
}

fn number(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(n),
        _ => Err(format!("{text:?} is not a non-negative number")),
    }
}

fn count(text: &str) -> Result<usize, String> {
    text.parse().map_err(|_| format!("{text:?} is not a count"))
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(options)) => options,
        Ok(Command::Help) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("rcutorture: {message}");
            eprintln!("{}", HELP.lines().next().unwrap_or_default());
            eprintln!("(--help says what each option does)");
            return ExitCode::from(2);
        }
    };
    if options.fences
        && let Err(err) = rcu_runtime::config::force_fence_barriers()
    {
        eprintln!("rcutorture: {err}");
        return ExitCode::from(2);
    }
    println!(
        "rcutorture: {} readers, {} fake writers and one writer, for {:?}{}; options: --help",
        options.config.readers,
        options.config.fake_writers,
        options.config.duration,
        options
            .config
            .progress_every
            .map_or(String::new(), |every| format!(", a progress line every {every:?}"))
    );
    println!("{LEGEND}");
    let report = run(&options.config);
    println!("{report}");
    if report.failures().is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
