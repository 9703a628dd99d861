//! The process-wide engine: the global [`Domain`] and its one-time start-up.

use std::sync::Once;

use crate::domain::Domain;

static DOMAIN: Domain = Domain::new();
static START: Once = Once::new();

/// The process-wide RCU engine.
#[inline(always)]
pub(crate) fn domain() -> &'static Domain {
    &DOMAIN
}

/// Reads the configuration, chooses the barrier flavour and installs the fork handlers, once.
///
/// Runs before the first reader registers, so the flavour never changes under a reader.
#[inline]
pub(crate) fn start() {
    START.call_once(|| {
        crate::config::read_env();
        crate::membarrier::init(crate::config::fences_forced());
        if crate::membarrier::mode() == Some(crate::config::BarrierMode::Fences) {
            DOMAIN.use_reader_fences();
        }
        crate::fork::install_handlers();
    });
}
