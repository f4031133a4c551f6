package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pipe-ml/pipe/rundir"
)

func diffCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "diff RUN_A RUN_B",
		Short: "What differs between two runs: spec fields (a, b) and each test metric (a, b, b-a)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageError{fmt.Errorf("diff takes two run directories, got %d", len(args))}
			}
			c, err := rundir.Diff(args[0], args[1])
			if err != nil {
				return err
			}
			return c.Write(cmd.OutOrStdout())
		},
	}
}
