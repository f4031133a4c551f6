package main

import (
	"errors"
	"fmt"

	"github.com/pipe-ml/pipe/rundir"
	"github.com/spf13/cobra"
)

func plotCmd() *cobra.Command {
	var metric, output string
	cmd := &cobra.Command{
		Use:   "plot RUN_DIR...",
		Short: "Draw a metric's per-epoch curves of several runs on one PNG",
		Long: "Draw the per-epoch series --metric (a name of history.json: loss, accuracy, val_loss, val_accuracy, rmse...) of each " +
			"run on one PNG (-o). The legend names each run by its spec name and the spec fields that differ among the runs " +
			"of that spec, or by its directory. A run without that series is named with the series it has, and nothing is written.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := rundir.PlotRuns(output, metric, args)
			var series *rundir.SeriesError
			if errors.As(err, &series) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s of %d runs\n", output, metric, len(args))
			return nil
		},
	}
	cmd.Flags().StringVar(&metric, "metric", "val_accuracy", "the history.json series to draw")
	cmd.Flags().StringVarP(&output, "output", "o", "curves.png", "the PNG file to write")
	return cmd
}
