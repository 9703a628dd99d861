//! The command-line handling the demo programs share: `--flag value` arguments, `-h`/`--help`,
//! and `error: …` plus the usage line (exit status 2) on a mistake.

use std::str::FromStr;

/// The program's arguments, read one flag at a time.
pub(crate) struct Args {
    args: std::iter::Skip<std::env::Args>,
    usage: &'static str,
}

impl Args {
    /// The arguments after the program name; `usage` is printed on `--help` and on a mistake.
    pub(crate) fn new(usage: &'static str) -> Self {
        Self { args: std::env::args().skip(1), usage }
    }

    /// The next flag, `None` after the last; `-h` and `--help` print the usage and exit.
    pub(crate) fn next_flag(&mut self) -> Option<String> {
        let flag = self.args.next()?;
        if flag == "-h" || flag == "--help" {
            eprintln!("{}", self.usage);
            std::process::exit(0);
        }
        Some(flag)
    }

    /// The value that follows `flag`, parsed.
    pub(crate) fn value<T: FromStr>(&mut self, flag: &str) -> T {
        let value = self.args.next().unwrap_or_else(|| self.fail(&format!("{flag} needs a value")));
        value.parse().unwrap_or_else(|_| self.fail(&format!("bad {flag}")))
    }

    /// Reports `problem` with the usage line and exits with status 2.
    pub(crate) fn fail(&self, problem: &str) -> ! {
        eprintln!("error: {problem}");
        eprintln!("{}", self.usage);
        std::process::exit(2);
    }
}
