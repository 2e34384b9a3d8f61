//! Secrets found in imported files: each becomes an `{env: NAME}` reference with a name
//! derived from the server and the object, and its value goes to a separate file, never
//! into YAML or onto the terminal.

use crate::model::secret::{EnvSecret, Secret};

/// The secrets of one import, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    pub values: Vec<(String, String)>,
}

impl Secrets {
    /// Records `value` under a name made of the server, the kind of object and its id
    /// (`MSK_EXT_101_SECRET`): the same inputs give the same name on every import.
    pub fn keep(&mut self, server: &str, parts: &[&str], value: &str) -> Secret {
        let mut name = env_word(server);
        for p in parts {
            name.push('_');
            name.push_str(&env_word(p));
        }
        if !self.values.iter().any(|(n, _)| *n == name) {
            self.values.push((name.clone(), value.to_owned()));
        }
        Secret::Env(EnvSecret { env: name })
    }

    /// The secrets file: `NAME='value'` lines a shell or systemd's `EnvironmentFile`
    /// can load.
    pub fn file_text(&self) -> String {
        let mut out = String::from(
            "# Secrets found by `astbase import`. Load them into your secret store, then\n\
             # delete this file. It is readable by its owner only; never commit it.\n",
        );
        for (name, value) in &self.values {
            out.push_str(&format!("{name}={}\n", crate::transport::quote(value)));
        }
        out
    }
}

/// Upper-case letters, digits and `_`: what an environment variable name may hold.
fn env_word(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_named_after_its_server_and_object_and_kept_once() {
        let mut s = Secrets::default();
        let r = s.keep("msk-1", &["ext", "101", "secret"], "pa'ss");
        assert_eq!(
            r,
            Secret::Env(EnvSecret {
                env: "MSK_1_EXT_101_SECRET".into()
            })
        );
        s.keep("msk-1", &["ext", "101", "secret"], "pa'ss");
        assert_eq!(s.values.len(), 1);
        assert!(
            s.file_text()
                .ends_with("MSK_1_EXT_101_SECRET='pa'\\''ss'\n")
        );
    }
}
