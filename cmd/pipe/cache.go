package main

import (
	"fmt"
	"strings"

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
			dir := pipeline.ResolveCacheDir(g.cacheDir)
			entries, err := pipeline.ListCache(dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d entries\n", dir, len(entries))
			for _, e := range entries {
				loader := strings.ReplaceAll(strings.TrimSpace(e.Loader), "\n", " ")
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %8.1f MB  %s  %s\n", e.ID, float64(e.Bytes)/1e6, e.Created.Format("2006-01-02 15:04"), loader)
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "clear",
		Short: "Remove every cached dataset",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := pipeline.ResolveCacheDir(g.cacheDir)
			if err := pipeline.ClearCache(dir); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cleared %s\n", dir)
			return nil
		},
	})
	return cmd
}
