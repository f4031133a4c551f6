package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/gomlx/compute"
	"github.com/spf13/cobra"
)

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print pipe's version, the Go that built it and whether its SIMD kernels are on (also pipe --version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return nil
		},
	}
}

// versionLine says which pipe this is, in one line: the module version
// that the go command stamped into the binary (a tag, or a pseudo-version
// from the commit), the Go release and platform, whether it was built
// with GOEXPERIMENT=simd (the Go backend is several times slower
// without), and the backends compiled in. Someone reporting a slow or odd
// run can paste it whole.
func versionLine() string {
	version := "(unknown)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		// go run and test binaries say (devel) or nothing: the commit, when
		// known, still tells builds apart.
		if version == "" || version == "(devel)" {
			version = "(devel)"
			if rev != "" {
				version += " " + rev[:min(len(rev), 12)]
				if modified == "true" {
					version += "+dirty"
				}
			}
		}
	}
	simd := "off"
	if simdExperiment {
		simd = "on"
	}
	return fmt.Sprintf("pipe %s, %s %s/%s, GOEXPERIMENT simd %s, backends: %s",
		version, runtime.Version(), runtime.GOOS, runtime.GOARCH, simd, strings.Join(compute.List(), ", "))
}
