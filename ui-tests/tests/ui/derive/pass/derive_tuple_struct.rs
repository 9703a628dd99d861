//! Tuple structs: the view names `#[rcu]` fields by position (`field_1()`), the projections are
//! tuple structs (`.0`, `.1`, ...).

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Pair(u64, #[rcu] Rcu<Box<String>>, #[pin] u8);

fn main() {
    let pair = RcuMutex::new(Pair(0, Rcu::new(Box::new(String::from("left"))), 7));
    let guard = read_lock();
    assert_eq!(pair.rcu().field_1().dereference(&guard).map(String::as_str), Some("left"));
    drop(guard);

    let mut writer = pair.lock();
    let projection = writer.project();
    *projection.0 += 1;
    assert_eq!(*projection.2, 7);
    projection.1.replace(Box::new(String::from("right"))).expect("was published").defer_drop();
    assert_eq!(writer.0, 1);
    assert_eq!(*writer.project_ref().2, 7);
}
