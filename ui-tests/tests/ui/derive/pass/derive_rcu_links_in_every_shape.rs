//! Twin of `rcu_links_on_non_rcu_links_field`, `two_rcu_links` and
//! `rcu_links_with_another_field_attribute`: one `#[rcu_links]` field of type `RcuLinks`, in a
//! named struct next to `#[rcu]`, `#[rcu_head]` and plain fields, in a generic tuple struct, under
//! `#[cfg]`, and through `crate = path`; each struct is then a node of an `RcuList`, and the
//! derived `HasRcuLinks` projects to the field and back.

use rcu_runtime::{HasRcuLinks, Rcu, RcuHead, RcuLinks, RcuList, RcuProtected, rcu_barrier, read_lock};

mod facade {
    pub use rcu_runtime::*;
}

#[derive(RcuProtected)]
struct Route {
    #[rcu]
    table: Rcu<Box<u32>>,
    prefix: u32,
    #[rcu_links]
    links: RcuLinks,
    #[rcu_head]
    head: RcuHead,
}

#[derive(RcuProtected)]
struct Tagged<T: Send + Sync>(T, #[cfg(all())] #[rcu_links] RcuLinks)
where
    T: 'static;

#[derive(RcuProtected)]
#[rcu_protected(crate = crate::facade)]
struct Facade {
    #[rcu_links]
    links: rcu_runtime::RcuLinks,
    value: u8,
}

fn main() {
    let routes = RcuList::new();
    for prefix in [10, 20] {
        routes.push_back(Box::new(Route {
            table: Rcu::new(Box::new(prefix * 2)),
            prefix,
            links: RcuLinks::new(),
            head: RcuHead::new(),
        }));
    }
    let guard = read_lock();
    let tables: Vec<u32> = routes.iter(&guard).map(|r| *r.table.dereference(&guard).unwrap()).collect();
    assert_eq!(tables, [20, 40]);
    drop(guard);
    routes.remove(|r| r.prefix == 10).unwrap().drop_async();
    rcu_barrier();

    let tagged = RcuList::new();
    tagged.push_front(Box::new(Tagged(String::from("a"), RcuLinks::new())));
    assert_eq!(tagged.iter(&read_lock()).map(|t| t.0.clone()).collect::<Vec<_>>(), ["a"]);

    let facade = RcuList::new();
    facade.push_back(Box::new(Facade { links: RcuLinks::new(), value: 3 }));
    assert_eq!(facade.iter(&read_lock()).next().map(|f| f.value), Some(3));

    // The derived projection goes to the `links` field and back.
    let mut node = Facade { links: RcuLinks::new(), value: 1 };
    let this = &raw mut node;
    let links = Facade::raw_get_rcu_links(this);
    assert_eq!(links, &raw mut node.links);
    // SAFETY: `links` comes from `raw_get_rcu_links` of the live `node`.
    assert_eq!(unsafe { Facade::rcu_links_container_of(links) }, this);
}
