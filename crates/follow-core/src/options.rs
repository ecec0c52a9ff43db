//! A follow's options (Mastodon's): show reblogs, notify on new posts, and
//! the languages to show.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// The ISO 639-1 codes, sorted: a code's index is its bit in [`Languages`].
const ISO_639_1: [&str; 184] = [
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// A set of ISO 639-1 language codes; empty means every language.
///
/// A bit set over the codes, so it is `Copy`, 32 bytes, and compares and
/// hashes without allocating.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Languages([u64; 3]);

impl Languages {
    /// Every language: no filter.
    pub const ALL: Languages = Languages([0; 3]);

    /// The set of `codes`, each an ISO 639-1 code in lower case.
    ///
    /// # Errors
    /// `invalid_argument` (field `languages`) naming the first code that is
    /// not one.
    pub fn parse<'a>(codes: impl IntoIterator<Item = &'a str>) -> Result<Self, Error> {
        let mut set = Languages::ALL;
        for code in codes {
            let index = ISO_639_1.binary_search(&code).map_err(|_| {
                Error::invalid_argument(
                    "languages",
                    format!("{code:?} is not an ISO 639-1 language code"),
                )
            })?;
            set.0[index / 64] |= 1 << (index % 64);
        }
        Ok(set)
    }

    /// Whether this is every language (no filter).
    pub fn is_all(&self) -> bool {
        *self == Languages::ALL
    }

    /// The codes, in alphabetical order.
    pub fn codes(&self) -> impl Iterator<Item = &'static str> + '_ {
        ISO_639_1
            .iter()
            .enumerate()
            .filter(|(index, _)| self.0[index / 64] & (1 << (index % 64)) != 0)
            .map(|(_, code)| *code)
    }

    /// Whether a post in `code` passes the filter.
    pub fn shows(&self, code: &str) -> bool {
        self.is_all() || self.codes().any(|shown| shown == code)
    }
}

impl fmt::Debug for Languages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.codes()).finish()
    }
}

impl Serialize for Languages {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.codes())
    }
}

impl<'de> Deserialize<'de> for Languages {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let codes = Vec::<String>::deserialize(deserializer)?;
        Languages::parse(codes.iter().map(String::as_str)).map_err(serde::de::Error::custom)
    }
}

/// How a follower receives a followed account's posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FollowOptions {
    /// Show the target's reblogs (boosts) in the home feed.
    pub reblogs: bool,
    /// Notify the follower of each new post.
    pub notify: bool,
    /// Show only posts in these languages; empty shows all.
    pub languages: Languages,
}

impl Default for FollowOptions {
    /// Mastodon's defaults: reblogs shown, no notification, every language.
    fn default() -> Self {
        FollowOptions {
            reblogs: true,
            notify: false,
            languages: Languages::ALL,
        }
    }
}

impl FollowOptions {
    /// The stored form: `None` for the defaults (most follows), else
    /// `reblogs=<0|1>;notify=<0|1>;languages=<codes, comma-separated>`.
    pub fn encode(&self) -> Option<String> {
        if *self == FollowOptions::default() {
            return None;
        }
        let languages: Vec<&str> = self.languages.codes().collect();
        Some(format!(
            "reblogs={};notify={};languages={}",
            u8::from(self.reblogs),
            u8::from(self.notify),
            languages.join(",")
        ))
    }

    /// Reads the stored form back; `None` is the defaults.
    ///
    /// # Errors
    /// `internal` for a value [`Self::encode`] does not write: a stored
    /// value that does not decode.
    pub fn decode(stored: Option<&str>) -> Result<Self, Error> {
        let Some(text) = stored else {
            return Ok(FollowOptions::default());
        };
        let bad = || Error::internal(format!("stored follow options {text:?} do not decode"));
        let flag = |value: Option<&str>, key: &str| match value.and_then(|v| v.strip_prefix(key)) {
            Some("0") => Ok(false),
            Some("1") => Ok(true),
            _ => Err(bad()),
        };
        let mut parts = text.split(';');
        let reblogs = flag(parts.next(), "reblogs=")?;
        let notify = flag(parts.next(), "notify=")?;
        let codes = parts
            .next()
            .and_then(|v| v.strip_prefix("languages="))
            .ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        let languages = if codes.is_empty() {
            Languages::ALL
        } else {
            Languages::parse(codes.split(',')).map_err(|_| bad())?
        };
        Ok(FollowOptions {
            reblogs,
            notify,
            languages,
        })
    }
}

