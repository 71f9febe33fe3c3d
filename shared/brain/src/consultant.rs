//! The offline consultant (placeholder API; being written).

use gantry_domain::consultation::Consultation;
use gantry_domain::Turn;

pub struct Answer {
    pub consultation: Consultation,
    pub response: String,
    pub speech: String,
}

pub fn consult(current: Option<&Consultation>, _conversation: &[Turn], _has_image: bool) -> Answer {
    let consultation = current.cloned().unwrap_or_default();
    Answer { consultation, response: String::new(), speech: String::new() }
}
