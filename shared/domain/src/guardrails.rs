//! Guardrails: requests Gantry refuses to build. (Placeholder API; rules being written.)

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// A stable category, e.g. `malware`, `phishing`.
    pub category: &'static str,
    /// A plain sentence for the person.
    pub reason: String,
}

pub fn check(_message: &str) -> Result<(), Refusal> {
    Ok(())
}
