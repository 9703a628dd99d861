//! What an `Rcu` points to must be `'static`: it may be freed on the callback worker after the
//! current scope has ended, so it cannot borrow a local.

use rcu_runtime::Rcu;

fn main() {
    let name = String::from("local");
    let config = Rcu::new(Box::new(name.as_str()));
    drop(config);
}
