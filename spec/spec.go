// Package spec holds the experiment spec: its types, strict YAML decoding
// with file:line:col errors and field paths, and the registries through which
// layers, loaders, metrics and optimizers declare their params.
package spec

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Spec is one experiment: data, model, training and what to measure.
type Spec struct {
	Name     string      `pipe:"name,required" doc:"experiment name; names the run directory and the golden file"`
	Seed     int         `pipe:"seed" doc:"random seed for initialisation, shuffling and dropout"`
	Backend  string      `pipe:"backend" doc:"GoMLX backend config: go (default), xla:cpu, xla:cuda"`
	Data     Data        `pipe:"data,required" doc:"where examples come from and how they are preprocessed"`
	Model    Model       `pipe:"model,required" doc:"the network"`
	Train    Train       `pipe:"train" doc:"how a layer stack is fitted: loss, optimizer, batch size, epochs, validation and training controls"`
	Evaluate []Component `pipe:"evaluate,registry=metric" doc:"metrics reported per epoch on training and validation data"`
	Report   Report      `pipe:"report" doc:"labels of this spec's cell in pipe compare's table"`
	Golden   *Golden     `pipe:"golden" doc:"the short deterministic run that the golden file records"`
	CV       *CV         `pipe:"cv" doc:"cross-validate over test folds: pipe run runs the spec once per fold (of a k-fold test split, consecutive blocks, given train and test files, or the spec's split under several seeds) and reports each fold's test metrics with their mean and std; pipe compare reports mean ± std (rating loaders, which take split:)"`

	File string `pipe:"-"` // the file it was read from
	// Source is the spec as given, in YAML: its file with extends: merged
	// and the overrides applied, before defaults and block expansion.
	// pipe runs and pipe diff compare runs by it, so that a field reads as
	// its writer wrote it (a block's param, not the layer it became).
	Source []byte `pipe:"-"`
	// Overrides are the --set values Load applied.
	Overrides []string       `pipe:"-"`
	pos       map[string]Pos // field path -> position
}

// Data names a loader (its params sit beside it) and the transforms applied to its output.
type Data struct {
	Loader     Component   `pipe:"loader,required,registry=loader,inline" doc:"dataset loader; its params sit beside it"`
	Transforms []Component `pipe:"transforms,registry=transform" doc:"preprocessing steps, applied in order"`
	TrainLimit int         `pipe:"train_limit,min=0" doc:"use only the first N training examples (0: all)"`
	TestLimit  int         `pipe:"test_limit,min=0" doc:"use only the first N test examples (0: all)"`
	Stream     *Stream     `pipe:"stream" doc:"train and test from the Arrow cache a record batch at a time, memory-mapped, for a dataset larger than memory (stream: {} takes the defaults); needs the cache"`
}

// Stream reads a dataset from its cache entry in record batches instead
// of whole.
type Stream struct {
	BatchRows     int `pipe:"batch_rows,min=0" doc:"examples per record batch of the cache entry; part of the cache key"`
	ShuffleWindow int `pipe:"shuffle_window,min=0" doc:"record batches shuffled together: each epoch takes the batches in an order drawn from the seed and the epoch, then shuffles the examples within each window of this many batches; only a window's examples are in memory. A window covering the training split shuffles exactly as without stream"`
}

// Stream defaults.
const (
	DefaultStreamBatchRows     = 8192
	DefaultStreamShuffleWindow = 64
)