/// The options a follow names; each one left out keeps its current value
/// (or its default, for a new follow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct OptionsUpdate {
    /// Show reblogs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reblogs: Option<bool>,
    /// Notify of new posts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
    /// Languages shown; an empty set shows all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Languages>,
}

impl OptionsUpdate {
    /// No option named: a plain follow.
    pub const NONE: OptionsUpdate = OptionsUpdate {
        reblogs: None,
        notify: None,
        languages: None,
    };

    /// `current` with the options this update names.
    pub fn apply(&self, current: FollowOptions) -> FollowOptions {
        FollowOptions {
            reblogs: self.reblogs.unwrap_or(current.reblogs),
            notify: self.notify.unwrap_or(current.notify),
            languages: self.languages.unwrap_or(current.languages),
        }
    }
}

impl From<FollowOptions> for OptionsUpdate {
    /// An update that names every option: the options become `options`.
    fn from(options: FollowOptions) -> Self {
        OptionsUpdate {
            reblogs: Some(options.reblogs),
            notify: Some(options.notify),
            languages: Some(options.languages),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_are_sorted_and_unique_so_the_bits_are_stable() {
        assert!(ISO_639_1.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(ISO_639_1.len() <= 3 * 64);
        assert!(ISO_639_1.iter().all(|code| code.len() == 2));
    }

    #[test]
    fn languages_parse_only_iso_639_1_and_read_back_sorted() {
        let set = Languages::parse(["fr", "en", "zu", "aa"]).unwrap();
        assert_eq!(set.codes().collect::<Vec<_>>(), ["aa", "en", "fr", "zu"]);
        assert!(set.shows("fr") && !set.shows("de"));
        assert!(Languages::ALL.shows("de"));
        for bad in ["EN", "eng", "", "xx", "e"] {
            let error = Languages::parse([bad]).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn options_round_trip_through_the_stored_form() {
        assert_eq!(FollowOptions::default().encode(), None);
        assert_eq!(
            FollowOptions::decode(None).unwrap(),
            FollowOptions::default()
        );
        let options = FollowOptions {
            reblogs: false,
            notify: true,
            languages: Languages::parse(["de", "en"]).unwrap(),
        };
        let stored = options.encode().unwrap();
        assert_eq!(stored, "reblogs=0;notify=1;languages=de,en");
        assert_eq!(FollowOptions::decode(Some(&stored)).unwrap(), options);
        let only_notify = FollowOptions {
            notify: true,
            ..FollowOptions::default()
        };
        let stored = only_notify.encode().unwrap();
        assert_eq!(FollowOptions::decode(Some(&stored)).unwrap(), only_notify);
        for bad in [
            "",
            "reblogs=2;notify=0;languages=",
            "reblogs=1;notify=0",
            "reblogs=1;notify=0;languages=xx",
            "reblogs=1;notify=0;languages=;x",
            "notify=0;reblogs=1;languages=",
        ] {
            let error = FollowOptions::decode(Some(bad)).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::Internal, "{bad}");
        }
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let current = FollowOptions {
            reblogs: false,
            notify: true,
            languages: Languages::parse(["en"]).unwrap(),
        };
        assert_eq!(OptionsUpdate::NONE.apply(current), current);
        let update = OptionsUpdate {
            notify: Some(false),
            ..OptionsUpdate::NONE
        };
        assert_eq!(
            update.apply(current),
            FollowOptions {
                notify: false,
                ..current
            }
        );
        let all = OptionsUpdate {
            languages: Some(Languages::ALL),
            ..OptionsUpdate::NONE
        };
        assert!(all.apply(current).languages.is_all());
    }
}
