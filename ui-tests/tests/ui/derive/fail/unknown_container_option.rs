//! An unknown `#[rcu_protected(..)]` option is reported with the list of valid ones.

use rcu_runtime::{Rcu, RcuProtected};

#[derive(RcuProtected)]
#[rcu_protected(veiw = ConfigReader)]
struct Config {
    #[rcu]
    routes: Rcu<Box<u32>>,
}

fn main() {}
