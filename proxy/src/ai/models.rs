//! What PowerPulse knows of the providers' models, checked on 2026-12-01 against their model,
//! pricing and deprecation pages: list prices, and the request parameters each family takes.

/// List prices (USD per million input and output tokens, thinking billed as output) of the
/// models PowerPulse names. Batch and flex tiers cost half of these.
const PRICES: [(&str, f64, f64); 4] = [
    ("gemini-3.5-flash-lite", 0.30, 2.50),
    ("gemini-3.1-flash-lite", 0.25, 1.50),
    // Gemini 3.8 Flash's launch price, through 2026-12-31 (1.50 / 7.50 from 2027).
    ("gemini-3.8-flash", 0.75, 3.75),
    ("gpt-6-luna", 0.10, 0.50),
];

/// The list price of `model` (input, output per million tokens), if PowerPulse knows it.
pub fn list_price(model: &str) -> Option<(f64, f64)> {
    PRICES
        .iter()
        .find(|(m, _, _)| *m == model)
        .map(|&(_, i, o)| (i, o))
}

/// The thinking level a Gemini model is asked for: the cheapest its family accepts. Flash-Lite
/// and Gemini 3.5/3.6 Flash take `minimal` (Google: ideal for classification and JSON
/// extraction); 3.7 and 3.8 Flash refuse it (400) and take `low`; Gemini 2 models have no
/// levels (none sent).
pub fn gemini_thinking_level(model: &str) -> Option<&'static str> {
    let family = model.strip_prefix("models/").unwrap_or(model);
    if !family.starts_with("gemini-3") {
        return None;
    }
    let minimal = family.contains("flash-lite")
        || family.starts_with("gemini-3.5-flash")
        || family.starts_with("gemini-3.6-flash");
    Some(if minimal { "minimal" } else { "low" })
}

/// The reasoning effort an OpenAI model is asked for, when it is a reasoning model (GPT-5 and
/// GPT-6 families, o-series): `low`, which OpenAI recommends for extraction and classification
/// (their default, medium, is slower and billed for more reasoning tokens). Other models
/// refuse the parameter, so none is sent.
pub fn openai_reasoning_effort(model: &str) -> Option<&'static str> {
    let reasoning = model.starts_with("gpt-5")
        || model.starts_with("gpt-6")
        || (model.starts_with('o') && model[1..].starts_with(|c: char| c.is_ascii_digit()));
    reasoning.then_some("low")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(
            gemini_thinking_level("gemini-3.5-flash-lite"),
            Some("minimal")
        );
        assert_eq!(gemini_thinking_level("gemini-3.8-flash"), Some("low"));
        assert_eq!(gemini_thinking_level("gemini-2.5-flash"), None);
        assert_eq!(openai_reasoning_effort("gpt-6-luna"), Some("low"));
        assert_eq!(openai_reasoning_effort("o4-mini"), Some("low"));
        assert_eq!(openai_reasoning_effort("gpt-4.1-mini"), None);
        assert_eq!(list_price("gpt-6-luna"), Some((0.10, 0.50)));
        assert_eq!(list_price("no-such-model"), None);
    }
}
