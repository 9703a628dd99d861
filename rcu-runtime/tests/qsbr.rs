//! Quiescent-state-based readers: grace periods wait for an online `QsbrReader` until its next
//! quiescent state, never for one that is offline or gone, and waiting from an online one panics.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use rcu_runtime::{
    QsbrReader, Rcu, RcuMutex, RcuProtected, is_reading, rcu_barrier, read_lock, start_poll, synchronize_rcu,
};
use test_support::liveness::{HANG, wait_until};
use test_support::{Tracked, counter, panic_message};

/// Long enough for a grace period that may complete to do so on a loaded machine.
const SETTLE: Duration = Duration::from_millis(100);

/// A published value that readers reach without the lock and the updater replaces under it.
#[derive(RcuProtected)]
struct Slot {
    #[rcu]
    value: Rcu<Box<Tracked>>,
}

fn slot(value: Tracked) -> RcuMutex<Slot> {
    RcuMutex::new(Slot { value: Rcu::new(Box::new(value)) })
}

#[test]
fn a_grace_period_waits_for_an_online_reader_until_it_passes_quiescent_states() {
    let drops = counter();
    let slot = slot(Tracked::new(1, &drops));
    let freed = AtomicBool::new(false);
    let (read, was_read) = mpsc::channel();
    let (pass, may_pass) = mpsc::channel::<()>();
    thread::scope(|s| {
        // Owned by this closure so that a failed assertion drops it: the reader then stops, its
        // thread ends and unregisters, and the scope ends instead of hanging.
        let pass = pass;
        let (slot, freed) = (&slot, &freed);
        s.spawn(move || {
            let mut reader = QsbrReader::register();
            let value = slot.rcu().value().dereference(reader.guard()).expect("published");
            read.send(()).unwrap();
            may_pass.recv().unwrap();
            // The updater replaced and is waiting to free this value: it must still be whole.
            assert_eq!(value.check(), 1);
            // Quiescent states until told to stop (a grace period may need two, see `Latency`).
            while may_pass.try_recv() == Err(mpsc::TryRecvError::Empty) {
                reader.quiescent_state();
                thread::sleep(Duration::from_millis(1));
            }
        });
        was_read.recv().unwrap();

        let old = slot.lock().project().value.replace(Box::new(Tracked::new(2, &drops))).expect("published");
        s.spawn(move || {
            drop(old); // waits for a grace period, then frees value 1
            freed.store(true, Ordering::SeqCst);
        });
        thread::sleep(SETTLE);
        assert!(!freed.load(Ordering::SeqCst), "a grace period ended under an online QSBR reader");
        assert_eq!(drops.load(Ordering::SeqCst), 0);

        pass.send(()).unwrap(); // the reader checks the value, then passes quiescent states
        wait_until(HANG, "the grace period outlived the reader's quiescent states", || {
            freed.load(Ordering::SeqCst)
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        pass.send(()).unwrap();
    });
}

#[test]
fn an_offline_reader_holds_no_grace_period_up() {
    let (offline, is_offline) = mpsc::channel();
    let (done, is_done) = mpsc::channel::<()>();
    let reader = thread::spawn(move || {
        let mut reader = QsbrReader::register();
        reader.while_offline(|| {
            assert!(!is_reading());
            offline.send(()).unwrap();
            is_done.recv().unwrap(); // blocks, offline, until the grace period below is over
        });
        assert!(reader.is_online() && is_reading());
    });
    is_offline.recv().unwrap();
    // The reader stays blocked, offline, until this grace period is over.
    assert_a_grace_period_ends("an offline QSBR reader");
    done.send(()).unwrap();
    reader.join().unwrap();
}

#[test]
fn a_dropped_reader_is_unregistered() {
    thread::spawn(|| {
        let reader = QsbrReader::register();
        drop(reader);
        assert!(!is_reading());
        // A new one may be registered after the first is gone.
        let again = QsbrReader::register();
        assert!(again.is_online());
    })
    .join()
    .unwrap();
    assert_a_grace_period_ends("a QSBR reader whose thread ended");
}

/// Fails (instead of hanging) if a grace period started now does not end within [`HANG`].
fn assert_a_grace_period_ends(despite: &str) {
    let poll = start_poll();
    wait_until(HANG, &format!("a grace period waited for {despite}"), || poll.poll());
}

#[test]
fn a_panic_inside_while_offline_puts_the_reader_back_online() {
    thread::spawn(|| {
        let mut reader = QsbrReader::register();
        let result =
            catch_unwind(AssertUnwindSafe(|| reader.while_offline(|| panic!("offline work failed"))));
        assert!(result.is_err());
        assert!(reader.is_online() && is_reading());
        reader.synchronize_rcu(); // offline for the wait, online again after it
        assert!(reader.is_online());
    })
    .join()
    .unwrap();
}

/// Runs `f` on a thread with an online QSBR reader and returns its panic message.
fn panic_message_while_online(f: impl FnOnce() + Send + 'static) -> String {
    thread::spawn(move || {
        let _reader = QsbrReader::register();
        let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("must panic while online");
        panic_message(&*payload)
    })
    .join()
    .unwrap()
}

#[test]
fn waiting_for_a_grace_period_while_online_panics_with_the_way_out() {
    for (what, message) in [
        ("synchronize_rcu()", panic_message_while_online(synchronize_rcu)),
        ("rcu_barrier()", panic_message_while_online(rcu_barrier)),
        ("dropping an RcuOld", panic_message_while_online(|| drop(Rcu::new(Box::new(1_u8))))),
    ] {
        assert!(message.starts_with(what), "{what}: {message}");
        assert!(message.contains("QsbrReader is online"), "{what}: {message}");
        assert!(message.contains("QsbrReader::while_offline"), "{what}: {message}");
    }
}

#[test]
fn a_second_reader_on_one_thread_panics() {
    let message = panic_message_while_online(|| drop(QsbrReader::register()));
    assert!(message.contains("already has a QsbrReader"), "{message}");
}

#[test]
fn qsbr_and_ordinary_sections_mix_on_one_thread() {
    let value = Rcu::new(Box::new(5_u32));
    let mut reader = QsbrReader::register();
    {
        let guard = read_lock(); // an ordinary section nested in the QSBR one
        assert_eq!(value.dereference(&guard).copied(), Some(5));
    }
    assert!(is_reading(), "still online after the ordinary section ended");
    assert_eq!(value.dereference(reader.guard()).copied(), Some(5));
    reader.synchronize_rcu();
    drop(reader);
    drop(value); // waits for a grace period: allowed offline
}

#[test]
fn stress_qsbr_readers_never_see_a_freed_value() {
    const READERS: usize = 3;
    const RUN: Duration = Duration::from_millis(1500);
    let drops = counter();
    let slot = slot(Tracked::new(0, &drops));
    let stop = AtomicBool::new(false);
    let reads = AtomicU64::new(0);
    let published = AtomicUsize::new(1);
    thread::scope(|s| {
        for _ in 0..READERS {
            let (slot, stop, reads) = (&slot, &stop, &reads);
            s.spawn(move || {
                let mut reader = QsbrReader::register();
                let mut last = 0;
                let mut n = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    for _ in 0..64 {
                        let value = slot.rcu().value().dereference(reader.guard()).expect("always published");
                        let id = value.check();
                        assert!(id >= last, "ids went backwards: {id} after {last}");
                        last = id;
                        n += 1;
                    }
                    reader.quiescent_state();
                    if n.is_multiple_of(4096) {
                        reader.while_offline(thread::yield_now);
                    }
                }
                reads.fetch_add(n, Ordering::Relaxed);
            });
        }
        let began = Instant::now();
        let mut id = 0;
        while began.elapsed() < RUN {
            id += 1;
            let old = slot.lock().project().value.replace(Box::new(Tracked::new(id, &drops)));
            let old = old.expect("published");
            if id % 2 == 0 {
                drop(old); // synchronous: waits for every online reader's quiescent state
            } else {
                old.defer_drop();
            }
            published.fetch_add(1, Ordering::Relaxed);
        }
        stop.store(true, Ordering::Relaxed);
    });
    rcu_barrier();
    let dropped_at_end = drops.load(Ordering::SeqCst);
    let published = published.load(Ordering::Relaxed);
    assert_eq!(dropped_at_end, published - 1, "every replaced value freed exactly once");
    assert!(reads.load(Ordering::Relaxed) > 0);
}
