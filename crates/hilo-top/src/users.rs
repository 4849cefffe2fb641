//! User names by uid, looked up once each (`getpwuid_r` through `nix`).

use std::collections::HashMap;

/// A cache of user names.
#[derive(Default)]
pub(crate) struct Users {
    names: HashMap<u32, String>,
}

impl Users {
    /// The name of `uid`, or the number when it has none.
    pub(crate) fn name(&mut self, uid: u32) -> String {
        self.names
            .entry(uid)
            .or_insert_with(|| {
                nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
                    .ok()
                    .flatten()
                    .map_or_else(|| uid.to_string(), |u| u.name)
            })
            .clone()
    }
}
