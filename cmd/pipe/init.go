package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// starter is the spec `pipe init` writes: a small MNIST classifier that
// runs in a minute on a laptop, to edit from.
const starter = `# yaml-language-server: $schema=../docs/pipe.schema.json
name: %s
seed: 1
data:
  loader: mnist
  train_limit: 10000
  transforms:
    - scale: {divide: 255}
    - reshape: {shape: [28, 28, 1]}
    - one_hot: {classes: 10}
model:
  input: {shape: [28, 28, 1]}
  layers:
    - conv2d: {filters: 8, kernel: 3, activation: relu}
    - max_pool2d: {pool: 2}
    - flatten
    - dense: {units: 64, activation: relu}
    - dropout: {rate: 0.25}
    - dense: {units: 10, activation: softmax}
train:
  loss: categorical_crossentropy
  optimizer: {name: adam, learning_rate: 0.001}
  batch_size: 64
  epochs: 2
  validation: test
evaluate: [loss, accuracy]
`

func initCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "init FILE.yaml",
		Short: "Write a starter spec to edit (never overwrites a file)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			name := strings.TrimSuffix(strings.TrimSuffix(pathBase(path), ".yaml"), ".yml")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return usageError{fmt.Errorf("%s exists; pipe init never overwrites a file", path)}
			} else if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(f, starter, name); err != nil {
				f.Close()
				os.Remove(path)
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s; try: pipe summary %s && pipe run %s\n", path, path, path)
			return nil
		},
	}
}

func pathBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
