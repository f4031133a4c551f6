package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/pipeline"
)

func cacheCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "cache", Short: "List or clear the cache of preprocessed data",
		// `pipe cache lsit` is a bad command line, not a request for help.
		Args: cobra.ArbitraryArgs, RunE: unknownCommand}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the cached datasets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := g.cachePath()
			entries, err := pipeline.ListCache(dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: %d entries\n", dir, len(entries))
			if len(entries) > 0 {
				// Why a 512-example run shows a 55 MB entry.
				fmt.Fprintln(out, "Each entry is a whole dataset after its loader and the transforms before its batch steps (trailing scale, reshape, one_hot and standardize run on each batch); runs that differ only in batch steps, train_limit or test_limit share it (the limits are applied after the cache).")
			}
			for i, line := range pipeline.DescribeCache(entries, 120) {
				e := entries[i]
				fmt.Fprintf(out, "%s  %8.1f MB  %s  %s\n", e.ID, float64(e.Bytes)/1e6, e.Created.Format("2006-01-02 15:04"), line)
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "clear",
		Short: "Remove every cached dataset",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := g.cachePath()
			if err := pipeline.ClearCache(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cleared %s\n", dir)
			return nil
		},
	})
	return cmd
}
