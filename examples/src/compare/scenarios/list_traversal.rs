//! Scenario 8: `RcuList` traversal against a plain single-threaded linked-list walk.
//!
//! Both lists hold the same values in nodes allocated one after the other; a pass walks the whole
//! list and sums the values. Ours takes one guard per pass (its cost is spread over the nodes).
//! The figure is nanoseconds per node, median over rounds that alternate the two walks.

use core::hint::black_box;
use std::time::{Duration, Instant};

use rcu_runtime::{RcuLinks, RcuList, RcuProtected, read_lock};

use crate::compare::options::Options;
use crate::compare::report::{self, Check, Section, Table};
use crate::compare::sample::Samples;

/// A node of our list.
#[derive(RcuProtected)]
struct Node {
    value: u64,
    #[rcu_links]
    links: RcuLinks,
}

/// A node of the plain list: what a single-threaded program would write.
struct Plain {
    next: Option<Box<Plain>>,
    value: u64,
}

fn plain_list(len: u64) -> Option<Box<Plain>> {
    let mut head = None;
    for value in (0..len).rev() {
        head = Some(Box::new(Plain { next: head, value }));
    }
    head
}

fn plain_sum(mut node: Option<&Plain>) -> u64 {
    let mut sum = 0;
    while let Some(n) = node {
        sum += n.value;
        node = n.next.as_deref();
    }
    sum
}

fn ours_sum(list: &RcuList<Node>) -> u64 {
    let guard = read_lock();
    list.iter(&guard).map(|n| n.value).sum()
}

/// Nanoseconds per node of `pass` (which walks `len` nodes) over about `target`.
fn per_node(len: u64, target: Duration, mut pass: impl FnMut() -> u64) -> f64 {
    let mut passes = 0_u64;
    let start = Instant::now();
    while start.elapsed() < target {
        black_box(pass());
        passes += 1;
    }
    start.elapsed().as_nanos() as f64 / (passes * len) as f64
}

pub(crate) fn run(options: &Options) -> Section {
    let mut section = Section::default();
    let mut table = Table::new(
        "8. List traversal, nanoseconds per node",
        "A pass walks the whole list and sums one field per node; ours takes one guard per pass. \
         Median over rounds alternating the two walks.",
        &["nodes", "plain linked list", "rcu-runtime RcuList", "ratio"],
    );
    for len in [1_000_u64, 100_000] {
        let plain = plain_list(len);
        let ours = RcuList::new();
        for value in 0..len {
            ours.push_back(Box::new(Node { value, links: RcuLinks::new() }));
        }
        assert_eq!(plain_sum(plain.as_deref()), ours_sum(&ours));
        let (mut plain_ns, mut ours_ns, mut ratio) =
            (Samples::default(), Samples::default(), Samples::default());
        for round in 0..=options.reps {
            let p = per_node(len, options.read_rep(), || plain_sum(plain.as_deref()));
            let o = per_node(len, options.read_rep(), || ours_sum(&ours));
            if round > 0 {
                plain_ns.push(p);
                ours_ns.push(o);
                ratio.push(o / p);
            }
        }
        table.row(vec![
            len.to_string(),
            report::ns(&plain_ns),
            report::ns(&ours_ns),
            report::ratio(ratio.median()),
        ]);
        section.checks.push(Check::at_most(
            &format!("RcuList traversal / plain linked list, per node, {len} nodes"),
            ratio.median(),
            1.2,
            "×",
        ));
        // An iterative drop for the plain list too (a long Box chain would recurse).
        let mut next = plain;
        while let Some(mut node) = next {
            next = node.next.take();
        }
    }
    section.tables.push(table);
    section
}
