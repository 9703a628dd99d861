//! A newcomer's first try: `Rcu::new(vec![..])`. A `Vec` is not one owning pointer that readers
//! can load atomically; the message says to wrap it in `Box::new`.

use rcu_runtime::Rcu;

fn main() {
    let _routes = Rcu::new(vec![10_u32, 20]);
}
