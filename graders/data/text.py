"""A small SST-2-like sentiment set, generated deterministically (no download).

Short movie-review sentences labelled 1 (positive) or 0 (negative). They are built so that
word counts alone do not settle the label: negation flips it ("the plot is not dull"), and
in "X but Y" the clause after "but" decides. A bag-of-words model therefore stalls well
below a model that reads the words in order.

    from graders.data.text import load_sentiment
    data = load_sentiment()                 # the fixed split every grader uses
    texts, labels = data["train"]           # 600 sentences, list[str] and list[int]
    test_texts, test_labels = data["test"]  # 300 others, no sentence shared with train

Texts are lower case, words separated by single spaces, no punctuation: `text.split()`
is a complete tokeniser. Every test word also occurs in the training set.
"""

from __future__ import annotations

import random

SUBJECTS = ["the movie", "this film", "the plot", "the acting", "the soundtrack", "the ending",
            "the cast", "the script", "the story", "the dialogue", "the camera work",
            "the lead actor", "the pacing", "the humour", "this sequel", "the finale"]
POSITIVE = ["good", "great", "wonderful", "brilliant", "charming", "moving", "delightful",
            "clever", "funny", "gripping", "beautiful", "superb", "fresh", "touching"]
NEGATIVE = ["bad", "boring", "dull", "awful", "terrible", "clumsy", "tedious", "bland", "messy",
            "weak", "predictable", "lifeless", "silly", "forgettable"]
ADVERBS = ["", "", "really", "very", "truly", "quite", "rather", "so"]
VERBS = ["is", "was", "seems", "felt"]
OPENERS = ["", "", "", "i thought", "honestly", "to be fair", "in the end", "overall"]

TRAIN_SIZE, TEST_SIZE, SEED = 600, 300, 45


def _clause(rng: random.Random) -> tuple[str, int]:
    """'<subject> <verb> [not] [adverb] <adjective>' and its polarity (1 positive)."""
    polarity = rng.randrange(2)
    adjective = rng.choice(POSITIVE if polarity else NEGATIVE)
    negated = rng.random() < 0.45
    words = [rng.choice(SUBJECTS), rng.choice(VERBS)]
    if negated:
        words.append(rng.choice(["not", "never"]))
    adverb = rng.choice(ADVERBS)
    if adverb:
        words.append(adverb)
    words.append(adjective)
    return " ".join(words), polarity ^ int(negated)


def sentence(rng: random.Random) -> tuple[str, int]:
    """One labelled sentence: a clause, or 'X but Y' whose label is Y's."""
    first, label = _clause(rng)
    if rng.random() < 0.35:
        second, label2 = _clause(rng)
        while label2 == label:  # "but" joins clauses of opposite sentiment
            second, label2 = _clause(rng)
        first, label = f"{first} but {second}", label2
    opener = rng.choice(OPENERS)
    return (f"{opener} {first}" if opener else first), label


def generate(n: int, seed: int, exclude: set[str] | frozenset[str] = frozenset()):
    """`n` distinct labelled sentences (none in `exclude`), from `seed`."""
    rng = random.Random(seed)
    texts, labels, seen = [], [], set(exclude)
    while len(texts) < n:
        text, label = sentence(rng)
        if text not in seen:
            seen.add(text)
            texts.append(text)
            labels.append(label)
    return texts, labels


def load_sentiment() -> dict[str, tuple[list[str], list[int]]]:
    """The fixed split: {'train': (600 texts, labels), 'test': (300 texts, labels)}."""
    train = generate(TRAIN_SIZE, SEED)
    test = generate(TEST_SIZE, SEED + 1, exclude=set(train[0]))
    vocab = {w for t in train[0] for w in t.split()}
    missing = {w for t in test[0] for w in t.split()} - vocab
    assert not missing, f"test words absent from train: {sorted(missing)}"
    return {"train": train, "test": test}
