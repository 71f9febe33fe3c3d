//! What a spoken or typed message asks for, beyond describing an app. (Placeholder; being written.)

/// Whether the message asks about the state of the person's latest mission
/// ("what's the status", "how is my build going") rather than describing an app.
pub fn is_status_query(_message: &str) -> bool {
    false
}
