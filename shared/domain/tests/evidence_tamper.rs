//! Property: changing any single byte of a sealed pack, of any artifact, of the signature or of
//! the public key makes the pack invalid.

mod evidence_fixture;

use std::sync::OnceLock;

use gantry_domain::evidence::{verify_json, ArtifactRef, Pack};
use proptest::prelude::*;
use proptest::sample::Index;

use evidence_fixture::{decode, encode, signed, Alg, Fixture};

fn fixture(alg: Alg) -> &'static Fixture {
    static FIXTURES: OnceLock<[Fixture; 2]> = OnceLock::new();
    let fixtures = FIXTURES.get_or_init(|| [signed(Alg::Ed25519), signed(Alg::P256)]);
    match alg {
        Alg::Ed25519 => &fixtures[0],
        Alg::P256 => &fixtures[1],
    }
}

fn alg() -> impl Strategy<Value = Alg> {
    prop_oneof![Just(Alg::Ed25519), Just(Alg::P256)]
}

fn flip(bytes: &mut [u8], position: Index, mask: u8) {
    let position = position.index(bytes.len());
    bytes[position] ^= mask;
}

fn is_valid(bytes: &[u8], lookup: &dyn Fn(&ArtifactRef) -> Option<Vec<u8>>) -> bool {
    verify_json(bytes, lookup).valid
}

/// The pack with one of its signature's base64 fields decoded, flipped and re-encoded.
fn with_flipped_signature_field(
    pack: &Pack,
    field: fn(&mut gantry_domain::evidence::PackSignature) -> &mut String,
    position: Index,
    mask: u8,
) -> Vec<u8> {
    let mut pack = pack.clone();
    let signature = pack.signature.as_mut().expect("fixture packs are signed");
    let text = field(signature);
    let mut bytes = decode(text);
    flip(&mut bytes, position, mask);
    *text = encode(&bytes);
    pack.to_json()
}

#[test]
fn the_untouched_fixtures_are_valid() {
    for alg in [Alg::Ed25519, Alg::P256] {
        let fixture = fixture(alg);
        assert!(is_valid(&fixture.pack.to_json(), &|a| fixture.lookup(a)), "{alg:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_flipped_pack_byte_is_detected(alg in alg(), position in any::<Index>(), mask in 1u8..=255) {
        let fixture = fixture(alg);
        let mut bytes = fixture.pack.to_json();
        flip(&mut bytes, position, mask);
        prop_assert!(!is_valid(&bytes, &|a| fixture.lookup(a)));
    }

    #[test]
    fn any_flipped_artifact_byte_is_detected(
        alg in alg(),
        which in any::<Index>(),
        position in any::<Index>(),
        mask in 1u8..=255,
    ) {
        let fixture = fixture(alg);
        let mut stored = fixture.stored.clone();
        let key = which.get(&fixture.pack.artifacts).key.clone();
        flip(stored.get_mut(&key).expect("every listed artifact is stored"), position, mask);
        let bytes = fixture.pack.to_json();
        prop_assert!(!is_valid(&bytes, &|a| stored.get(&a.key).cloned()));
    }

    #[test]
    fn any_flipped_signature_byte_is_detected(alg in alg(), position in any::<Index>(), mask in 1u8..=255) {
        let fixture = fixture(alg);
        let bytes = with_flipped_signature_field(&fixture.pack, |s| &mut s.signature, position, mask);
        prop_assert!(!is_valid(&bytes, &|a| fixture.lookup(a)));
    }

    #[test]
    fn any_flipped_public_key_byte_is_detected(alg in alg(), position in any::<Index>(), mask in 1u8..=255) {
        let fixture = fixture(alg);
        let bytes = with_flipped_signature_field(&fixture.pack, |s| &mut s.public_key, position, mask);
        prop_assert!(!is_valid(&bytes, &|a| fixture.lookup(a)));
    }
}

/// Beyond sampling: every position of the P-256 pack, flipped with a low bit, the ASCII case bit
/// or all bits in turn (one mask per position keeps the run short in debug builds).
#[test]
fn every_position_of_the_pack_is_covered() {
    let fixture = fixture(Alg::P256);
    let original = fixture.pack.to_json();
    for (position, mask) in (0..original.len()).zip([0x01u8, 0x20, 0xFF].into_iter().cycle()) {
        let mut bytes = original.clone();
        bytes[position] ^= mask;
        assert!(
            !is_valid(&bytes, &|a| fixture.lookup(a)),
            "undetected: byte {position} ^ {mask:#04x} in …{}…",
            String::from_utf8_lossy(
                &original[position.saturating_sub(30)..(position + 30).min(original.len())]
            )
        );
    }
}
