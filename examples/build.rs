//! Builds the liburcu shim of the `compare` program when the `liburcu` feature is on; does
//! nothing otherwise, so the workspace builds without liburcu installed.

fn main() {
    #[cfg(feature = "liburcu")]
    liburcu::build_shim();
}

#[cfg(feature = "liburcu")]
mod liburcu {
    const SHIM: &str = "csrc/urcu_shim.c";

    /// Compiles `csrc/urcu_shim.c` and links it with liburcu's memb flavour.
    pub(super) fn build_shim() {
        println!("cargo::rerun-if-changed={SHIM}");
        let built = cc::Build::new()
            .file(SHIM)
            .std("c11")
            .opt_level(2)
            .warnings(true)
            .extra_warnings(true)
            .try_compile("urcu_shim");
        if let Err(error) = built {
            panic!(
                "the `liburcu` feature needs liburcu's headers and libraries (Debian: \
                 `apt-get install liburcu-dev`); compiling {SHIM} failed: {error}"
            );
        }
        // After the shim, which uses them: the memb flavour and the code it shares with the others.
        println!("cargo::rustc-link-lib=urcu-memb");
        println!("cargo::rustc-link-lib=urcu-common");
    }
}
