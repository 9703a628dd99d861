//! The results: tables, target checks and chart data, printed as text or written as Markdown.

use core::fmt::Write as _;

use super::machine::Noise;
use super::sample::Samples;

/// One table of results.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) title: String,
    /// What was measured and how, in a sentence or two.
    pub(crate) method: String,
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(title: &str, method: &str, header: &[&str]) -> Self {
        Self {
            title: title.to_owned(),
            method: method.to_owned(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    pub(crate) fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.header.len(), "a row of {:?} has the wrong width", self.title);
        self.rows.push(cells);
    }
}

/// A target from the issue, and whether this run met it.
#[derive(Clone, Debug)]
pub(crate) struct Check {
    pub(crate) what: String,
    pub(crate) target: String,
    pub(crate) measured: String,
    pub(crate) met: bool,
}

impl Check {
    /// A check that `measured <= limit` (for costs: times, ratios of costs).
    pub(crate) fn at_most(what: &str, measured: f64, limit: f64, unit: &str) -> Self {
        Self {
            what: what.to_owned(),
            target: format!("≤ {limit}{unit}"),
            measured: format!("{measured:.2}{unit}"),
            met: measured <= limit,
        }
    }

    /// A check that `measured >= limit` (for speed-ups and throughputs).
    pub(crate) fn at_least(what: &str, measured: f64, limit: f64, unit: &str) -> Self {
        Self {
            what: what.to_owned(),
            target: format!("≥ {limit}{unit}"),
            measured: format!("{measured:.2}{unit}"),
            met: measured >= limit,
        }
    }
}

/// One bar chart of the SVG: a value per system.
#[derive(Clone, Debug)]
pub(crate) struct Panel {
    pub(crate) title: String,
    /// The unit of the values, shown after each value.
    pub(crate) unit: String,
    pub(crate) bars: Vec<(String, f64)>,
}

/// What one scenario produced.
#[derive(Clone, Debug, Default)]
pub(crate) struct Section {
    pub(crate) tables: Vec<Table>,
    pub(crate) checks: Vec<Check>,
    pub(crate) panels: Vec<Panel>,
    /// Peers left out of this scenario, with the reason.
    pub(crate) skipped: Vec<String>,
}

/// The whole run.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub(crate) command: String,
    pub(crate) date: String,
    pub(crate) machine: String,
    /// Which barriers the RCU engines use (membarrier or fences).
    pub(crate) barriers: String,
    pub(crate) reps: usize,
    pub(crate) sections: Vec<Section>,
    pub(crate) noise: Noise,
    pub(crate) wall_seconds: f64,
}

