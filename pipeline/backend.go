package pipeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // the default, pure-Go backend
	"github.com/gomlx/exceptions"
)

// NewBackend creates the GoMLX backend named by config ("go", "xla:cpu",
// "xla:cuda", with options after the name as GoMLX accepts them). A backend
// that this build of pipe does not carry, or whose plugin is not installed,
// is an error saying what to install; nothing is ever downloaded.
func NewBackend(config string) (compute.Backend, error) {
	if config == "" {
		config = "go"
	}
	name, _, _ := strings.Cut(config, ":")
	if !slices.Contains(compute.List(), name) {
		if name == "xla" {
			return nil, fmt.Errorf("backend %q is not in this build of pipe: rebuild with `go build -tags xla ./cmd/pipe` (needs cgo) and install the PJRT plugin for %s (see the README, \"Running on XLA\")", config, strings.TrimPrefix(config, "xla:"))
		}
		return nil, fmt.Errorf("unknown backend %q (available: %s)", config, strings.Join(compute.List(), ", "))
	}
	// GoMLX panics on some backend failures; turn them into errors.
	var b compute.Backend
	var err error
	if exc := exceptions.Try(func() { b, err = compute.NewWithConfig(config) }); exc != nil {
		err = fmt.Errorf("%v", exc)
	}
	if err != nil {
		if name == "xla" {
			return nil, fmt.Errorf("backend %q: %w (install the PJRT plugin: see the README, \"Running on XLA\")", config, err)
		}
		return nil, fmt.Errorf("backend %q: %w", config, err)
	}
	return b, nil
}
