//! Twin of `rcu_mutex_into_inner_moved_out`, `lock_guard_as_mut_requires_unsafe`,
//! `project_ref_replaces_rcu_field`, `projection_outlives_lock_guard`,
//! `lock_guard_dropped_while_projected`, `view_outlives_rcu_mutex` and
//! `view_returned_from_scope_of_mutex`: projections and views are used while their guard and
//! mutex live, and the data leaves the mutex pinned and is updated through the projection.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    reloads: u64,
}

fn main() {
    let mut config = RcuMutex::new(Config { routes: Rcu::new(Box::new(1)), reloads: 0 });
    {
        let mut writer = config.lock();
        *writer.project().reloads += 1;
    }
    let projection = config.get_mut().project();
    *projection.reloads += 1;
    let routes = config.rcu().routes();
    assert_eq!(routes.dereference(&read_lock()).copied(), Some(1));

    let mut inner = config.into_inner();
    let projection = inner.as_mut().project();
    assert_eq!(*projection.reloads, 2);
    let old = projection.routes.replace(Box::new(2)).expect("was published");
    assert_eq!(*old.wait(), 1);
    assert_eq!(inner.routes.dereference(&read_lock()).copied(), Some(2));
}
