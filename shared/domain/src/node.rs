//! The curated node dependency set: the packages an app of the `node` stack may use. The files
//! in `shared/node-deps` are data; this module embeds them so every shape (Lambda, `gantry serve`,
//! the builder) agrees on one set, and names the set by a hash of its lock.

use sha2::{Digest, Sha256};

/// The set's `package.json`: its top-level packages and their ranges.
pub const SET_PACKAGE_JSON: &str = include_str!("../../node-deps/package.json");
/// The set's `package-lock.json`: every package of the tree, pinned with its integrity hash.
pub const SET_LOCK: &str = include_str!("../../node-deps/package-lock.json");

/// The set's id: the first 16 hex digits of the sha256 of its lock. A fetched set lives in a
/// dir of this name, so a changed set is fetched anew instead of mixing with an old one.
pub fn set_id() -> String {
    set_id_of(SET_LOCK)
}

pub fn set_id_of(lock: &str) -> String {
    let digest = hex::encode(Sha256::digest(lock.as_bytes()));
    digest[..16].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_follows_the_lock() {
        assert_eq!(set_id().len(), 16);
        assert_ne!(set_id_of("{}"), set_id_of("{ }"));
        assert_eq!(set_id(), set_id_of(SET_LOCK));
    }

    #[test]
    fn the_embedded_set_is_a_v3_lock_of_its_package_json() {
        let lock: serde_json::Value = serde_json::from_str(SET_LOCK).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(SET_PACKAGE_JSON).unwrap();
        assert_eq!(lock["lockfileVersion"], 3);
        assert_eq!(lock["packages"][""]["dependencies"], manifest["dependencies"]);
        assert_eq!(lock["packages"][""]["devDependencies"], manifest["devDependencies"]);
        for (path, entry) in lock["packages"].as_object().unwrap() {
            // Bundled packages ship inside their parent's tarball, which carries the hash.
            if path.is_empty() || entry["inBundle"] == true {
                continue;
            }
            assert!(entry["integrity"].as_str().is_some_and(|i| i.starts_with("sha512-")), "{path}");
            assert!(entry.get("hasInstallScript").is_none(), "{path} has an install script");
        }
    }
}
