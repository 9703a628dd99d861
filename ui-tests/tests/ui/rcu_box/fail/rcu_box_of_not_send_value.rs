//! An `RcuBox` drops its value on the callback worker thread, so the value must be `Send`.

use std::rc::Rc;

use rcu_runtime::RcuBox;

fn main() {
    let _ = RcuBox::new(Rc::new(1_u32));
}
