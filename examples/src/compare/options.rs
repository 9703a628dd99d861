//! The command line, and how long each scenario runs.

use std::path::PathBuf;
use std::time::Duration;

/// The usage text printed by `--help` and on a bad option.
pub(crate) const USAGE: &str = "\
usage: cargo run --release -p examples --bin compare [--features liburcu] -- [OPTIONS]

Measures rcu-runtime against the plain AtomicPtr floor, liburcu memb and qsbr (with --features liburcu),
crossbeam-epoch, arc-swap and RwLock<Arc<T>>, and RcuHashMap against papaya, dashmap, scc and the
std HashMap (locked and unsynchronized), in one process, and prints medians and ratios.

options:
  --quick            short runs, for a smoke test (under 20 s)
  --reps N           repetitions per measurement, N >= 5 (default 9, quick 5)
  --only LIST        run only these scenarios, e.g. --only 1,4 (1 read side, 2 scaling,
                     3 reads under updates, 4 grace periods, 5 async free, 6 memory,
                     7 hash maps, 8 list traversal,
                     9 RcuCell vs arc-swap, 10 grace periods per synchronous update)
  --svg PATH         write a chart of the read-side and update-side results
  --markdown PATH    write the result tables as Markdown
  -h, --help         this text";

/// What the command line asked for.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// Short runs.
    pub(crate) quick: bool,
    /// Repetitions per measurement (at least 5).
    pub(crate) reps: usize,
    /// The scenarios to run (1 to 10).
    pub(crate) scenarios: Vec<u8>,
    /// Where to write the SVG chart.
    pub(crate) svg: Option<PathBuf>,
    /// Where to write the Markdown tables.
    pub(crate) markdown: Option<PathBuf>,
    /// The arguments as given, for the report.
    pub(crate) args: Vec<String>,
}

/// The smallest number of repetitions a median is taken over.
const MIN_REPS: usize = 5;

impl Options {
    /// Parses the arguments after the program name; `Ok(None)` means `--help`.
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Self>, String> {
        let args: Vec<String> = args.into_iter().collect();
        let mut quick = false;
        let mut reps = None;
        let mut scenarios = vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let mut svg = None;
        let mut markdown = None;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let mut value = || rest.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => quick = true,
                "--reps" => {
                    let n: usize = value()?.parse().map_err(|e| format!("--reps: {e}"))?;
                    if n < MIN_REPS {
                        return Err(format!("--reps must be at least {MIN_REPS} (medians of at least five)"));
                    }
                    reps = Some(n);
                }
                "--only" => scenarios = parse_scenarios(value()?)?,
                "--svg" => svg = Some(PathBuf::from(value()?)),
                "--markdown" => markdown = Some(PathBuf::from(value()?)),
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        let reps = reps.unwrap_or(if quick { MIN_REPS } else { 9 });
        Ok(Some(Self { quick, reps, scenarios, svg, markdown, args }))
    }

    /// Whether scenario `n` is to run.
    pub(crate) fn runs(&self, n: u8) -> bool {
        self.scenarios.contains(&n)
    }

    /// The command that reproduces this run.
    pub(crate) fn command(&self) -> String {
        let features = if cfg!(feature = "liburcu") { " --features liburcu" } else { "" };
        let mut command = format!("cargo run --release -p examples --bin compare{features}");
        if !self.args.is_empty() {
            command.push_str(" --");
            for arg in &self.args {
                command.push(' ');
                command.push_str(arg);
            }
        }
        command
    }

    /// How long one timed repetition of a single-thread read loop lasts.
    pub(crate) fn read_rep(&self) -> Duration {
        Duration::from_millis(if self.quick { 4 } else { 25 })
    }

    /// How long one repetition of a throughput measurement lasts.
    pub(crate) fn throughput_rep(&self) -> Duration {
        Duration::from_millis(if self.quick { 15 } else { 100 })
    }

    /// How many `synchronize_rcu` calls one repetition times.
    pub(crate) fn sync_calls(&self) -> usize {
        if self.quick { 60 } else { 400 }
    }

    /// How many replacements one repetition of the asynchronous-free scenario does.
    pub(crate) fn async_updates(&self) -> u64 {
        if self.quick { 40_000 } else { 400_000 }
    }

    /// How long the steady 1M updates/s memory run lasts, per system.
    pub(crate) fn steady_run(&self) -> Duration {
        Duration::from_secs(if self.quick { 1 } else { 10 })
    }

    /// How long the flat-out flood lasts, per system.
    pub(crate) fn flood_run(&self) -> Duration {
        Duration::from_millis(if self.quick { 300 } else { 3_000 })
    }
}

fn parse_scenarios(list: &str) -> Result<Vec<u8>, String> {
    let mut scenarios = Vec::new();
    for item in list.split(',') {
        match item.trim().parse::<u8>() {
            Ok(n @ 1..=10) => scenarios.push(n),
            _ => return Err(format!("--only: {item:?} is not a scenario number from 1 to 10")),
        }
    }
    Ok(scenarios)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, String> {
        Options::parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn defaults_run_every_scenario_with_nine_reps() {
        let options = parse(&[]).unwrap().unwrap();
        assert_eq!(options.reps, 9);
        assert!((1..=10).all(|n| options.runs(n)));
        assert!(!options.quick);
    }

    #[test]
    fn fewer_than_five_reps_are_refused() {
        assert!(parse(&["--reps", "4"]).is_err());
        assert_eq!(parse(&["--reps", "5"]).unwrap().unwrap().reps, 5);
    }

    #[test]
    fn only_selects_scenarios_and_rejects_unknown_ones() {
        let options = parse(&["--only", "1,4"]).unwrap().unwrap();
        assert!(options.runs(1) && options.runs(4) && !options.runs(2));
        assert!(parse(&["--only", "11"]).is_err());
    }

    #[test]
    fn the_command_repeats_the_arguments() {
        let options = parse(&["--quick", "--svg", "out.svg"]).unwrap().unwrap();
        assert!(options.command().starts_with("cargo run --release -p examples --bin compare"));
        assert!(options.command().ends_with(" -- --quick --svg out.svg"));
    }

    #[test]
    fn help_and_unknown_options() {
        assert!(parse(&["--help"]).unwrap().is_none());
        assert!(parse(&["--fast"]).is_err());
        assert!(parse(&["--svg"]).is_err());
    }
}
