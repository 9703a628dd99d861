//! [`ReaderInside`]: a thread parked inside a read-side critical section, for tests of what a
//! grace period waits for.

use std::sync::mpsc;
use std::thread;

/// A thread that stays inside a read-side critical section until [`ReaderInside::leave`].
pub struct ReaderInside {
    release: mpsc::Sender<()>,
    thread: thread::JoinHandle<()>,
}

impl ReaderInside {
    /// Spawns the reader and returns once it is inside its section. `before_leaving` runs on the
    /// reader, still inside the section, when [`ReaderInside::leave`] is called.
    pub fn enter(before_leaving: impl FnOnce() + Send + 'static) -> Self {
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let _guard = rcu_runtime::read_lock();
            entered_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            before_leaving();
        });
        entered_rx.recv().unwrap();
        Self { release, thread }
    }

    /// Lets the reader leave its section and waits for its thread to end.
    pub fn leave(self) {
        self.release.send(()).unwrap();
        self.thread.join().unwrap();
    }
}
