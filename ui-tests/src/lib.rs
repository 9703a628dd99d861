//! The compile-fail and compile-pass suite of rcu-toolkit lives in `tests/`; this crate has no
//! code of its own. Run it with `cargo test -p ui-tests`; regenerate the expected compiler output
//! with `TRYBUILD=overwrite cargo test -p ui-tests` (then read every changed `.stderr`).
