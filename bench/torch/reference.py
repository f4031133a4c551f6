#!/usr/bin/env python3
"""PyTorch reference for `pipe bench`: the bench models in PyTorch, on this machine.

The same architectures, batch sizes, optimizer and thread count as pipe's
specs of the same name, on random inputs of the right shapes. `pipe bench`
runs it once with --info, then once per model and trial (a process of its
own, so that its peak RSS is its own). Each run prints one JSON object:

  reference.py --info [--threads N]
    {"torch": "1.13.0", "blas": "OpenBLAS 0.3.21 ...", "conv": "oneDNN v2.6.3",
     "flush_denormal": true, "threads": 2, "ceiling_gflops": 180.2,
     "models": ["mnist_cnn", ...]}
  reference.py MODEL --batch B [--threads N] [--steps N | --min-time S]
                     [--optimizer adam --lr 0.001]
    {"model": "mnist_cnn", "batch": 128, "steps": 40, "first_step_s": 0.05,
     "train_samples_per_s": 9000, "eval_samples_per_s": ..., "predict_samples_per_s": ...,
     "macs_per_sample": 1234, "params": 40124, "conv": ["mkldnn_convolution"], "peak_rss_mb": 250}

Training: one step (model creation and the first step: first_step_s), then
steps until --min-time has passed (at least --min-steps). Evaluation (loss)
and prediction: model.eval() under torch.no_grad(), one untimed call, then
timed the same way. Denormals are flushed (torch.set_flush_denormal(True),
called before the intra-op threads start, which inherit the mode); pipe's
recurrent layers flush their tiny gradients in the graph instead.

Needs PyTorch: `apt-get install -y python3-torch libopenblas0-pthread`
(Debian's CPU build; without OpenBLAS it runs on the reference BLAS, several
times slower), run with Debian's interpreter /usr/bin/python3. Exits with
status 3 and a line on stderr when torch cannot be imported.
"""
import argparse, ctypes, json, os, resource, sys, time

# OpenBLAS starts its own threads, one per core unless told: as many as
# --threads, set before the library loads.
for i, arg in enumerate(sys.argv):
    if arg == "--threads" and i + 1 < len(sys.argv):
        os.environ.setdefault("OPENBLAS_NUM_THREADS", sys.argv[i + 1])
    elif arg.startswith("--threads="):
        os.environ.setdefault("OPENBLAS_NUM_THREADS", arg.split("=", 1)[1])

try:
    import torch
    import torch.nn as nn
except ImportError as e:  # pipe bench says so and goes on without the reference
    print(f"no torch: {e}", file=sys.stderr)
    sys.exit(3)

FLUSH = torch.set_flush_denormal(True)  # before any intra-op thread exists


# ---- models, by pipe spec name -------------------------------------------

def seed_cnn(channels, side):
    # specs/mnist_cnn.yaml, specs/cifar10_cnn.yaml: Conv2D(3,5x5) relu,
    # Conv2D(3,5x5) relu, MaxPooling2D(2), Dropout(.25), Flatten,
    # Dense(128) relu, Dropout(.5), Dense(10) softmax.
    flat = 3 * ((side - 8) // 2) ** 2
    return nn.Sequential(
        nn.Conv2d(channels, 3, 5), nn.ReLU(), nn.Conv2d(3, 3, 5), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(flat, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))


def convnet():
    # specs/cifar10_convnet.yaml (Keras' example cifar10_cnn).
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
        nn.Linear(6 * 6 * 64, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10))


class Block(nn.Module):
    # specs/cifar10_resnet20.yaml's residual and downsample blocks (Keras'
    # resnet_layer: conv-BN-relu, conv-BN, add, relu; a 1x1 strided
    # projection where the shape changes).
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.b1 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.b2 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
        self.short = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
        return torch.relu(y + (self.short(x) if self.short is not None else x))


