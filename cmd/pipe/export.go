package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/onnx"
)

func exportCmd(g *globalFlags) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "export RUN_DIR",
		Short: "Write a run's trained model as an ONNX file (opset 17) with its weights and input preprocessing",
		Long: "Write a finished run's inference graph with its trained weights as an ONNX model (opset 17). " +
			"A layer stack or graph takes the loader's raw examples, x (pixels 0..255, token ids of any length; " +
			"a rating vector for AutoRec; user and item indices for NeuMF), applies the spec's input transforms in the " +
			"graph and gives y, or y_<layer> for each of several outputs; matrix_factorization takes user and item " +
			"indices and gives the rating. user_knn and rbm_cf cannot be exported. The file goes to -o, by " +
			"default <spec name>.onnx in the current directory.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "onnx" {
				return usageError{fmt.Errorf("--format %q: pipe exports onnx only", format)}
			}
			opt := g.options()
			m, err := onnx.ExportRun(args[0], onnx.Options{DataDir: opt.DataDir, CacheDir: opt.CacheDir})
			var unsupported *onnx.UnsupportedError
			if errors.As(err, &unsupported) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			path := out
			if path == "" {
				path = m.GetGraph().GetName() + ".onnx"
			}
			if err := onnx.Write(path, m); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ONNX opset %d, %s\n", path, onnx.Opset, onnx.Signature(m))
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "onnx", "file format: onnx")
	cmd.Flags().StringVarP(&out, "output", "o", "", "where to write the model (default <spec name>.onnx)")
	return cmd
}
