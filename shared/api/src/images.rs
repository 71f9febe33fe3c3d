//! Design images: accepted types, size limit, and the magic-byte check every image passes
//! before a mission may use it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use gantry_domain::Subject;

use crate::error::ApiError;

pub const MAX_IMAGE_BYTES: u64 = 5 * 1024 * 1024;

/// The extension for an accepted content type.
pub fn extension_for(content_type: &str) -> Option<&'static str> {
    match content_type {
        "image/png" => Some("png"),
        "image/jpeg" => Some("jpg"),
        "image/webp" => Some("webp"),
        "image/gif" => Some("gif"),
        _ => None,
    }
}

/// The content type the bytes really are, by their magic numbers.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Upload keys live under a per-subject prefix, so one subject cannot attach another's image.
pub fn owner_prefix(subject: &Subject) -> String {
    let digest = hex::encode(Sha256::digest(subject.as_str().as_bytes()));
    gantry_ports::object_keys::upload_dir(&digest[..16])
}

pub fn new_key(subject: &Subject, ext: &str) -> String {
    format!("{}{}.{ext}", owner_prefix(subject), uuid::Uuid::now_v7().simple())
}

/// Checks image bytes: size, and that they are one of the accepted types.
pub fn check(bytes: &[u8]) -> Result<&'static str, ApiError> {
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        return Err(ApiError::TooLarge);
    }
    sniff(bytes)
        .ok_or_else(|| ApiError::Unprocessable("The image must be a PNG, JPEG, WebP or GIF file.".into()))
}

/// Decodes an inline base64 image (a `data:` URL prefix is tolerated).
pub fn decode_inline(data: &str) -> Result<Vec<u8>, ApiError> {
    let payload = data.split_once("base64,").map_or(data, |(_, rest)| rest);
    if payload.len() as u64 > MAX_IMAGE_BYTES * 4 / 3 + 8 {
        return Err(ApiError::TooLarge);
    }
    let cleaned: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(cleaned).map_err(|_| ApiError::BadRequest("image_base64 is not valid base64".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide_the_type() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<svg onload=alert(1)>"), None);
        assert!(check(b"plain text").is_err());
    }

    #[test]
    fn keys_are_scoped_to_their_owner() {
        let a = new_key(&Subject::new("a"), "png");
        assert!(a.starts_with(&owner_prefix(&Subject::new("a"))));
        assert!(!a.starts_with(&owner_prefix(&Subject::new("b"))));
    }
}
