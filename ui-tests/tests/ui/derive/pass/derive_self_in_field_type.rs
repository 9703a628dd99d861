//! `Self` in a field type: an RCU linked list names its own type in its `#[rcu]` field. The derive
//! copies field types into generated structs and functions, where `Self` would mean something
//! else (or nothing), so it must replace `Self` by the struct's type first. (Found by this suite
//! with a dozen errors pointing at the derive; fixed in the derive since.)

use rcu_runtime::{Rcu, RcuMutex, RcuProtected, read_lock};

#[derive(RcuProtected)]
struct Node {
    value: u64,
    #[rcu]
    next: Rcu<Box<Self>>,
}

/// The same with generics: `Self` is `Tree<'a, T>`, lifetimes and parameters included.
#[derive(RcuProtected)]
struct Tree<'a, T: Send + Sync + 'static> {
    value: T,
    label: &'a str,
    #[rcu]
    left: Rcu<Box<Tree<'static, T>>>,
    #[pin]
    parent: Option<&'a Self>,
}

fn main() {
    let list =
        RcuMutex::new(Node { value: 1, next: Rcu::new(Box::new(Node { value: 2, next: Rcu::null() })) });
    let guard = read_lock();
    assert_eq!(list.rcu().next().dereference(&guard).map(|next| next.value), Some(2));

    let leaf = Tree { value: 2_u8, label: "leaf", left: Rcu::null(), parent: None };
    let root = Tree { value: 1_u8, label: "root", left: Rcu::new(Box::new(leaf)), parent: None };
    let child = RcuMutex::new(Tree { value: 3_u8, label: "child", left: Rcu::null(), parent: Some(&root) });
    let writer = child.lock();
    let parent = writer.project_ref().parent.get_ref().expect("has a parent");
    assert_eq!(parent.label, "root");
    assert_eq!(parent.left.dereference(&guard).map(|left| left.value), Some(2));
    drop(guard); // before the lists, whose drops wait for a grace period
}
