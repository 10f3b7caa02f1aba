//! How often the built-in analyzer agrees with what the generator meant each chat to be (happy,
//! fixed in silence, complaint only logged, still failing, angry, unanswered, greetings only),
//! following the rubric of the metric definitions. Generated chats are cleaner than real ones, so
//! this checks the rules, not real-world accuracy.

use std::collections::BTreeMap;

use powerpulse_shared::synth::{generate_labeled, Label, SynthOptions};
use powerpulse_shared::{process, Options};

/// What the rubric says for each scripted ending: satisfaction and FCR.
fn expected(l: &Label) -> (Vec<u8>, Option<bool>) {
    if l.came_back {
        // Back days later, still failing, then fixed: silence after a fix; not first contact.
        return (vec![4], Some(false));
    }
    // Not solved: reported repeated failures make it a 1, chasing a 2.
    let unsolved = |calm: Vec<u8>| {
        if l.repeated {
            vec![1]
        } else if l.chased {
            vec![2]
        } else {
            calm
        }
    };
    match l.outcome {
        "happy" => (vec![5], Some(true)),
        "silent_fix" => (vec![4], Some(true)),
        "logged" => (unsolved(vec![3]), Some(false)),
        "still" => (unsolved(vec![2]), Some(false)),
        "angry" => (vec![1], Some(false)),
        "unanswered" => (unsolved(vec![2, 3]), Some(false)),
        _ => (vec![3], None),
    }
}

#[test]
fn the_builtin_analyzer_follows_the_rubric_on_generated_chats() {
    let (bytes, labels) = generate_labeled(&SynthOptions {
        conversations: 3000,
        seed: 99,
        broken_rate: 0.0,
        ..Default::default()
    });
    let d = process(&bytes, &Options::default()).unwrap();
    let by_id: BTreeMap<&str, _> = d
        .conversations
        .iter()
        .map(|c| (c.summary.chat_id.as_str(), &c.summary.analysis))
        .collect();
    let chats: BTreeMap<&str, _> = d
        .conversations
        .iter()
        .map(|c| (c.summary.chat_id.as_str(), &c.messages))
        .collect();
    let customers: BTreeMap<&str, u32> = d
        .conversations
        .iter()
        .map(|c| (c.summary.chat_id.as_str(), c.summary.customer_messages))
        .collect();
    let mut per_outcome: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let (mut n, mut sat_ok, mut fcr_ok) = (0, 0, 0);
    for l in &labels {
        let Some(a) = by_id.get(l.chat_id.as_str()) else {
            continue;
        };
        let (scores, fcr) = if customers.get(l.chat_id.as_str()) == Some(&0) {
            // Only an autoresponse and perhaps an agent's hello: nothing to judge.
            (Vec::new(), None)
        } else {
            expected(l)
        };
        let s_ok = match a.satisfaction_score {
            Some(s) => scores.contains(&s),
            None => scores.is_empty(),
        };
        if std::env::var_os("SHOW_MISSES").is_some() && !(s_ok && a.first_contact_resolution == fcr)
        {
            eprintln!(
                "{} {}{}: got {:?}/{:?}, expected {:?}/{:?}",
                l.chat_id,
                l.outcome,
                if l.came_back { " (came back)" } else { "" },
                a.satisfaction_score,
                a.first_contact_resolution,
                scores,
                fcr
            );
            for m in chats[l.chat_id.as_str()].iter() {
                eprintln!(
                    "    {:?} s={:?} seg={} {}",
                    m.role, m.sentiment, m.segment, m.text
                );
            }
        }
        let f_ok = a.first_contact_resolution == fcr;
        n += 1;
        sat_ok += usize::from(s_ok);
        fcr_ok += usize::from(f_ok);
        let e = per_outcome.entry(l.outcome).or_default();
        e.0 += 1;
        e.1 += usize::from(s_ok);
        e.2 += usize::from(f_ok);
    }
    let report: Vec<String> = per_outcome
        .iter()
        .map(|(o, (t, s, f))| {
            format!(
                "{o}: satisfaction {:.0}%, FCR {:.0}% of {t}",
                *s as f64 * 100.0 / *t as f64,
                *f as f64 * 100.0 / *t as f64
            )
        })
        .collect();
    let sat = sat_ok as f64 / n as f64;
    let fcr = fcr_ok as f64 / n as f64;
    eprintln!(
        "agreement over {n}: satisfaction {:.1}%, FCR {:.1}%\n{}",
        sat * 100.0,
        fcr * 100.0,
        report.join("\n")
    );
    assert!(
        sat >= 0.95,
        "satisfaction agrees in {:.1}%:\n{}",
        sat * 100.0,
        report.join("\n")
    );
    assert!(
        fcr >= 0.95,
        "FCR agrees in {:.1}%:\n{}",
        fcr * 100.0,
        report.join("\n")
    );
}
