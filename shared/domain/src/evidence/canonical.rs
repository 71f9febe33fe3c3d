//! Canonical JSON: the one byte form of a JSON value that evidence hashes and packs are written in.
//!
//! The form is RFC 8259 JSON with no whitespace, object keys sorted by their UTF-8 bytes, strings
//! escaped exactly as serde_json escapes them (`\"`, `\\`, `\b`, `\t`, `\n`, `\f`, `\r`, other
//! control characters as lowercase `\u00xx`, everything else literal) and numbers as serde_json
//! prints them (integers in decimal, floats in shortest round-trip form). Keys are sorted here
//! rather than by trusting serde_json's map type, which becomes insertion-ordered when any crate in
//! the build enables its `preserve_order` feature.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The canonical bytes of `value`.
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(value, &mut out);
    out
}

/// Lowercase hex sha256 of `bytes`, the digest form used throughout the evidence format.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => out.extend_from_slice(number.to_string().as_bytes()),
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_value(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_string(key, out);
                out.push(b':');
                write_value(item, out);
            }
            out.push(b'}');
        }
    }
}

fn write_string(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &byte in text.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0A => out.extend_from_slice(b"\\n"),
            0x0C => out.extend_from_slice(b"\\f"),
            0x0D => out.extend_from_slice(b"\\r"),
            0x00..=0x1F => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0x0F)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_are_escaped_exactly_as_serde_json_escapes_them() {
        let every_ascii: String = (0u8..=0x7F).map(char::from).collect();
        for text in [every_ascii.as_str(), "é ✓ 🚀 \u{2028} /", ""] {
            let value = Value::String(text.to_owned());
            assert_eq!(canonical_json(&value), serde_json::to_vec(&value).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn keys_are_sorted_by_bytes_at_every_depth_and_whitespace_is_dropped() {
        let value: Value =
            serde_json::from_str(r#" { "b" : [ { "z" : 1 , "a" : 2 } ] , "B" : 1.5 , "a" : null } "#)
                .unwrap();
        assert_eq!(canonical_json(&value), br#"{"B":1.5,"a":null,"b":[{"a":2,"z":1}]}"#.to_vec());
    }

    #[test]
    fn numbers_keep_their_integer_or_float_identity() {
        assert_eq!(
            canonical_json(&json!([1, -7, 1.0, 0.1, 18446744073709551615u64])),
            b"[1,-7,1.0,0.1,18446744073709551615]"
        );
    }

    #[test]
    fn digest_is_lowercase_hex_sha256() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