// Model is either a layer stack on an input of a given per-example shape,
// or a registered rating model named by name, with its params beside it.
type Model struct {
	Name    Component    `pipe:"name,registry=model,inline" doc:"a registered rating model (user_knn, matrix_factorization, rbm_cf); its params sit beside it. Leave it out for a layer stack"`
	Input   *Input       `pipe:"input" doc:"shape of one example, without the batch axis (layer stacks): the model's one input, named input"`
	Inputs  []NamedInput `pipe:"inputs" doc:"several named inputs instead of input, e.g. [{name: user, shape: [1]}, {name: item, shape: [1]}]: each takes columns of the examples' last axis, and layers read it by name (inputs: [user])"`
	Layers  []ModelLayer `pipe:"layers,registry=layer" doc:"the layers, in order; each reads the one before it unless it names its inputs (inputs: [a, b], where input is the model's input) and may be named (name: a). An entry may also use a block of model.blocks, with repeat: N uses in a row"`
	Outputs []Output     `pipe:"outputs" doc:"the model's outputs, each with its loss (default: the last layer, with train.loss)"`
	// Blocks are decoded and expanded into Layers (blocks.go); they are
	// here for the reference and the JSON schema only.
	Blocks map[string]Block `pipe:"blocks" doc:"reusable blocks: name -> {params: {p: default}, layers: [...]}, used in layers like a layer; $p in a block's layers takes the use's value"`
}

// Block documents a block's fields; decoding reads blocks from the YAML tree.
type Block struct {
	Params map[string]any `pipe:"params" doc:"the block's params and their defaults (null: the use must give it)"`
	Layers []BlockLayer   `pipe:"layers" doc:"the block's layers, as in model.layers; input names what the use reads, the last layer is the block's output, and $p stands for the use's value of param p"`
}

// BlockLayer documents an entry of a block's layers. Its params may be
// $param references of any type, so the schema checks only its form.
type BlockLayer struct{}

// JSONSchema is a layer's name or a mapping (spec.SchemaDescriber).
func (*BlockLayer) JSONSchema() map[string]any {
	return map[string]any{"type": []string{"string", "object"}}
}

// Output is one output of a model: a layer, the loss it trains with and
// what its target is.
type Output struct {
	Layer  string    `pipe:"layer,required" doc:"the layer whose output this is"`
	Loss   Component `pipe:"loss,registry=loss" doc:"its loss (default: train.loss)"`
	Weight float64   `pipe:"loss_weight,min=0" doc:"weight of its loss in the total that training minimises (default 1)"`
	Target string    `pipe:"target,oneof=label|input" doc:"what it is compared with: the label, or the model's input (an autoencoder); default: train.target"`
}

// Input declares the shape of one example.
type Input struct {
	Shape []int `pipe:"shape,required,min=1" doc:"dimensions of one example, e.g. [28, 28, 1]"`
}

// NamedInput is one of several inputs of a model: a slice of the last
// axis of the data's examples, which layers read by its name.
type NamedInput struct {
	Name    string `pipe:"name,required" doc:"the name layers read it by (inputs: [user])"`
	Shape   []int  `pipe:"shape,required,min=1" doc:"dimensions of one example of this input, without the batch axis, e.g. [1] for one id"`
	Columns []int  `pipe:"columns,min=0" doc:"[from, to): the columns of the examples' last axis it takes; default: the columns the loader gives this name (rating loaders: user is [0, 1], item [1, 2])"`
}

// Report labels a spec's cell in the comparison table.
type Report struct {
	Method  string `pipe:"method" doc:"row label; default: the spec name"`
	Dataset string `pipe:"dataset" doc:"column label; default: the loader name"`
	Row     int    `pipe:"row,min=0" doc:"position of the row in the table (rows without one follow, in the order given)"`
}

