//! What the report says about the machine: when, where, how busy it was, and memory figures.

use std::fs;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The resident set size of this process, in bytes (0 if `/proc` cannot tell).
pub(crate) fn rss_bytes() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Gives freed heap memory back to the system, so that the next memory scenario starts from a
/// resident set that does not hide its own growth in the previous scenario's free memory.
pub(crate) fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory of the allocator; it has no preconditions.
    unsafe { libc::malloc_trim(0) };
}

/// Runs the calling thread on CPU `cpu` only (modulo the CPUs there are), so that the threads of
/// a scenario run side by side in the same places every time; does nothing if the system refuses.
pub(crate) fn pin_current_thread(cpu: usize) {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    // SAFETY: `set` is a plain bit set owned here; CPU_ZERO/CPU_SET write inside it, and
    // sched_setaffinity(0, ..) reads it for the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = core::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu % cpus, &mut set);
        libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &raw const set);
    }
}

/// The current date and time, UTC, as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn utc_now() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", day_secs / 3600, day_secs / 60 % 60)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// One line about the machine: CPU model, cores, kernel.
pub(crate) fn describe() -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map_or("unknown CPU", |rest| rest.trim_start_matches([' ', '\t', ':']));
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{model}, {cores} cores, Linux {}", kernel.trim())
}

/// CPU time spent by the whole machine and by this process, to tell how busy other processes
/// kept the machine while we measured.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CpuClock {
    at: Instant,
    /// Jiffies the machine spent busy, and stolen by the hypervisor, from `/proc/stat`.
    busy: u64,
    steal: u64,
    /// CPU time of this process.
    ours: Duration,
}

/// How busy the machine was between two [`CpuClock`] readings, in cores.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Noise {
    /// Cores kept busy by other processes, on average.
    pub(crate) others: f64,
    /// Cores taken by the hypervisor (steal time), on average.
    pub(crate) steal: f64,
    /// Cores this process used, on average.
    pub(crate) ours: f64,
}

impl CpuClock {
    pub(crate) fn now() -> Self {
        let stat = fs::read_to_string("/proc/stat").unwrap_or_default();
        let fields: Vec<u64> = stat
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("cpu "))
            .map(|rest| rest.split_whitespace().filter_map(|f| f.parse().ok()).collect())
            .unwrap_or_default();
        let field = |i: usize| fields.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        let busy = field(0) + field(1) + field(2) + field(5) + field(6);
        Self { at: Instant::now(), busy, steal: field(7), ours: process_cpu_time() }
    }

    /// How busy the machine was since `self`.
    pub(crate) fn noise_since(&self) -> Noise {
        let now = Self::now();
        let wall = now.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let hz = clock_ticks_per_second();
        let busy = (now.busy - self.busy) as f64 / hz;
        let ours = (now.ours - self.ours).as_secs_f64();
        Noise {
            others: ((busy - ours) / wall).max(0.0),
            steal: (now.steal - self.steal) as f64 / hz / wall,
            ours: ours / wall,
        }
    }
}

fn process_cpu_time() -> Duration {
    // SAFETY: getrusage writes a `rusage` into the zeroed struct we own; RUSAGE_SELF is valid.
    let usage = unsafe {
        let mut usage: libc::rusage = core::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &raw mut usage);
        usage
    };
    let time =
        |tv: libc::timeval| Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
    }
}