def resnet20():
    # Keras' cifar10_resnet ResNet-20 v1: stem conv 16, 3 stages of 3 blocks
    # (16, 32, 64 filters), average pool 8, dense 10 softmax; 274,442
    # parameters with BN's moving statistics.
    layers = [nn.Conv2d(3, 16, 3, 1, 1), nn.BatchNorm2d(16, eps=1e-3, momentum=0.01), nn.ReLU()]
    cin = 16
    for cout in (16, 32, 64):
        for i in range(3):
            layers.append(Block(cin, cout, 2 if i == 0 and cout != 16 else 1))
            cin = cout
    layers += [nn.AvgPool2d(8), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


class Recurrent(nn.Module):
    # specs/imdb_lstm.yaml: Embedding(5000, 32), Dropout(.2), LSTM(100),
    # Dropout(.2), Dense(1) sigmoid, 500 tokens; specs/imdb_gru.yaml:
    # GRU(100) without the dropouts; specs/imdb_bidirectional_lstm.yaml
    # (Keras' example): Embedding(20000, 128), Bidirectional(LSTM(64)),
    # Dropout(.5), 100 tokens.
    def __init__(self, cell, units, bidirectional=False, drop_in=0.0, drop_out=0.0, vocab=5000, dim=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.rnn = cell(dim, units, batch_first=True, bidirectional=bidirectional)
        self.drop_in, self.drop_out = nn.Dropout(drop_in), nn.Dropout(drop_out)
        self.out = nn.Linear(units * (2 if bidirectional else 1), 1)

    def forward(self, x):
        _, h = self.rnn(self.drop_in(self.emb(x)))
        h = h[0] if isinstance(h, tuple) else h     # LSTM: (h, c)
        h = torch.cat([h[-2], h[-1]], 1) if self.rnn.bidirectional else h[-1]
        return self.out(self.drop_out(h)).squeeze(1)


class Attention(nn.Module):
    # Keras' MultiHeadAttention: every head projects to key_dim (not
    # features / heads, as nn.MultiheadAttention does), then one output
    # projection back to the features.
    def __init__(self, dim, heads, key_dim):
        super().__init__()
        self.heads, self.key_dim = heads, key_dim
        self.q, self.k, self.v = (nn.Linear(dim, heads * key_dim) for _ in range(3))
        self.out = nn.Linear(heads * key_dim, dim)

    def forward(self, x):
        b, t, _ = x.shape
        split = lambda y: y.view(b, t, self.heads, self.key_dim).transpose(1, 2)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        w = torch.softmax(q @ k.transpose(2, 3) / self.key_dim ** 0.5, -1)
        return self.out((w @ v).transpose(1, 2).reshape(b, t, -1))


class Transformer(nn.Module):
    # specs/imdb_transformer.yaml (the keras.io example): token and
    # position embeddings (20000, 200, 32), one block (2 heads of 32,
    # dropout .1, residual, layer norm; feed-forward 32 relu, 32), average
    # pooling, dropout, dense 20 relu, dropout, dense 2.
    def __init__(self, vocab=20000, tokens=200, dim=32, heads=2, ff=32, rate=0.1):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, dim), nn.Embedding(tokens, dim)
        self.att = Attention(dim, heads, dim)
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.ffn = nn.Sequential(nn.Linear(dim, ff), nn.ReLU(), nn.Linear(ff, dim))
        self.drop = nn.Dropout(rate)
        self.head = nn.Sequential(nn.Dropout(rate), nn.Linear(dim, 20), nn.ReLU(), nn.Dropout(rate), nn.Linear(20, 2))

    def forward(self, x):
        h = self.tok(x) + self.pos(torch.arange(x.shape[1]))
        h = self.norm1(h + self.drop(self.att(h)))
        h = self.norm2(h + self.drop(self.ffn(h)))
        return self.head(h.mean(1))


def autorec(n):
    # specs/cf/movielense_[iu]_autorec.yaml: n -> 500 sigmoid -> n identity,
    # L2 0.001 on both kernels, squared error on the observed ratings.
    return nn.Sequential(nn.Linear(n, 500), nn.Sigmoid(), nn.Linear(500, n))


def classes(model, x, batch):
    return model, x, torch.randint(0, 10, (batch,)), nn.CrossEntropyLoss()


def text(model, batch, vocab=5000, tokens=500):
    return (model, torch.randint(0, vocab, (batch, tokens)),
            torch.randint(0, 2, (batch,)).float(), nn.BCEWithLogitsLoss())


def ratings(n, batch):
    model = autorec(n)
    x = torch.rand(batch, n) * 4 + 1
    mask = (torch.rand(batch, n) < 0.063).float()   # MovieLense's density

    def loss(pred, target):
        l2 = sum((m.weight ** 2).sum() for m in model if isinstance(m, nn.Linear))
        return ((pred - target) ** 2 * mask).sum() / mask.sum() + 0.001 * l2
    return model, x * mask, x * mask, loss


MODELS = {
    "mnist_cnn": lambda b: classes(seed_cnn(1, 28), torch.rand(b, 1, 28, 28), b),
    "cifar10_cnn": lambda b: classes(seed_cnn(3, 32), torch.rand(b, 3, 32, 32), b),
    "cifar10_convnet": lambda b: classes(convnet(), torch.rand(b, 3, 32, 32), b),
    "cifar10_resnet20": lambda b: classes(resnet20(), torch.rand(b, 3, 32, 32), b),
    "imdb_lstm": lambda b: text(Recurrent(nn.LSTM, 100, drop_in=0.2, drop_out=0.2), b),
    "imdb_gru": lambda b: text(Recurrent(nn.GRU, 100), b),
    "imdb_bidirectional_lstm": lambda b: text(Recurrent(nn.LSTM, 64, bidirectional=True, drop_out=0.5, vocab=20000, dim=128), b, 20000, 100),
    "imdb_transformer": lambda b: (Transformer(), torch.randint(0, 20000, (b, 200)),
                                   torch.randint(0, 2, (b,)), nn.CrossEntropyLoss()),
    "movielense_i_autorec": lambda b: ratings(943, b),
    "movielense_u_autorec": lambda b: ratings(1664, b),
}


def optimizer(name, lr, params):
    # Keras' defaults where they differ from PyTorch's.
    if name == "adam":
        return torch.optim.Adam(params, lr=lr or 0.001, eps=1e-7)
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr or 0.001, rho=0.95, eps=1e-7)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr or 0.001, alpha=0.9, eps=1e-7)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr or 0.01)
    raise SystemExit(f"unknown optimizer {name!r}")


