//! Generates a compact time-zone table from the IANA database (through chrono-tz, at build
//! time only): for every zone, its UTC offset changes from 1970 to 2100. The browser bundle
//! then carries a few tens of kilobytes instead of chrono-tz's full history, and the native and
//! wasm32 builds use the very same table.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{Offset, TimeZone};

const START: i64 = 0; // 1970-01-01
const END: i64 = 4_102_444_800; // 2100-01-01
const DAY: i64 = 86_400;

fn offset(tz: chrono_tz::Tz, t: i64) -> i32 {
    let dt = chrono::DateTime::from_timestamp(t, 0)
        .expect("in range")
        .naive_utc();
    tz.offset_from_utc_datetime(&dt).fix().local_minus_utc()
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut names: Vec<(&'static str, chrono_tz::Tz)> = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (tz.name(), *tz))
        .collect();
    names.sort_by_key(|(n, _)| *n);
    let mut spans: Vec<(usize, usize, i32)> = Vec::new();
    let mut transitions: Vec<(u32, i32)> = Vec::new();
    let mut seen: HashMap<(i32, Vec<(u32, i32)>), usize> = HashMap::new();
    let mut zone_span = Vec::new();
    for (_, tz) in &names {
        let initial = offset(*tz, START);
        let mut list = Vec::new();
        let mut cur = initial;
        let mut day = START;
        while day < END {
            let next = offset(*tz, day + DAY);
            if next != cur {
                // The first second of the day with the new offset.
                let (mut lo, mut hi) = (day, day + DAY);
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2;
                    if offset(*tz, mid) == cur {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                let new = offset(*tz, hi);
                list.push((hi as u32, new));
                cur = new;
                // A second change within the same day (never seen since 1970, but cheap to catch).
                if offset(*tz, day + DAY) != cur {
                    continue;
                }
            }
            day += DAY;
        }
        let key = (initial, list);
        let idx = *seen.entry(key.clone()).or_insert_with(|| {
            spans.push((transitions.len(), key.1.len(), initial));
            transitions.extend_from_slice(&key.1);
            spans.len() - 1
        });
        zone_span.push(idx);
    }
    // Compact encoding, decoded once per zone at run time: offsets go to a small table; each
    // history is [initial offset index, count (varint), then per transition: seconds since the
    // previous one (varint) and the new offset's index].
    let mut offsets: Vec<i32> = Vec::new();
    let index_of = |o: i32, offsets: &mut Vec<i32>| -> u8 {
        match offsets.iter().position(|x| *x == o) {
            Some(i) => i as u8,
            None => {
                offsets.push(o);
                assert!(offsets.len() < 256, "too many distinct offsets");
                (offsets.len() - 1) as u8
            }
        }
    };
    let varint = |mut v: u64, out: &mut Vec<u8>| loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    };
    let mut blob: Vec<u8> = Vec::new();
    let mut span_at: Vec<u32> = Vec::new();
    for (start, count, initial) in &spans {
        span_at.push(blob.len() as u32);
        let i = index_of(*initial, &mut offsets);
        blob.push(i);
        varint(*count as u64, &mut blob);
        let mut prev = 0u64;
        for (t, o) in &transitions[*start..start + count] {
            varint(u64::from(*t) - prev, &mut blob);
            prev = u64::from(*t);
            let i = index_of(*o, &mut offsets);
            blob.push(i);
        }
    }
    let mut out = String::new();
    writeln!(
        out,
        "/// Zone names, sorted.\npub static NAMES: [&str; {}] = [",
        names.len()
    )
    .unwrap();
    for (n, _) in &names {
        writeln!(out, "    {n:?},").unwrap();
    }
    writeln!(
        out,
        "];\n/// Per zone, its history.\npub static ZONE_SPAN: [u16; {}] = {:?};",
        zone_span.len(),
        zone_span
    )
    .unwrap();
    writeln!(
        out,
        "/// Distinct histories.\npub const SPAN_COUNT: usize = {};",
        span_at.len()
    )
    .unwrap();
    writeln!(
        out,
        "/// Where each history starts in BLOB.\npub static SPAN_AT: [u32; {}] = {:?};",
        span_at.len(),
        span_at
    )
    .unwrap();
    writeln!(
        out,
        "/// Offsets (seconds) by index.\npub static OFFSETS: [i32; {}] = {:?};",
        offsets.len(),
        offsets
    )
    .unwrap();
    write!(
        out,
        "/// The encoded histories.\npub static BLOB: &[u8] = b\""
    )
    .unwrap();
    for b in &blob {
        write!(out, "\\x{b:02x}").unwrap();
    }
    writeln!(out, "\";").unwrap();
    let utc = names
        .iter()
        .position(|(n, _)| *n == "UTC")
        .expect("UTC is a zone");
    writeln!(out, "/// Index of UTC.\npub const UTC_INDEX: u16 = {utc};").unwrap();
    let path = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("tzdata.rs");
    std::fs::write(path, out).expect("write tzdata.rs");
}
