//! Whoever locks the `RcuMutex` uses the data on their thread, so sharing it between threads
//! needs the data to be `Send`, writer-only fields included.

use std::rc::Rc;

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
    owner: Rc<str>,
}

fn main() {
    let config = RcuMutex::new(Config { routes: Rcu::null(), owner: Rc::from("main") });
    std::thread::scope(|s| {
        s.spawn(|| {
            let writer = config.lock();
            println!("{}", writer.owner);
        });
    });
}
