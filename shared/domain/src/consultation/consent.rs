//! Consent recognition. (Placeholder API; rules being written.)

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Consent,
    Decline,
    Feedback,
}

pub fn classify_reply(message: &str) -> Reply {
    if message.to_lowercase().contains("proceed") {
        Reply::Consent
    } else {
        Reply::Feedback
    }
}