# ---- counting ------------------------------------------------------------

def multiply_adds(model, x):
    """Forward multiply-adds per example, counted as pipe counts them
    (ops/macs.go): products with weights and BN's 2 per element; biases,
    activations, pooling and embeddings' lookups not counted."""
    total = [0]

    def hook(m, inp, out):
        n = inp[0].shape[0]
        if isinstance(m, nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
            total[0] += out.numel() // n * k
        elif isinstance(m, nn.Linear):
            total[0] += out.numel() // n * m.in_features
        elif isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
            total[0] += 2 * out.numel() // n
        elif isinstance(m, Attention):
            steps = inp[0].shape[1]   # the scores and the weighted values
            total[0] += 2 * steps * steps * m.heads * m.key_dim
        elif isinstance(m, (nn.LSTM, nn.GRU)):
            gates = 4 if isinstance(m, nn.LSTM) else 3
            steps = inp[0].shape[1]
            dirs = 2 if m.bidirectional else 1
            total[0] += dirs * steps * gates * m.hidden_size * (m.input_size + m.hidden_size)

    hooks = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(x[:1])
    for h in hooks:
        h.remove()
    return total[0]


def conv_kernels(model, x):
    """The ATen convolution kernels one forward pass calls (oneDNN's is
    mkldnn_convolution; _slow_conv2d_forward is im2col and BLAS), at the
    batch size measured, since PyTorch's choice depends on it."""
    if not any(isinstance(m, nn.Conv2d) for m in model.modules()):
        return []
    with torch.no_grad(), torch.autograd.profiler.profile() as prof:
        model(x)
    names = {e.name for e in prof.function_events}
    return sorted(n for n in names if "conv" in n and n not in (
        "aten::conv2d", "aten::convolution", "aten::_convolution"))


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux


# ---- the machine ---------------------------------------------------------

def blas():
    """The BLAS library this process has loaded, by its own word where it says."""
    a = torch.rand(64, 64)
    a @ a
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            low = path.lower()
            if path.startswith("/") and path not in libs and any(
                    k in low for k in ("blas", "blis", "mkl_", "libmkl", "atlas")):
                libs.append(path)
    for path in libs:
        try:
            cfg = ctypes.CDLL(path).openblas_get_config
            cfg.restype = ctypes.c_char_p
            return f"{cfg().decode()} ({path})"
        except (OSError, AttributeError):
            pass
    build = [p.split("=", 1)[1] for p in torch.__config__.show().replace(",", " ").split()
             if p.startswith("BLAS_INFO=")]
    if libs:
        return ", ".join(libs)
    return f"BLAS_INFO={build[0] if build else '?'} (no BLAS library loaded)"


def conv_library():
    cfg = torch.__config__.show()
    dnnl = [l.strip(" -") for l in cfg.splitlines() if "MKL-DNN" in l or "oneDNN" in l]
    if torch.backends.mkldnn.is_available() and torch.backends.mkldnn.enabled:
        return (dnnl[0] if dnnl else "oneDNN") + " (torch.backends.mkldnn available and enabled)"
    return "no oneDNN: im2col and BLAS (aten::_slow_conv2d)"


def ceiling(n=2048, seconds=1.0):
    """Single-precision matmul of n x n matrices, best GFLOP/s over a second."""
    a, b = torch.rand(n, n), torch.rand(n, n)
    a @ b
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        a @ b
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t) / 1e9)
    return best


