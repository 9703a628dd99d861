//! Builds the liburcu shim of the `compare` program when the `liburcu` feature is on; does
//! nothing otherwise, so the workspace builds without liburcu installed.

fn main() {
    #[cfg(feature = "liburcu")]
    liburcu::build_shim();
}

#[cfg(feature = "liburcu")]
mod liburcu {
    /// The memb flavour's shim (reads, updates, grace periods) and the QSBR flavour's (reads).
    const SHIMS: [&str; 2] = ["csrc/urcu_shim.c", "csrc/urcu_qsbr_shim.c"];

    /// Compiles the shims and links them with liburcu's memb and QSBR flavours.
    pub(super) fn build_shim() {
        for shim in SHIMS {
            println!("cargo::rerun-if-changed={shim}");
        }
        // Linked into the `compare` binary only, by hand: cargo passes `rustc-link-lib` to the
        // package's library target alone when there is one (examples/src/lib.rs), and `compare`
        // does not use that library.
        let built = cc::Build::new()
            .files(SHIMS)
            .std("c11")
            .opt_level(2)
            .warnings(true)
            .extra_warnings(true)
            .cargo_metadata(false)
            .try_compile("urcu_shim");
        if let Err(error) = built {
            panic!(
                "the `liburcu` feature needs liburcu's headers and libraries (Debian: \
                 `apt-get install liburcu-dev`); compiling {SHIMS:?} failed: {error}"
            );
        }
        let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
        // The shims, then what they use: the two flavours and the code they share.
        for arg in [&format!("-L{out_dir}"), "-lurcu_shim", "-lurcu-memb", "-lurcu-qsbr", "-lurcu-common"] {
            println!("cargo::rustc-link-arg-bin=compare={arg}");
        }
    }
}
