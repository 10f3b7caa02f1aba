//! Whether the configured model exists: the provider's model list is read at start-up (and by
//! `powerpulse analyze --check`), so a wrong id is reported before a job fails on it.

pub use powerpulse_shared::wire::ModelCheck;

/// The verdict for `model` given the ids the provider lists.
pub fn verdict(service: &str, model: &str, listed: &[String]) -> ModelCheck {
    if listed.iter().any(|id| id == model) {
        return ModelCheck::Found;
    }
    let closest = closest(model, listed, 3);
    let message = format!(
        "{service} does not list the model {model:?} (set {}_MODEL); closest: {}",
        service.to_uppercase(),
        if closest.is_empty() {
            "none".to_owned()
        } else {
            closest.join(", ")
        }
    );
    ModelCheck::Missing { message, closest }
}

/// The `n` ids nearest to `model` by edit distance (ties by name).
fn closest(model: &str, ids: &[String], n: usize) -> Vec<String> {
    let mut ranked: Vec<(usize, &String)> = ids
        .iter()
        .map(|id| (edit_distance(model, id), id))
        .collect();
    ranked.sort();
    ranked
        .into_iter()
        .take(n)
        .map(|(_, id)| id.clone())
        .collect()
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_id_names_the_closest_real_ones() {
        let listed: Vec<String> = [
            "gemini-3.5-flash-lite",
            "gemini-3.1-flash-lite",
            "gemini-3.8-flash",
            "text-embedding-004",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            verdict("gemini", "gemini-3.5-flash-lite", &listed),
            ModelCheck::Found
        );
        let ModelCheck::Missing { message, closest } =
            verdict("gemini", "gemini-3-flash-lite", &listed)
        else {
            panic!("missing")
        };
        assert_eq!(
            closest[..2],
            ["gemini-3.1-flash-lite", "gemini-3.5-flash-lite"]
        );
        assert!(
            message.contains("\"gemini-3-flash-lite\"") && message.contains("GEMINI_MODEL"),
            "{message}"
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