# ---- measuring -----------------------------------------------------------

def timed(fn, batch, a):
    n, start = 0, time.perf_counter()
    while True:
        el = time.perf_counter() - start
        if (a.steps and n == a.steps) or (not a.steps and n >= a.min_steps and el >= a.min_time):
            return n, batch * n / el
        fn()
        n += 1


def measure(name, a):
    torch.manual_seed(0)
    batch = a.batch
    start = time.perf_counter()
    model, x, y, lossf = MODELS[name](batch)
    opt = optimizer(a.optimizer, a.lr, model.parameters())

    def step():
        opt.zero_grad()
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()

    step()
    first = time.perf_counter() - start
    steps, train = timed(step, batch, a)
    model.eval()
    with torch.no_grad():
        evaluate = lambda: lossf(model(x), y)
        predict = lambda: model(x)
        evaluate()
        _, ev = timed(evaluate, batch, a)
        predict()
        _, pr = timed(predict, batch, a)
    params = sum(p.numel() for p in model.parameters())
    params += sum(b.numel() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked"))
    return {"model": name, "threads": a.threads, "batch": batch, "steps": steps,
            "first_step_s": round(first, 4), "train_samples_per_s": round(train, 2),
            "eval_samples_per_s": round(ev, 2), "predict_samples_per_s": round(pr, 2),
            "macs_per_sample": multiply_adds(model, x), "params": params,
            "conv": conv_kernels(model, x), "peak_rss_mb": round(peak_rss_mb(), 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--info", action="store_true", help="print the library versions, the matmul ceiling and the models")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=0, help="timed steps of each phase; 0: by --min-time")
    ap.add_argument("--min-steps", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=2.0, help="seconds each phase runs at least")
    ap.add_argument("--optimizer", default="adam")
    ap.add_argument("--lr", type=float, default=0.0)
    ap.add_argument("models", nargs="*")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.info:
        print(json.dumps({"torch": torch.__version__, "blas": blas(), "conv": conv_library(),
                          "flush_denormal": FLUSH, "threads": torch.get_num_threads(),
                          "ceiling_gflops": round(ceiling(), 1), "models": sorted(MODELS)}))
    for name in a.models:
        if name not in MODELS:
            raise SystemExit(f"no reference model {name!r}; known: {', '.join(sorted(MODELS))}")
        print(json.dumps(measure(name, a)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
