//! `#[derive(RcuProtected)]` only supports structs: an `Rcu` inside an enum variant is not at a
//! fixed place (writing another variant overwrites it), so lock-free readers could not reach it.
//! The derive still emits a stub `RcuProtected` impl, so the uses of `Route` below add no error
//! of their own: one mistake, one message.

use rcu_runtime::{Rcu, RcuMutex, RcuProtected};

#[derive(RcuProtected)]
enum Route {
    Direct(#[rcu] Rcu<Box<u32>>),
    Unreachable,
}

fn main() {
    let route = RcuMutex::new(Route::Unreachable);
    let _view = route.rcu();
    let _projection = route.lock().project();
}
