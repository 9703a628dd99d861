//! The command-line handling the demo programs share: `--flag value` arguments, `-h`/`--help`,
//! and `error: …` plus the usage line (exit status 2) on a mistake.

use std::str::FromStr;

/// The program's arguments, read one flag at a time.
pub struct Args {
    args: std::iter::Skip<std::env::Args>,
    help: &'static str,
}

impl Args {
    /// The arguments after the program name. `help` is the usage line, then one line per option
    /// saying what it does and its default: `--help` prints all of it (on stdout, exit status 0),
    /// a mistake prints the usage line only, with a pointer to `--help`.
    pub fn new(help: &'static str) -> Self {
        Self { args: std::env::args().skip(1), help }
    }

    /// The next flag, `None` after the last; `-h` and `--help` print the help and exit.
    pub fn next_flag(&mut self) -> Option<String> {
        let flag = self.args.next()?;
        if flag == "-h" || flag == "--help" {
            println!("{}", self.help);
            std::process::exit(0);
        }
        Some(flag)
    }

    /// The value that follows `flag`, parsed.
    pub fn value<T: FromStr>(&mut self, flag: &str) -> T {
        let value = self.args.next().unwrap_or_else(|| self.fail(&format!("{flag} needs a value")));
        value.parse().unwrap_or_else(|_| self.fail(&format!("bad value {value:?} for {flag}")))
    }

    /// Reports `problem` with the usage line and exits with status 2.
    pub fn fail(&self, problem: &str) -> ! {
        eprintln!("error: {problem}");
        eprintln!("{}", self.help.lines().next().unwrap_or_default());
        eprintln!("(--help says what each option does)");
        std::process::exit(2);
    }
}
