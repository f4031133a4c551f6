package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/pipe-ml/pipe/data"
	"github.com/pipe-ml/pipe/fetch"
)

func dataCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "data", Short: "List the datasets and download them into the data directory"}
	var force bool
	var mirror string
	fetchCmd := &cobra.Command{
		Use:   "fetch NAME...",
		Short: "Download datasets from their official sources, verify their checksums and install them in the data directory",
		Long: "Download datasets from their official sources into the data directory (--data-dir, then $PIPE_DATA, then " +
			"the user cache dir), in the layout the loaders read. Every file is checked against the checksums recorded " +
			"in pipe before it is moved into place; an interrupted download resumes where it stopped. A dataset " +
			"already present is left alone unless --force. `pipe data list` shows the names.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("data fetch needs a dataset name (see pipe data list)")}
			}
			var sets []*fetch.Dataset
			for _, name := range args {
				d, err := fetch.Lookup(name)
				if err != nil {
					return usageError{err}
				}
				sets = append(sets, d)
			}
			if mirror == "" {
				mirror = os.Getenv("PIPE_DATA_MIRROR")
			}
			opt := fetch.Options{DataDir: g.dataPath(), Force: force, Mirror: mirror}
			if !g.quiet {
				opt.Log = cmd.OutOrStdout()
				if term.IsTerminal(int(os.Stderr.Fd())) {
					opt.Bar = os.Stderr
				}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			for _, d := range sets {
				if _, err := fetch.Fetch(ctx, d, opt); err != nil {
					var manual *fetch.ManualError
					if errors.As(err, &manual) {
						// Not a failure to download: there is nothing
						// official to download, and the message says what to do.
						return usageError{err}
					}
					return err
				}
			}
			return nil
		},
	}
	fetchCmd.Flags().BoolVar(&force, "force", false, "download again and replace a dataset already present")
	fetchCmd.Flags().StringVar(&mirror, "mirror", "", "fetch every file F of a dataset from MIRROR/<folder>/F instead of its official source (default $PIPE_DATA_MIRROR)")

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List the datasets, their folders and whether the data directory holds them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := g.dataPath()
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "data directory: %s\n", dir)
			for _, d := range fetch.Datasets() {
				state := "present"
				if d.Missing(dir) != "" {
					state = "missing"
					if _, err := os.Stat(filepath.Join(dir, d.Folder)); err == nil {
						state = "incomplete"
					}
				}
				fmt.Fprintf(w, "  %-11s %-12s %-10s %s\n", d.Name, d.Folder+"/", state, d.About)
			}
			fmt.Fprintln(w, "`pipe data fetch NAME` downloads one; for jester5k and movielense it says where to get the files.")
			return nil
		},
	}
	cmd.AddCommand(fetchCmd, listCmd)
	return cmd
}

// dataPath is the data directory the loaders read.
func (g *globalFlags) dataPath() string { return data.UserDir(g.dataDir, "PIPE_DATA", "data") }
