package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipe-ml/pipe/spec"
	"github.com/spf13/cobra"
)

// starter is the spec `pipe init` writes: a small MNIST classifier that
// runs in a minute on a laptop, to edit from. schemaLine goes above it
// when the file is written inside a pipe checkout.
const starter = `name: %s
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
			name := spec.PlainName(strings.TrimSuffix(strings.TrimSuffix(pathBase(path), ".yaml"), ".yml"))
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if errors.Is(err, fs.ErrExist) {
				return usageError{fmt.Errorf("%s exists; pipe init never overwrites a file", path)}
			} else if err != nil {
				return err
			}
			text := fmt.Sprintf(starter, name)
			if line := schemaLine(path); line != "" {
				text = line + "\n" + text
			}
			if _, err := io.WriteString(f, text); err != nil {
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

// schemaModule is the module whose checkout holds docs/pipe.schema.json.
const schemaModule = "github.com/pipe-ml/pipe"

// schemaLine is the yaml-language-server comment that points an editor at
// the JSON Schema of specs, for a spec written at path: the relative path
// from the spec's folder to docs/pipe.schema.json of the pipe checkout that
// contains the file (the nearest folder above it with that file and a
// go.mod of the pipe module), so that it is right at any depth. Outside a
// checkout it is "": the schema is not published anywhere yet, and a
// $schema that points nowhere would only make the editor complain.
func schemaLine(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	from := filepath.Dir(abs)
	for dir := from; ; {
		schema := filepath.Join(dir, "docs", "pipe.schema.json")
		if st, err := os.Stat(schema); err == nil && st.Mode().IsRegular() && isPipeModule(filepath.Join(dir, "go.mod")) {
			rel, err := filepath.Rel(from, schema)
			if err != nil {
				return ""
			}
			return "# yaml-language-server: $schema=" + filepath.ToSlash(rel)
		}
		up := filepath.Dir(dir)
		if up == dir {
			return ""
		}
		dir = up
	}
}

// isPipeModule reports whether the go.mod at path declares the pipe module
// (another project's docs/pipe.schema.json is not ours).
func isPipeModule(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == schemaModule
		}
	}
	return false
}

func pathBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
