//! A pinned `Rcu` cannot be swapped with another: `Rcu` is `!Unpin`, so `Pin<&mut Rcu>` gives no
//! `&mut Rcu` that `mem::swap` could take (the swap would be a plain, non-atomic move under
//! readers that hold `&Rcu`).

use std::pin::pin;

use rcu_runtime::Rcu;

fn main() {
    let pinned = pin!(Rcu::new(Box::new(1_u32)));
    let mut other = Rcu::new(Box::new(2_u32));
    std::mem::swap(&mut *pinned, &mut other);
}
