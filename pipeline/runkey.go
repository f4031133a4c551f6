package pipeline

import (
	"cmp"
	"os"
	"runtime/debug"

	"github.com/pipe-ml/pipe/loaders"
	"github.com/pipe-ml/pipe/rundir"
	"github.com/pipe-ml/pipe/spec"
)

// RunKey returns what identifies a run of the plan with opt: the SHA-256
// of the resolved spec, the checksums of the loader's source files under
// opt.DataDir and pipe's version (rundir.Key). pipe compare reuses an
// earlier run only when its key is this one, so that a changed param, a
// changed data file or another build of pipe runs the spec again.
//
// The spec is hashed without report:, golden: and cv:, which change no
// result (cv: makes pipe run run folds, each a spec without cv:), and with the backend the run uses (opt.Backend when set), since
// backends round differently.
func (p *Plan) RunKey(opt Options) (rundir.Key, error) {
	opt = opt.withDefaults()
	s := *p.spec
	s.Report, s.Golden, s.CV = spec.Report{}, nil, nil
	s.Backend = cmp.Or(opt.Backend, p.Backend)
	resolved, err := spec.Encode(&s)
	if err != nil {
		return rundir.Key{}, err
	}
	var sources []rundir.Source
	if sourced, ok := p.Loader.(loaders.Sourced); ok {
		memo := opt.CacheDir
		if memo == "" {
			// Without a cache (--no-cache) there is no place for the
			// checksum memo: hash every file, remembering nothing.
			tmp, err := os.MkdirTemp("", "pipe-checksums-")
			if err != nil {
				return rundir.Key{}, err
			}
			defer os.RemoveAll(tmp)
			memo = tmp
		}
		files, err := checksumFolder(sourceDir(opt.DataDir, sourced), memo)
		if err != nil {
			return rundir.Key{}, err
		}
		for _, f := range files {
			sources = append(sources, rundir.Source{Name: f.Name, SHA256: f.SHA256})
		}
	}
	version, commit := Version()
	return rundir.NewKey(resolved, sources, version, commit), nil
}

// Version is pipe's version as its build recorded it, and the VCS commit
// when the build recorded one. The module version comes first (go install
// pipe@v1.2.0, or go build's pseudo-version of the checkout, which holds
// the commit and +dirty); then the commit itself; then "devel" (go run,
// go test and builds outside a checkout record neither).
func Version() (version, commit string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel", ""
	}
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	switch v := info.Main.Version; {
	case v != "" && v != "(devel)":
		return v, commit
	case commit != "" && modified:
		return commit + "+dirty", commit
	case commit != "":
		return commit, commit
	}
	return "devel", commit
}
