//! Ed25519 evidence signer (being written).