// Train says how to fit the model. Rating models named by model.name
// train with their own params and ignore this section but for the seed.
type Train struct {
	Loss       Component  `pipe:"loss,registry=loss" doc:"loss function (layer stacks)"`
	Optimizer  Component  `pipe:"optimizer,registry=optimizer" doc:"optimizer and its params (layer stacks)"`
	Target     string     `pipe:"target,oneof=label|input" doc:"what the outputs are compared with: the label, or the model's input as the data transforms leave it before any noise transform (an autoencoder)"`
	BatchSize  int        `pipe:"batch_size,min=1,max=1048576" doc:"examples per training step"`
	Shards     int        `pipe:"shards,min=1,max=1024" doc:"split every batch into this many parts computed side by side, so that the Go backend runs them on separate cores (its convolution and LSTM work is mostly single-threaded); the gradients add up as for the whole batch, dropout draws per part"`
	Epochs     int        `pipe:"epochs,min=1,max=100000" doc:"passes over the training data"`
	Validation Validation `pipe:"validation" doc:"test (the test split), none, or a fraction in (0,1) of the training data held out: the last fraction of the examples; for rating data a seeded sample of the training ratings; after rating_matrix a seeded sample of the ratings in the vectors, missing from the training inputs and targets and scored from the same inputs (AutoRec's protocol), not whole vectors"`
	Phases     []Phase    `pipe:"phases" doc:"train in phases, one after another on the same weights, each for its epochs and on the losses of the outputs it names, as Keras' model.compile(loss_weights=...) then model.fit between them: e.g. pre-train an autoencoder's output, then fine-tune another (GLocal-K); train.epochs is then the sum of the phases' epochs, a golden run trains each phase golden.epochs at most, and early_stopping watches the last phase only"`
	// Training controls.
	EarlyStopping *EarlyStopping `pipe:"early_stopping" doc:"stop when a monitored metric stops improving"`
	LRSchedule    Component      `pipe:"lr_schedule,registry=schedule" doc:"learning-rate schedule: a factor on the optimizer's learning rate, set before each epoch"`
	ClipNorm      float64        `pipe:"clip_norm,min=0" doc:"scale the gradients so that their global L2 norm is at most this (0: off)"`
	// CheckpointEvery saves the run so far, resumable, every N epochs.
	CheckpointEvery int `pipe:"checkpoint_every,min=0" doc:"every N epochs, write the run directory so far (checkpoint with optimizer and random state, history), marked unfinished; pipe run --resume continues it in place and ends as the uninterrupted run would; the finished run replaces it (0: only at the end)"`
	// Augment changes the training batches only.
	Augment []Component `pipe:"augment,registry=augmentation" doc:"random changes to the images of each training batch, applied in order (random_flip, random_crop, random_translation); seeded by the seed, the epoch and the step, so a run repeats and a resumed one draws what the uninterrupted run would. Never applied to validation, evaluation or prediction; the run directory gets augment.png, training images beside their augmented copies"`
}

// Phase is one phase of training: epochs on the losses of some outputs.
type Phase struct {
	Epochs  int      `pipe:"epochs,required,min=1,max=100000" doc:"epochs of this phase"`
	Outputs []string `pipe:"outputs" doc:"the model.outputs whose losses train in this phase, with their loss_weight (default: all); the others' losses count 0, so their own weights get no gradient but through the outputs named"`
}

// CV declares cross-validation over the test split: pipe run (and pipe
// cv) run fold i of folds for i in 0..folds-1, each with data.split =
// {kind: kfold, k: folds, fold: i, seed: seed}; or fold i of blocks with
// data.split = {kind: blocks, k: blocks, fold: i} (ml-100k's u1..u5); or
// one fold per entry of given, with data.split = {kind: given, train:
// ..., test: ...}; or, for repeated samples rather than folds, the spec's
// own split once per seed (data.split_seed, and a split's own seed, set
// to seed, seed+1, ...). Each trial runs without cv:, so each is an
// ordinary run. train.validation is then carved from each trial's
// training part.
type CV struct {
	Folds  int         `pipe:"folds,min=2,max=1000" doc:"number of k-fold test folds; every rating is in exactly one fold's test split"`
	Blocks int         `pipe:"blocks,min=2,max=1000" doc:"instead of folds: this many folds of consecutive blocks of the file, unshuffled (blocks: 5 on ml100k is GroupLens' u1..u5 as its mku.sh cuts them)"`
	Seeds  int         `pipe:"seeds,min=2,max=1000" doc:"instead of folds: repeat the spec's own split (and user sample) with this many seeds, seed, seed+1, ...: data.split_seed, and data.split.seed when the split takes one (the course's protocol over 5 samples: seeds: 5)"`
	Seed   *int        `pipe:"seed" doc:"folds: seed of the folds' shuffle; seeds: the first seed (default: the loader's split_seed)"`
	Given  []GivenFold `pipe:"given" doc:"instead of folds: one fold per entry, its train and test files as split given reads them (e.g. MovieLens 100K's u1.base and u1.test ... u5)"`
}

