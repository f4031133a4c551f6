package pipeline_test

import (
	"fmt"
	"log"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/pipe-ml/pipe/pipeline"
)

// Load reads a spec, applies overrides (here: 8 filters in the first
// convolution, as `pipe run --set` would) and checks it as a whole without
// data. The plan's summary is the Keras-style layer table.
func ExampleLoad() {
	plan, err := pipeline.Load("../specs/mnist_cnn.yaml", "model.layers[0].filters=8")
	if err != nil {
		log.Fatal(err) // every problem of the spec, each at file:line:col
	}
	fmt.Printf("%s: input %v, output %v, %d parameters, %d epochs\n", plan.Name, plan.Input, plan.Output(), plan.Params(), plan.Train.Epochs)

	// WriteSummary pads every column, the last one too; the spaces at the
	// line ends are cut here since an Output comment cannot keep them.
	var table strings.Builder
	plan.WriteSummary(&table)
	for line := range strings.Lines(table.String()) {
		fmt.Println(strings.TrimRight(line, " \n"))
	}
	// Output:
	// mnist_cnn: input [28 28 1], output [10], 40629 parameters, 20 epochs
	// Model: "mnist_cnn"
	// _________________________________________________________________
	//  Layer (type)                Output Shape              Param #
	// =================================================================
	//  conv2d (conv2d)             (None, 24, 24, 8)         208
	//  conv2d_1 (conv2d)           (None, 20, 20, 3)         603
	//  max_pool2d (max_pool2d)     (None, 10, 10, 3)         0
	//  dropout (dropout)           (None, 10, 10, 3)         0
	//  flatten (flatten)           (None, 300)               0
	//  dense (dense)               (None, 128)               38,528
	//  dropout_1 (dropout)         (None, 128)               0
	//  dense_1 (dense)             (None, 10)                1,290
	// =================================================================
	// Total params: 40,629
	// Trainable params: 40,629
	// Non-trainable params: 0
	// _________________________________________________________________
}

// Run trains a plan, evaluates it on the test split and writes a run
// directory (spec.yaml, checkpoint/, metrics.json, ...) under RunsDir.
// Train does the same and writes nothing. Not run by go test: it needs
// the MNIST files under $PIPE_DATA.
func ExampleRun() {
	plan, err := pipeline.Load("specs/mnist_cnn.yaml",
		"data.train_limit=2048", "data.test_limit=512", "train.epochs=1")
	if err != nil {
		log.Fatal(err)
	}
	res, err := pipeline.Run(plan, pipeline.Options{
		// DataDir "" is $PIPE_DATA, then the user cache dir.
		RunsDir: "runs",
		Log:     os.Stderr, // a line per epoch
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("run directory:", res.Dir)
	for _, name := range slices.Sorted(maps.Keys(res.Test)) {
		fmt.Printf("test %s: %.4f\n", name, res.Test[name])
	}
}