impl Report {
    /// Every skipped peer, once.
    fn skipped(&self) -> Vec<&str> {
        let mut all: Vec<&str> =
            self.sections.iter().flat_map(|s| s.skipped.iter().map(String::as_str)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    fn noise_line(&self) -> String {
        format!(
            "machine load while measuring: other processes kept {:.2} of the cores busy on average, \
             hypervisor steal {:.2} cores, this program {:.2} cores; run took {:.0} s",
            self.noise.others, self.noise.steal, self.noise.ours, self.wall_seconds
        )
    }

    /// The report as aligned plain text, for the terminal.
    pub(crate) fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "command: {}", self.command);
        let _ = writeln!(out, "date: {}; machine: {}; barriers: {}", self.date, self.machine, self.barriers);
        let _ = writeln!(
            out,
            "scenarios 1-5, 7, 8: medians of {} repetitions (± the interquartile range / median); \
             scenario 6: peaks over one run per system",
            self.reps
        );
        for skipped in self.skipped() {
            let _ = writeln!(out, "skipped: {skipped}");
        }
        for table in self.sections.iter().flat_map(|s| &s.tables) {
            let _ = writeln!(out, "\n== {}\n   {}", table.title, table.method);
            let widths: Vec<usize> = (0..table.header.len())
                .map(|c| {
                    table
                        .rows
                        .iter()
                        .map(|r| r[c].chars().count())
                        .chain([table.header[c].chars().count()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: &[String]| {
                let padded: Vec<String> =
                    cells.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}", w = *w)).collect();
                format!("   {}", padded.join("  ").trim_end())
            };
            let _ = writeln!(out, "{}", line(&table.header));
            for row in &table.rows {
                let _ = writeln!(out, "{}", line(row));
            }
        }
        let _ = writeln!(out, "\n== targets");
        for check in self.sections.iter().flat_map(|s| &s.checks) {
            let verdict = if check.met { "met" } else { "MISSED" };
            let _ = writeln!(
                out,
                "   {verdict:<6}  {}: {} (target {})",
                check.what, check.measured, check.target
            );
        }
        let _ = writeln!(out, "\n{}", self.noise_line());
        out
    }

    /// The report as Markdown: the command and date, then one table per measurement and the
    /// targets.
    pub(crate) fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Command: `{}`  ", self.command);
        let _ = writeln!(out, "Date: {}  ", self.date);
        let _ = writeln!(out, "Machine: {}; barriers: {}  ", self.machine, self.barriers);
        let _ = writeln!(
            out,
            "Figures of scenarios 1 to 5, 7 and 8 are medians of {} repetitions (± is the interquartile range \
             relative to the median); scenario 6 reports peaks over one run per system.  ",
            self.reps
        );
        let _ = writeln!(out, "{}.", capitalize(&self.noise_line()));
        for skipped in self.skipped() {
            let _ = writeln!(out, "\nSkipped: {skipped}.");
        }
        for table in self.sections.iter().flat_map(|s| &s.tables) {
            let _ = writeln!(out, "\n### {}\n\n{}\n", table.title, markdown_text(&table.method));
            let _ = writeln!(out, "| {} |", markdown_row(&table.header));
            let _ = writeln!(out, "|{}", "---|".repeat(table.header.len()));
            for row in &table.rows {
                let _ = writeln!(out, "| {} |", markdown_row(row));
            }
        }
        let _ = writeln!(out, "\n### Targets\n\n| target | measured | wanted | met |\n|---|---|---|---|");
        for check in self.sections.iter().flat_map(|s| &s.checks) {
            let verdict = if check.met { "yes" } else { "**no**" };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {verdict} |",
                markdown_text(&check.what),
                check.measured,
                check.target
            );
        }
        out
    }

    /// Every chart panel, in scenario order.
    pub(crate) fn panels(&self) -> Vec<&Panel> {
        self.sections.iter().flat_map(|s| &s.panels).collect()
    }
}

/// Text as Markdown shows it literally: `<` and `>` would open HTML tags (`RwLock<Arc<T>>`).
fn markdown_text(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
}

fn markdown_row(cells: &[String]) -> String {
    cells.iter().map(|cell| markdown_text(cell)).collect::<Vec<_>>().join(" | ")
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A median in nanoseconds with its spread, e.g. `1.23 ns ±4%`.
pub(crate) fn ns(samples: &Samples) -> String {
    format!("{} ns {}", sig3(samples.median()), spread(samples))
}

/// A median in microseconds with its spread.
pub(crate) fn us(samples: &Samples) -> String {
    format!("{} µs {}", sig3(samples.median()), spread(samples))
}

/// A median rate in millions per second with its spread.
pub(crate) fn mops(samples: &Samples) -> String {
    format!("{} M/s {}", sig3(samples.median()), spread(samples))
}

/// A ratio, e.g. `1.85×`.
pub(crate) fn ratio(value: f64) -> String {
    if value.is_finite() { format!("{value:.2}×") } else { "–".to_owned() }
}

fn spread(samples: &Samples) -> String {
    format!("±{:.0}%", samples.spread() * 100.0)
}

/// Three significant digits, without exponent: 0.312, 1.23, 12.3, 123, 1234.
pub(crate) fn sig3(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_owned();
    }
    let magnitude = value.abs();
    let decimals = if magnitude >= 100.0 {
        0
    } else if magnitude >= 10.0 {
        1
    } else if magnitude >= 1.0 {
        2
    } else {
        3
    };
    format!("{value:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits() {
        assert_eq!(sig3(0.3123), "0.312");
        assert_eq!(sig3(1.234), "1.23");
        assert_eq!(sig3(12.34), "12.3");
        assert_eq!(sig3(1234.5), "1234");
        assert_eq!(sig3(f64::NAN), "–");
    }

    #[test]
    fn checks_compare_in_the_stated_direction() {
        assert!(Check::at_most("x", 1.2, 1.3, "×").met);
        assert!(!Check::at_most("x", 1.4, 1.3, "×").met);
        assert!(Check::at_least("x", 5.0, 5.0, "×").met);
        assert!(!Check::at_least("x", 4.9, 5.0, "×").met);
    }

    #[test]
    fn markdown_tables_have_a_separator_row_per_column() {
        let mut table = Table::new("t", "m", &["a", "b"]);
        table.row(vec!["1".into(), "2".into()]);
        table.row(vec!["RwLock<Arc<T>>".into(), "3".into()]);
        let report = Report {
            command: "cmd".into(),
            date: "d".into(),
            machine: "m".into(),
            barriers: "rcu-runtime Membarrier".into(),
            reps: 5,
            sections: vec![Section { tables: vec![table], ..Section::default() }],
            noise: Noise { others: 0.0, steal: 0.0, ours: 1.0 },
            wall_seconds: 1.0,
        };
        let markdown = report.to_markdown();
        assert!(markdown.contains("| a | b |\n|---|---|\n| 1 | 2 |"), "{markdown}");
        assert!(markdown.contains("| RwLock&lt;Arc&lt;T&gt;&gt; | 3 |"), "{markdown}");
        assert!(markdown.contains("Command: `cmd`"));
    }
}
