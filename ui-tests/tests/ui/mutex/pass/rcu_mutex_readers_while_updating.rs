//! Twin of `view_reaches_writer_only_field`, `view_reaches_pinned_field`,
//! `projection_mut_ref_to_rcu_field`, `projection_set_rcu_field_in_place`,
//! `projection_moves_rcu_field_out`, `lock_guard_mut_ref_to_rcu_field`,
//! `lock_guard_assigns_writer_field`, `rcu_on_non_rcu_field`, `rcu_mutex_of_type_without_derive`
//! and `rcu_updated_while_reader_thread_borrows`: with the derive, readers use the view on other
//! threads, without the lock, while the updater publishes through `RcuMut` and writes writer-only
//! fields through the projection.

use std::sync::atomic::{AtomicBool, Ordering};

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<Vec<u16>>>,
    #[rcu]
    name: Rcu<Box<String>>,
    reloads: u64,
}

fn main() {
    let config = RcuMutex::new(Config {
        routes: Rcu::new(Box::new(vec![80])),
        name: Rcu::new(Box::new(String::from("v0"))),
        reloads: 0,
    });
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    let guard = read_lock();
                    let view = config.rcu();
                    let routes = view.routes().dereference(&guard).expect("always published");
                    assert!(!routes.is_empty());
                    assert!(view.name().dereference(&guard).is_some());
                }
            });
        }
        for round in 1..=20_u16 {
            let mut writer = config.lock();
            let mut projection = writer.project();
            *projection.reloads += 1;
            let old = projection.routes.as_mut().copy_update(|current| {
                let mut next = current.cloned().unwrap_or_default();
                next.push(round);
                Some(Box::new(next))
            });
            old.expect("was published").defer_drop();
            projection.name.replace(Box::new(format!("v{round}"))).expect("was published").defer_drop();
            let routes_now = projection.routes.dereference(&read_lock()).map(Vec::len);
            assert_eq!(routes_now, Some(usize::from(round) + 1));
        }
        done.store(true, Ordering::Relaxed);
    });

    let writer = config.lock();
    assert_eq!(writer.reloads, 20);
    assert_eq!(*writer.project_ref().reloads, 20);
    let guard = read_lock();
    assert_eq!(writer.project_ref().name.dereference(&guard).map(String::as_str), Some("v20"));
}
