//! Time zones from a compact table generated at build time from the IANA database (see
//! `build.rs`): each zone's UTC offset changes from 1970 to 2100. Before 1970 a zone keeps its
//! 1970 offset; after 2100, its last one.

use std::fmt;
use std::sync::OnceLock;

mod data {
    include!(concat!(env!("OUT_DIR"), "/tzdata.rs"));
}

/// An IANA time zone (`Africa/Nairobi`), cheap to copy.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tz(u16);

impl fmt::Debug for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tz({})", self.name())
    }
}

impl fmt::Display for Tz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Default for Tz {
    fn default() -> Self {
        Tz::UTC
    }
}

impl Tz {
    /// Coordinated Universal Time.
    pub const UTC: Tz = Tz(data::UTC_INDEX);

    /// The zone's IANA name.
    pub fn name(self) -> &'static str {
        data::NAMES[self.0 as usize]
    }

    /// The zone of an IANA name (exact, else ignoring ASCII case).
    pub fn from_name(name: &str) -> Option<Tz> {
        if let Ok(i) = data::NAMES.binary_search(&name) {
            return Some(Tz(i as u16));
        }
        data::NAMES
            .iter()
            .position(|n| n.eq_ignore_ascii_case(name))
            .map(|i| Tz(i as u16))
    }

    /// Every zone, by name.
    pub fn all() -> impl Iterator<Item = Tz> {
        (0..data::NAMES.len() as u16).map(Tz)
    }

    /// The offset from UTC (seconds, east positive) in force at `utc_secs`.
    pub fn offset_at(self, utc_secs: i64) -> i32 {
        let h = history(data::ZONE_SPAN[self.0 as usize] as usize);
        let t = utc_secs.clamp(0, u32::MAX as i64) as u32;
        match h.transitions.partition_point(|(at, _)| *at <= t) {
            0 => h.initial,
            i => h.transitions[i - 1].1,
        }
    }

    /// The earliest UTC instant (seconds) whose local time is `local_secs`; in a gap (a local
    /// time that does not exist), the first instant after it.
    pub fn local_to_utc(self, local_secs: i64) -> i64 {
        // The offsets in force around that local time are the only candidates.
        let mut candidates = [
            self.offset_at(local_secs - 86_400),
            self.offset_at(local_secs + 86_400),
        ];
        candidates.sort_unstable_by(|a, b| b.cmp(a));
        let valid = candidates
            .iter()
            .map(|off| local_secs - i64::from(*off))
            .filter(|utc| i64::from(self.offset_at(*utc)) == local_secs - utc)
            .min();
        match valid {
            Some(utc) => utc,
            None => {
                // A gap: the clock jumped over this local time; the day starts where it lands.
                let before = local_secs - i64::from(candidates[1]);
                let after_offset = i64::from(self.offset_at(before));
                let jump_end = before - (local_secs - before - after_offset).max(0);
                (jump_end..=before)
                    .find(|u| self.offset_at(*u) == self.offset_at(before))
                    .unwrap_or(before)
            }
        }
    }
}

/// One decoded history: the offset before the first change, then (instant, new offset).
struct History {
    initial: i32,
    transitions: Vec<(u32, i32)>,
}

static HISTORIES: [OnceLock<History>; data::SPAN_COUNT] =
    [const { OnceLock::new() }; data::SPAN_COUNT];

fn history(span: usize) -> &'static History {
    HISTORIES[span].get_or_init(|| {
        let mut b = &data::BLOB[data::SPAN_AT[span] as usize..];
        let mut byte = || {
            let (first, rest) = b.split_first().expect("the generated table is well formed");
            b = rest;
            *first
        };
        let initial = data::OFFSETS[byte() as usize];
        let varint = |byte: &mut dyn FnMut() -> u8| {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let x = byte();
                v |= u64::from(x & 0x7f) << shift;
                if x < 0x80 {
                    return v;
                }
                shift += 7;
            }
        };
        let count = varint(&mut byte) as usize;
        let mut transitions = Vec::with_capacity(count);
        let mut at = 0u64;
        for _ in 0..count {
            at += varint(&mut byte);
            let offset = data::OFFSETS[byte() as usize];
            transitions.push((at as u32, offset));
        }
        History {
            initial,
            transitions,
        }
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use chrono::{Offset, TimeZone};

    use super::*;

    #[test]
    fn offsets_equal_the_iana_database_from_1970_to_2100() {
        // Pseudo-random instants over the range, for every zone.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for tz in chrono_tz::TZ_VARIANTS {
            let ours = Tz::from_name(tz.name()).expect("every zone is in the table");
            assert_eq!(ours.name(), tz.name());
            for _ in 0..200 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let t = (x >> 20) as i64 % 4_102_444_800;
                let dt = chrono::DateTime::from_timestamp(t, 0).unwrap().naive_utc();
                let theirs = tz.offset_from_utc_datetime(&dt).fix().local_minus_utc();
                assert_eq!(ours.offset_at(t), theirs, "{} at {t}", tz.name());
            }
        }
    }

    #[test]
    fn local_midnight_including_dst_gaps() {
        let santiago = Tz::from_name("America/Santiago").unwrap();
        // 2024-09-08: clocks jump from 00:00 to 01:00 (UTC-4 -> UTC-3).
        let local = 1_725_753_600; // 2024-09-08T00:00 as if UTC
        let utc = santiago.local_to_utc(local);
        assert_eq!(
            utc,
            1_725_753_600 + 4 * 3600,
            "the day starts at 01:00 -03 = 04:00 UTC"
        );
        let nairobi = Tz::from_name("Africa/Nairobi").unwrap();
        assert_eq!(nairobi.local_to_utc(local), local - 3 * 3600);
        // Ambiguous (clocks going back): the earliest instant.
        let london = Tz::from_name("Europe/London").unwrap();
        let oct = 1_729_990_800; // 2024-10-27T01:00 local, which happens twice
        assert_eq!(london.local_to_utc(oct), oct - 3600);
        assert_eq!(Tz::from_name("africa/nairobi"), Some(nairobi));
        assert_eq!(Tz::from_name("Mars/Base"), None);
        assert_eq!(Tz::default(), Tz::UTC);
    }
}
