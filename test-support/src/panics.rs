//! The text of a panic payload, for tests that check a panic's message.

use std::any::Any;

/// The message of a panic payload (`panic!` with a literal or with formatting); `<not a string>`
/// for any other payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<not a string>".to_owned())
}
