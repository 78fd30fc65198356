//! A memory budget checked before a JSON chapters document is turned into a `serde_json`
//! tree. The tree costs tens of bytes per value, so a 16 MiB file of `{}` objects used to
//! take 387 MB; this pass walks the document without keeping anything and refuses one with
//! more chapters than we read, or more values than its chapters can explain.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Values allowed per chapter (its fields, a `location` object, …) plus a fixed allowance
/// for the top level, before a document is considered padding rather than chapters.
pub(crate) const VALUES_PER_CHAPTER: u64 = 64;
const BASE_VALUES: u64 = 4096;

/// What the pass found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Count {
    /// Elements of the top-level `chapters` array (when it is one).
    pub chapters: u64,
    /// Every JSON value in the document.
    pub values: u64,
}

impl Count {
    /// Whether building the tree stays proportional to the chapters it holds.
    pub(crate) fn within_budget(&self) -> bool {
        self.values <= BASE_VALUES.saturating_add(self.chapters.saturating_mul(VALUES_PER_CHAPTER))
    }
}

/// Counts the document's values and chapters without allocating per value (`None` when it
/// is not valid JSON; the real parse then reports where).
pub(crate) fn count(body: &str) -> Option<Count> {
    let mut de = serde_json::Deserializer::from_str(body);
    let mut c = Count::default();
    Counter {
        count: &mut c,
        place: Place::Root,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    Some(c)
}

/// Where a value sits, for what it counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The document itself (its `chapters` key is the list).
    Root,
    /// The value of the top-level `chapters` key (its elements are chapters).
    Chapters,
    /// Anywhere else.
    Inside,
}

struct Counter<'a> {
    count: &'a mut Count,
    place: Place,
}

impl Counter<'_> {
    fn scalar<E>(self) -> Result<(), E> {
        self.count.values += 1;
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Counter<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counter<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any json value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.scalar()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.count.values += 1;
        let chapters = self.place == Place::Chapters;
        loop {
            let seed = Counter {
                count: &mut *self.count,
                place: Place::Inside,
            };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            if chapters {
                self.count.chapters += 1;
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.count.values += 1;
        while let Some(key) = map.next_key::<KeyIsChapters>()? {
            // Keys count too: a map of a million keys is a million values of memory.
            self.count.values += 1;
            let place = if self.place == Place::Root && key.0 {
                Place::Chapters
            } else {
                Place::Inside
            };
            map.next_value_seed(Counter {
                count: &mut *self.count,
                place,
            })?;
        }
        Ok(())
    }
}

/// A map key, remembered only as "is it `chapters`" (no allocation for other keys).
struct KeyIsChapters(bool);

impl<'de> serde::Deserialize<'de> for KeyIsChapters {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyIsChapters;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, s: &str) -> Result<KeyIsChapters, E> {
                Ok(KeyIsChapters(s == "chapters"))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_chapters_and_values() {
        let c = count(
            r#"{"version":"1.2.0","chapters":[{"startTime":0},{"startTime":1,"title":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(c.chapters, 2);
        // root, "1.2.0", array, 2 objects, 3 field values; plus 5 keys.
        assert_eq!(c.values, 1 + 1 + 1 + 2 + 3 + 5);
        assert!(c.within_budget());
    }

    #[test]
    fn padding_is_over_budget() {
        let junk = vec!["1"; 10_000].join(",");
        let c = count(&format!(
            r#"{{"chapters":[{{"startTime":0,"junk":[{junk}]}}]}}"#
        ))
        .unwrap();
        assert_eq!(c.chapters, 1);
        assert!(!c.within_budget());
        assert!(count("{").is_none());
    }
}
