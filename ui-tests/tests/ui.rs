//! The compile-fail and compile-pass suite: every file in `ui/fail/` must be rejected by the
//! compiler with exactly the message recorded next to it in a `.stderr` file, and every file in
//! `ui/pass/` must compile and run to completion.
//!
//! The pass cases are the twins of the fail cases: each shows that the code right next to the
//! forbidden one is accepted, so a fail case cannot pass for an unrelated reason (a typo, a
//! missing import). `README.md` lists the cases and what each proves.
//!
//! Regenerate the expected messages after a compiler or API change with
//! `TRYBUILD=overwrite cargo test -p ui-tests`, then read every changed `.stderr`: a message
//! that blames the wrong thing is a bug, not a new baseline.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/derive/fail/*.rs");
    t.pass("tests/ui/derive/pass/*.rs");
}
