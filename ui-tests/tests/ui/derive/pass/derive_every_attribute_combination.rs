//! Twin of the attribute mistakes (`rcu_attribute_with_arguments`, `unknown_container_option`,
//! `container_option_mistakes`, `field_attribute_misplaced`, `conflicting_field_attributes`,
//! `generated_names_clash`): every valid field attribute (`#[rcu]`, `#[pin]`, `#[rcu_head]`, none)
//! next to doc comments and other attributes, every container option (`project`, `project_ref`,
//! `view`, `crate`, split over several attributes), and unit and empty structs.

use std::pin::Pin;

use rcu_runtime::{HasRcuHead, Rcu, RcuHead, RcuMutex, RcuProtected, read_lock};

/// The runtime under another name, as a facade crate would re-export it.
mod facade {
    pub use rcu_runtime::*;
}

#[derive(RcuProtected, Debug)]
#[rcu_protected(project = ServerMut, project_ref = ServerRef)]
#[rcu_protected(view = ServerReader, crate = crate::facade)]
pub struct Server {
    /// Readers follow this without the lock.
    #[rcu]
    #[allow(dead_code)]
    pub routes: Rcu<Box<Vec<u16>>>,
    #[pin]
    pub pinned_counter: u64,
    #[rcu_head]
    head: RcuHead,
    pub(crate) requests: u64,
}

#[derive(RcuProtected)]
#[rcu_protected(crate = "rcu_runtime")]
struct Marker;

#[derive(RcuProtected)]
struct Empty {}

#[derive(RcuProtected)]
struct NoRcuFields {
    plain: u8,
    #[pin]
    pinned: u8,
}

fn main() {
    let server = RcuMutex::new(Server {
        routes: Rcu::new(Box::new(vec![80])),
        pinned_counter: 0,
        head: RcuHead::new(),
        requests: 0,
    });
    let view: ServerReader<'_> = server.rcu();
    assert_eq!(view.routes().dereference(&read_lock()).map(Vec::len), Some(1));

    let mut writer = server.lock();
    let projection: ServerMut<'_> = writer.project();
    let counter: Pin<&mut u64> = projection.pinned_counter;
    *counter.get_mut() += 1;
    *projection.requests += 1;
    let _: &mut RcuHead = projection.head;
    let shared: ServerRef<'_> = writer.project_ref();
    assert_eq!(*shared.pinned_counter, 1);
    assert_eq!(*shared.requests, 1);
    assert!(format!("{:?}", *writer).starts_with("Server"));
    drop(writer);

    let boxed = Box::into_raw(Box::new(Server {
        routes: Rcu::null(),
        pinned_counter: 0,
        head: RcuHead::new(),
        requests: 0,
    }));
    let head = Server::raw_get_rcu_head(boxed);
    // SAFETY: `head` was just computed from the live `boxed`, whose whole allocation it may reach.
    assert_eq!(unsafe { Server::rcu_head_container_of(head) }, boxed);
    // SAFETY: `boxed` came from `Box::into_raw` just above and is turned back once.
    drop(unsafe { Box::from_raw(boxed) });

    let marker = RcuMutex::new(Marker);
    drop(marker.lock().project());
    let empty = RcuMutex::new(Empty {});
    let _view: EmptyView<'_> = empty.rcu(); // a view with no methods, but a view
    let mut no_rcu = RcuMutex::new(NoRcuFields { plain: 1, pinned: 2 });
    let data = no_rcu.get_mut().project();
    *data.plain += *data.pinned;
    assert_eq!(no_rcu.lock().plain, 3);
}
