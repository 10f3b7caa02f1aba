#!/usr/bin/env python3
"""Regenerates shared/tests/data/vader_reference.tsv: sentences and the compound score that the
reference implementation (pip install vaderSentiment==3.3.2) gives them. Not run by the tests;
the tests compare PowerPulse's port against the committed file.

    python3 scripts/vader_reference.py > shared/tests/data/vader_reference.tsv
"""
import random

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

FIXED = [
    "VADER is smart, handsome, and funny.",
    "VADER is VERY SMART, uber handsome, and FRIGGIN FUNNY!!!",
    "The plot was good, but the characters are uncompelling and the dialog is not great.",
    "Today only kinda sux! But I'll get by, lol",
    "Catch utf-8 emoji such as 💘 and 💋 and 😁",
    "Not bad at all",
    "At least it isn't a horrible book.",
    "It was the bomb, to die for",
    "yeah right, as if that helps",
    "the kiss of death for this service",
    "I waited at the bus stop, sad",
    "Without doubt the best service",
    "never so happy",
    "no problem at all, thanks",
    "Nothing good about this. Not even a little.",
    "The agent was not very helpful but the token arrived",
    "I'm not sure it is fixed??",
    "WHY IS THERE NO POWER???",
    "Thank you so much :) :D",
    "This is sort of okay, kind of slow",
    "hakuna stima tangu jana, asante",
]

WORDS_POS = ["good", "great", "happy", "thanks", "love", "excellent", "nice", "helpful", "fine",
             "ok", "okay", "perfect", "awesome", "glad", "fixed", "resolved", "fast", "kind", "lol", ":)", "😁", "❤"]
WORDS_NEG = ["bad", "terrible", "angry", "useless", "slow", "hate", "worst", "problem", "disappointed",
             "frustrated", "poor", "rude", "stuck", "delay", "fraud", ":(", "😠", "broken", "sux"]
NEUTRAL = ["the", "power", "token", "meter", "my", "is", "was", "service", "agent", "today", "it",
           "account", "number", "since", "morning", "and", "or", "nor", "this", "so", "at", "of",
           "kind", "sort", "just", "enough", "least", "very", "doubt", "without", "never", "no",
           "stima", "sana", "hakuna", "asante"]
MODS = ["very", "extremely", "really", "kind of", "sort of", "barely", "so", "totally", "NOT",
        "not", "don't", "isn't", "never", "no", "at least", "least", "without", "hardly", "VERY", "but"]
PUNCT = ["", "", "", "!", "!!", "!!!!!", "?", "??", "????", ".", "..."]


def sentence(rng):
    n = rng.randint(1, 14)
    words = []
    for _ in range(n):
        r = rng.random()
        if r < 0.2:
            w = rng.choice(WORDS_POS)
        elif r < 0.4:
            w = rng.choice(WORDS_NEG)
        elif r < 0.6:
            w = rng.choice(MODS)
        else:
            w = rng.choice(NEUTRAL)
        if rng.random() < 0.1:
            w = w.upper()
        if rng.random() < 0.1:
            w = w + rng.choice([",", ".", "!", "?"])
        words.append(w)
    return " ".join(words) + rng.choice(PUNCT)


def main():
    rng = random.Random(20261124)
    a = SentimentIntensityAnalyzer()
    seen = set()
    rows = []
    for s in FIXED + [sentence(rng) for _ in range(1500)]:
        if s in seen or "\t" in s or "\n" in s:
            continue
        seen.add(s)
        rows.append((s, a.polarity_scores(s)["compound"]))
    for s, c in rows:
        print(f"{s}\t{c}")


if __name__ == "__main__":
    main()
