//! RCU as proof of existence: a session table that readers search without its lock.
//!
//! What it shows (the kernel's `MapleTree::load_rcu` use case): an [`RcuMap`] of [`RcuBox`]
//! values. A reader finds a session under a [`read_lock`] guard without taking the map's lock;
//! the guard proves the session still *exists* even if it is removed meanwhile, and its mutable
//! state is protected by a lock of its own (a `Mutex` inside the session), so the reader takes
//! that small lock to change it. Removing a session hands the `RcuBox` back at once; its memory
//! is freed by `call_rcu` after every reader that could have found it is done.
//!
//! ```text
//! cargo run --release -p examples --bin load_rcu
//! ```

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{RcuBox, RcuMap, rcu_barrier, read_lock, stats};

/// A client session: immutable identity, mutable counters behind their own lock.
struct Session {
    user: String,
    bytes: Mutex<u64>,
}

/// Sessions dropped so far (by the callback worker, after a grace period).
static SESSIONS_FREED: AtomicU64 = AtomicU64::new(0);

impl Drop for Session {
    fn drop(&mut self) {
        SESSIONS_FREED.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() {
    let sessions: RcuMap<u32, RcuBox<Session>> = RcuMap::new();
    for id in 0..64 {
        sessions.insert(id, RcuBox::new(Session { user: format!("user{id}"), bytes: Mutex::new(0) }));
    }
    let stop = AtomicBool::new(false);
    let (found, missed) = (AtomicU64::new(0), AtomicU64::new(0));
    let (sessions_closed, closed_with_traffic) = (AtomicU64::new(0), AtomicU64::new(0));
    println!("load_rcu: 2 reader threads find sessions in an RcuMap without its lock, for 2 seconds,");
    println!(
        "  while a control thread, every 100µs and under the map's lock, closes a session and opens a new"
    );
    println!(
        "  one under the same id; ids 0..63 are open (each briefly absent while it is replaced), readers"
    );
    println!("  also ask for ids 64..95, which never exist;");
    println!("  a reader that finds a session adds traffic to it under the session's own Mutex");
    let started = Instant::now();

    thread::scope(|s| {
        for reader in 0..2_u32 {
            let (sessions, stop, found, missed) = (&sessions, &stop, &found, &missed);
            s.spawn(move || {
                let mut id = reader;
                while !stop.load(Ordering::Relaxed) {
                    id = (id * 17 + 5) % 96; // some ids were never there, some come and go
                    let guard = read_lock();
                    match sessions.load_rcu(&id, &guard) {
                        Some(session) => {
                            // The guard proves existence; the session's own lock protects its state.
                            *session.bytes.lock().unwrap() += 1500;
                            assert!(session.user.starts_with("user"));
                            found.fetch_add(1, Ordering::Relaxed);
                        }
                        None => {
                            missed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            });
        }
        // The control plane: sessions close and new ones open, under the map's lock.
        s.spawn(|| {
            let mut next = 64;
            while started.elapsed() < Duration::from_secs(2) {
                let closing = next % 64;
                if let Some(closed) = sessions.remove(&closing) {
                    // Ours now; readers that found it may still be using it for a grace period.
                    let total = *closed.bytes.lock().unwrap();
                    drop(closed);
                    sessions_closed.fetch_add(1, Ordering::Relaxed);
                    closed_with_traffic.fetch_add(total.min(1), Ordering::Relaxed);
                }
                sessions.insert(
                    closing,
                    RcuBox::new(Session { user: format!("user{next}"), bytes: Mutex::new(0) }),
                );
                next += 1;
                thread::sleep(Duration::from_micros(100));
            }
            stop.store(true, Ordering::Relaxed);
        });
    });

    let before_barrier = stats().callbacks_pending;
    rcu_barrier();
    let (found, missed) = (found.load(Ordering::Relaxed), missed.load(Ordering::Relaxed));
    let closed = sessions_closed.load(Ordering::Relaxed);
    let freed = SESSIONS_FREED.load(Ordering::Relaxed);
    println!("after {:.1}s:", started.elapsed().as_secs_f64());
    println!(
        "  lookups that found a session:  {found} ({:.0}%), each checked (user name) and given traffic",
        100.0 * found as f64 / (found + missed).max(1) as f64
    );
    println!("  lookups of absent sessions:    {missed} (ids 64..95, about a third of the ids asked for)");
    println!(
        "  sessions closed:               {closed}, {} of them after readers had sent traffic through them",
        closed_with_traffic.load(Ordering::Relaxed)
    );
    println!(
        "  sessions freed:                {freed}, each after a grace period (rcu_barrier() waited for the \
         {before_barrier}\n                                 still pending when the readers stopped)"
    );
    println!("  sessions open now:             {}", sessions.len());
    println!("  grace periods so far:          {}", stats().grace_periods);
    assert_eq!(freed, closed, "every closed session was freed once");
    assert_eq!(sessions.len(), 64, "one session opened for each one closed");
    println!(
        "verdict: OK: {found} lookups without the map's lock found whole sessions while {closed} were closed and freed"
    );
}
