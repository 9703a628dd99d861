//! The rcu-toolkit book, compiled: every chapter of `book/src` is included here as documentation,
//! so `cargo test -p book` compiles and runs every Rust block of the tutorial.