// GivenFold is one fold of cv.given: a split given's files.
type GivenFold struct {
	Train string `pipe:"train" doc:"the training file, relative to the folder of the loader's file, or absolute (default: the loader's own file)"`
	Test  string `pipe:"test,required" doc:"the test file, relative to the folder of the loader's file, or absolute"`
}

// EarlyStopping is Keras' EarlyStopping callback.
type EarlyStopping struct {
	Monitor     string  `pipe:"monitor" doc:"the history series to watch, e.g. val_loss, val_accuracy, val_rmse"`
	Patience    int     `pipe:"patience,min=0" doc:"epochs without improvement before stopping"`
	MinDelta    float64 `pipe:"min_delta,min=0" doc:"smallest change that counts as an improvement"`
	RestoreBest bool    `pipe:"restore_best" doc:"end with the weights of the best epoch"`
}

// Golden describes the short deterministic run recorded in the golden file.
type Golden struct {
	Train     int     `pipe:"train,min=1" doc:"training examples used"`
	Test      int     `pipe:"test,min=1" doc:"test examples used"`
	Epochs    int     `pipe:"epochs,min=1" doc:"epochs trained"`
	Tolerance float64 `pipe:"tolerance,min=0" doc:"allowed absolute difference of each metric"`
}

// fillDefaults gives unset golden fields their defaults: a one-epoch run on
// 1,024 training and 256 test examples, metrics equal within 1e-4.
func (g *Golden) fillDefaults() {
	if g.Train == 0 {
		g.Train = 1024
	}
	if g.Test == 0 {
		g.Test = 256
	}
	if g.Epochs == 0 {
		g.Epochs = 1
	}
	if g.Tolerance == 0 {
		g.Tolerance = 1e-4
	}
}

// Validation is where validation metrics come from.
type Validation struct {
	Split    string  // "test", "none" or "fraction"
	Fraction float64 // of the training set, when Split is "fraction"
}

// DecodeNode accepts test, none, or a fraction strictly between 0 and 1.
func (v *Validation) DecodeNode(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str":
			if n.Value == "test" || n.Value == "none" {
				*v = Validation{Split: n.Value}
				return nil
			}
		case "!!float", "!!int":
			f, err := strconv.ParseFloat(n.Value, 64)
			if err == nil && f > 0 && f < 1 {
				*v = Validation{Split: "fraction", Fraction: f}
				return nil
			}
		}
	}
	return fmt.Errorf("want test, none or a fraction between 0 and 1, got %s", describe(n))
}

func (v Validation) String() string {
	if v.Split == "fraction" {
		return strconv.FormatFloat(v.Fraction, 'g', -1, 64)
	}
	return v.Split
}

// defaults returns a spec with every optional field at its default.
func defaults() *Spec {
	return &Spec{
		Backend: "go",
		Train:   Train{Target: "label", BatchSize: 32, Shards: 1, Epochs: 1, Validation: Validation{Split: "test"}},
	}
}

// Load reads and decodes the spec file at path, following extends:, and
// applies overrides ("train.epochs=3", as --set gives them) last.
func Load(path string, overrides ...string) (*Spec, error) {
	files := map[*yaml.Node]string{}
	root, err := loadTree(path, Pos{}, files, nil)
	if err != nil {
		return nil, err
	}
	for _, o := range overrides {
		if err := applyOverride(root, o); err != nil {
			return nil, ErrorList{{Pos: Pos{File: path}, Path: "--set " + o, Msg: err.Error()}}
		}
	}
	source, err := yaml.Marshal(root) // before decoding expands blocks in the tree
	if err != nil {
		return nil, err
	}
	s, err := decode(path, root, files)
	if s != nil {
		s.Source, s.Overrides = source, overrides
	}
	return s, err
}

