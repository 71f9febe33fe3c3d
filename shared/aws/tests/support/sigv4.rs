//! S3's own check of a presigned (query-string SigV4) request, for the tests: moto accepts any
//! presigned URL without checking its signature, so the tests recompute the signature S3 would
//! expect for the request a client actually sends and compare it with the URL's.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
            out.push(u8::from_str_radix(hex, 16).expect("percent escape"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// SigV4's URI encoding: everything but unreserved characters, as uppercase `%XX`.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether `url`'s signature holds for a `method` request that sends `headers` (lowercase names;
/// `host` is taken from the URL), signed with `secret_key`.
pub fn presigned_signature_holds(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    secret_key: &str,
) -> bool {
    let parsed = reqwest::Url::parse(url).expect("a URL");
    let mut params: Vec<(String, String)> = parsed
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).expect(name);
    let signature = param("X-Amz-Signature");
    let credential = param("X-Amz-Credential");
    let date = param("X-Amz-Date");
    let signed_headers = param("X-Amz-SignedHeaders");
    params.retain(|(k, _)| k != "X-Amz-Signature");
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    let canonical_query = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");

    let host = match parsed.port() {
        Some(port) => format!("{}:{port}", parsed.host_str().expect("host")),
        None => parsed.host_str().expect("host").to_owned(),
    };
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = if name == "host" {
            host.clone()
        } else {
            match headers.iter().find(|(n, _)| *n == name) {
                Some((_, value)) => value.trim().to_owned(),
                // The client does not send a header the signature covers: S3 refuses.
                None => return false,
            }
        };
        canonical_headers.push_str(&format!("{name}:{value}\n"));
    }
    let canonical_request = format!(
        "{method}\n{}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\nUNSIGNED-PAYLOAD",
        parsed.path()
    );

    let scope = credential.split_once('/').expect("credential scope").1.to_owned();
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let parts: Vec<&str> = scope.split('/').collect();
    let mut key = hmac(format!("AWS4{secret_key}").as_bytes(), parts[0]);
    for part in &parts[1..] {
        key = hmac(&key, part);
    }
    hex::encode(hmac(&key, &string_to_sign)) == signature
}
