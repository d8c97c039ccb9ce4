//! The pass-count ratchet: a record of how many records of each file passed,
//! which may only go up.
//!
//! Strata's SQL engine will pass a growing part of the corpus long before it
//! passes all of it. Failing CI on every failed record would make that
//! unusable, and ignoring failures would let regressions through; the
//! ratchet fails only when some file passes fewer records than it once did.
//!
//! File format: one `path passed_count` per line (path relative to the corpus
//! directory given on the command line); blank lines and lines starting with
//! `#` are ignored. The path is everything before the last run of white space.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ratchet {
    entries: BTreeMap<String, u64>,
}

/// A file whose pass count went down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regression {
    pub key: String,
    pub was: u64,
    pub now: u64,
}

impl Ratchet {
    pub fn parse(text: &str) -> Result<Ratchet, String> {
        let mut entries = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed = line
                .rsplit_once(|c: char| c.is_whitespace())
                .and_then(|(path, n)| Some((path.trim_end(), n.parse::<u64>().ok()?)));
            match parsed {
                Some((path, n)) if !path.is_empty() => {
                    entries.insert(path.to_string(), n);
                }
                _ => {
                    return Err(format!(
                        "line {}: expected `path passed_count`, got `{line}`",
                        i + 1
                    ))
                }
            }
        }
        Ok(Ratchet { entries })
    }

    /// Loads a ratchet file. A missing file is an empty ratchet only if
    /// `allow_missing` (when it is about to be created).
    pub fn load(path: &Path, allow_missing: bool) -> Result<Ratchet, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ratchet::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && allow_missing => {
                Ok(Ratchet::default())
            }
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    pub fn get(&self, key: &str) -> Option<u64> {
        self.entries.get(key).copied()
    }

    /// Files whose pass count is below the recorded one. Files absent from
    /// the ratchet are new and cannot regress; recorded files that were not
    /// run (a partial run) are not judged.
    pub fn regressions<'a>(
        &self,
        results: impl IntoIterator<Item = (&'a str, u64)>,
    ) -> Vec<Regression> {
        results
            .into_iter()
            .filter_map(|(key, now)| {
                let was = self.get(key)?;
                (now < was).then(|| Regression {
                    key: key.to_string(),
                    was,
                    now,
                })
            })
            .collect()
    }

    /// Records new pass counts, never lowering an existing one.
    pub fn raise<'a>(&mut self, results: impl IntoIterator<Item = (&'a str, u64)>) {
        for (key, now) in results {
            let entry = self.entries.entry(key.to_string()).or_insert(0);
            *entry = (*entry).max(now);
        }
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (path, n) in &self.entries {
            let _ = writeln!(s, "{path} {n}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render_round_trip() {
        let r =
            Ratchet::parse("# comment\nselect1.test.gz 1000\n\nindex/in/10/slt_good_3.test.gz 7\n")
                .unwrap();
        assert_eq!(r.get("select1.test.gz"), Some(1000));
        assert_eq!(r.get("index/in/10/slt_good_3.test.gz"), Some(7));
        assert_eq!(Ratchet::parse(&r.to_text()).unwrap(), r);
        assert!(Ratchet::parse("select1.test.gz many\n").is_err());
        assert!(Ratchet::parse("12\n").is_err());
    }

    #[test]
    fn only_decreases_are_regressions_and_raise_never_lowers() {
        let mut r = Ratchet::parse("a 10\nb 5\n").unwrap();
        let results = [("a", 9), ("b", 6), ("c", 1)];
        assert_eq!(
            r.regressions(results),
            vec![Regression {
                key: "a".into(),
                was: 10,
                now: 9
            }]
        );
        r.raise(results);
        assert_eq!(r.get("a"), Some(10));
        assert_eq!(r.get("b"), Some(6));
        assert_eq!(r.get("c"), Some(1));
    }
}
