pub(crate) mod auth;
pub(crate) mod consult;
pub(crate) mod files;
pub(crate) mod meta;
pub(crate) mod missions;
pub(crate) mod uploads;
