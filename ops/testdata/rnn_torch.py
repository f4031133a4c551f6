# Writes rnn_torch.json: outputs and gradients of PyTorch's GRU, RNN and
# LSTM in the cases of ops/rnn_test.go's TestRNNMatchesPyTorch, with the
# weights in Keras' layouts. Run from ops/testdata:
#
#   /usr/bin/python3 rnn_torch.py
#
# The loss is sum(y * r) for a fixed random r. PyTorch's gate orders are
# GRU r, z, n and LSTM i, f, g, o; Keras' are GRU z, r, h and LSTM i, f,
# c, o. PyTorch's GRU is Keras' with reset_after (b_in is the input bias
# of h, b_hn its recurrent bias); PyTorch's RNN and LSTM have a second,
# recurrent bias, which is kept at 0 here (Keras has one).
import json

import torch

torch.manual_seed(7)
torch.set_default_dtype(torch.float64)
B, T, F, U = 2, 5, 3, 4


def keras_gate_order(kind):
    # for each Keras gate block, the PyTorch block holding it
    return {"gru": [1, 0, 2], "lstm": [0, 1, 2, 3], "simple_rnn": [0]}[kind]


def to_keras(w, kind):
    # PyTorch [G*U, n] -> Keras [n, G*U]
    blocks = w.reshape(len(keras_gate_order(kind)), U, -1)
    return torch.cat([blocks[k] for k in keras_gate_order(kind)], 0).T.contiguous()


def bias_to_keras(b, kind):
    blocks = b.reshape(len(keras_gate_order(kind)), U)
    return torch.cat([blocks[k] for k in keras_gate_order(kind)], 0)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1)]


def case(name, kind, return_sequences, go_backwards=False, bidirectional=False):
    cls = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM, "simple_rnn": torch.nn.RNN}[kind]
    net = cls(F, U, batch_first=True, bidirectional=bidirectional)
    with torch.no_grad():
        for n, p in net.named_parameters():
            p.uniform_(-0.6, 0.6)
            if kind != "gru" and n.startswith("bias_hh"):
                p.zero_()
    x = (torch.rand(B, T, F) * 2 - 1).requires_grad_()
    xin = x.flip(1) if go_backwards else x
    out = net(xin)
    seq, h = out[0], out[1][0] if kind == "lstm" else out[1]
    y = seq if return_sequences else torch.cat([h[d] for d in range(h.shape[0])], -1)
    r = torch.rand(*y.shape) * 2 - 1
    (y * r).sum().backward()
    variables = {}
    for d, scope in enumerate(["forward_%s/" % kind, "backward_%s/" % kind] if bidirectional else [""]):
        sfx = "_reverse" if d == 1 else ""
        p = {n: getattr(net, n + sfx) for n in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]}
        for value, grad in [(False, "value"), (True, "grad")]:
            get = (lambda t: t.grad) if value else (lambda t: t)
            kernel, recurrent = to_keras(get(p["weight_ih_l0"]), kind), to_keras(get(p["weight_hh_l0"]), kind)
            if kind == "gru":
                bias = torch.stack([bias_to_keras(get(p["bias_ih_l0"]), kind), bias_to_keras(get(p["bias_hh_l0"]), kind)])
            else:
                bias = bias_to_keras(get(p["bias_ih_l0"]), kind)
            for vn, v in [("kernel", kernel), ("recurrent_kernel", recurrent), ("bias", bias)]:
                variables.setdefault(scope + vn, {"dims": list(v.shape)})[grad] = flat(v)
    return {
        "name": name, "kind": kind, "units": U, "return_sequences": return_sequences,
        "go_backwards": go_backwards, "bidirectional": bidirectional,
        "dims": [B, T, F], "x": flat(x), "r": flat(r), "y": flat(y), "dx": flat(x.grad),
        "variables": variables,
    }


cases = [
    case("gru", "gru", False),
    case("gru_sequences", "gru", True),
    case("gru_backwards_sequences", "gru", True, go_backwards=True),
    case("simple_rnn", "simple_rnn", False),
    case("simple_rnn_backwards_sequences", "simple_rnn", True, go_backwards=True),
    case("lstm_backwards", "lstm", False, go_backwards=True),
    case("bidirectional_gru", "gru", False, bidirectional=True),
    case("bidirectional_lstm_sequences", "lstm", True, bidirectional=True),
]
with open("rnn_torch.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, indent=None, separators=(",", ":"))
    f.write("\n")