// Reapply returns a spec's Source with overrides applied again: the source
// of a run resumed with --set.
func Reapply(source []byte, overrides ...string) ([]byte, error) {
	root, err := parseYAML("source.yaml", source)
	if err != nil {
		return nil, err
	}
	for _, o := range overrides {
		if err := applyOverride(root, o); err != nil {
			return nil, fmt.Errorf("--set %s: %w", o, err)
		}
	}
	return yaml.Marshal(root)
}

// readTree reads and parses one spec file. by is the position of the
// extends: that names it, zero for the spec given to Load: a missing base is
// fixed in the spec that names it, so that is where the error points.
func readTree(path string, by Pos) (*yaml.Node, error) {
	src, err := os.ReadFile(path)
	if err == nil {
		return parseYAML(path, src)
	}
	msg := err.Error()
	if errors.Is(err, os.ErrNotExist) {
		msg = "no such spec file"
	}
	if by.File == "" {
		return nil, ErrorList{{Pos: Pos{File: path}, Msg: msg}}
	}
	return nil, ErrorList{{Pos: by, Path: "extends", Msg: fmt.Sprintf("base spec %s: %s", path, msg)}}
}

// Parse decodes src, naming file in errors. Every error of the spec is
// returned together as an ErrorList. It does not follow extends:.
func Parse(file string, src []byte) (*Spec, error) {
	root, err := parseYAML(file, src)
	if err != nil {
		return nil, err
	}
	source, err := yaml.Marshal(root)
	if err != nil {
		return nil, err
	}
	s, err := decode(file, root, nil)
	if s != nil {
		s.Source = source
	}
	return s, err
}

// decode turns a parsed tree into a Spec; files names the file of nodes
// that came from another file than file (an extended base).
func decode(file string, root *yaml.Node, files map[*yaml.Node]string) (*Spec, error) {
	s := defaults()
	d := &decoder{file: file, pos: map[string]Pos{}, files: files}
	d.value(root, reflectValue(s), "", FieldTag{})
	d.checkName(s.Name)
	s.File, s.pos = file, d.pos
	if s.Golden == nil {
		s.Golden = &Golden{}
	}
	for i := range s.Model.Outputs {
		s.Model.Outputs[i].Target = cmp.Or(s.Model.Outputs[i].Target, s.Train.Target)
	}
	if es := s.Train.EarlyStopping; es != nil && es.Monitor == "" {
		es.Monitor = "val_loss"
	}
	if st := s.Data.Stream; st != nil {
		st.BatchRows = cmp.Or(st.BatchRows, DefaultStreamBatchRows)
		st.ShuffleWindow = cmp.Or(st.ShuffleWindow, DefaultStreamShuffleWindow)
	}
	s.Golden.fillDefaults()
	return s, d.errs.Err()
}

// parseYAML returns the single document's top node, turning YAML syntax
// errors into positioned errors.
func parseYAML(file string, src []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(src)) == 0 {
		return nil, ErrorList{{Pos: Pos{File: file}, Msg: "the spec is empty"}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, ErrorList{{Pos: Pos{File: file}, Msg: "the spec is empty"}}
	} else if err != nil {
		return nil, ErrorList{syntaxError(file, src, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, ErrorList{{Pos: Pos{File: file, Line: extra.Line, Col: extra.Column}, Msg: "a spec holds one YAML document; found another"}}
	}
	if len(doc.Content) == 0 {
		return nil, ErrorList{{Pos: Pos{File: file}, Msg: "the spec is empty"}}
	}
	return doc.Content[0], nil
}

// PosOf returns the position of the field at path, or of its closest
// enclosing field that has one, so later checks can point into the file.
func (s *Spec) PosOf(path string) Pos {
	for p := path; p != ""; p = parent(p) {
		if pos, ok := s.pos[p]; ok {
			return pos
		}
	}
	return Pos{File: s.File, Line: 1, Col: 1}
}

// Errorf builds a positioned error about the field at path.
func (s *Spec) Errorf(path, format string, args ...any) *Error {
	return &Error{Pos: s.PosOf(path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// AsList returns err as an ErrorList when it is one.
func AsList(err error) (ErrorList, bool) {
	var l ErrorList
	ok := errors.As(err, &l)
	return l, ok
}
