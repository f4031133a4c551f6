package pipeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // the default, pure-Go backend
	"github.com/gomlx/exceptions"
)

// NewBackend creates the GoMLX backend named by config ("go", "xla:cpu",
// "xla:cuda", with options after the name as GoMLX accepts them). A backend
// that this build of pipe does not carry, or whose plugin is not installed,
// is an error saying what to install; nothing is ever downloaded.
//
// One option is pipe's own: devices=N makes the backend report (and so
// training use) its first N devices; see NewModel for data-parallel
// training. Without it a backend reports all its devices, except XLA's CPU
// plugin, which would split the same cores into 4 devices: pipe asks it for
// one, so xla:cpu trains as it always did unless devices=N says otherwise.
func NewBackend(config string) (compute.Backend, error) {
	if config == "" {
		config = DefaultBackend
	}
	given := config // for messages: GoMLX never sees devices=N
	config, devices, err := cutDevices(config)
	if err != nil {
		return nil, err
	}
	name, rest, _ := strings.Cut(config, ":")
	if !slices.Contains(compute.List(), name) {
		if name == "xla" {
			return nil, fmt.Errorf("backend %q is not in this build of pipe: rebuild with `go build -tags xla ./cmd/pipe` (needs cgo) and install the PJRT plugin for %s (see the README, \"Running on XLA\")", given, strings.TrimPrefix(config, "xla:"))
		}
		return nil, fmt.Errorf("unknown backend %q (available: %s)", given, strings.Join(compute.List(), ", "))
	}
	// GoMLX panics on some backend failures; turn them into errors.
	var b compute.Backend
	if exc := exceptions.Try(func() {
		if name == "xla" && newXLA != nil {
			b, err = newXLA(rest, devices)
		} else {
			b, err = compute.NewWithConfig(config)
		}
	}); exc != nil {
		err = fmt.Errorf("%v", exc)
	}
	if err != nil {
		if name == "xla" {
			return nil, fmt.Errorf("backend %q: %w (install the PJRT plugin: see the README, \"Running on XLA\")", given, err)
		}
		return nil, fmt.Errorf("backend %q: %w", given, err)
	}
	if devices > 0 && b.NumDevices() != devices {
		n := b.NumDevices()
		b.Finalize()
		hint := ""
		if name == "go" {
			hint = "; data-parallel training needs xla (e.g. xla:cuda on a machine with several GPUs)"
		}
		return nil, fmt.Errorf("backend %q: devices=%d asked, but it has %d device(s)%s", given, devices, n, hint)
	}
	return b, nil
}

// newXLA creates the xla backend from its config (the plugin and GoMLX's
// options) with the given number of devices (0: the default). It is set
// by backend_xla.go, in builds with -tags xla.
var newXLA func(config string, devices int) (compute.Backend, error)

// cutDevices takes pipe's devices=N option out of a backend config, so
// GoMLX never sees it, and returns N (0 when absent).
func cutDevices(config string) (string, int, error) {
	name, rest, found := strings.Cut(config, ":")
	if !found {
		return config, 0, nil
	}
	var kept []string
	devices := 0
	for i, opt := range strings.Split(rest, ",") {
		v, ok := strings.CutPrefix(opt, "devices=")
		if !ok {
			kept = append(kept, opt)
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return "", 0, fmt.Errorf("backend %q: devices=%s: want a whole number of devices, at least 1", config, v)
		}
		devices = n
		if i == 0 && name == "xla" {
			kept = append(kept, "") // keep the plugin's place: "xla:devices=2" is the default plugin
		}
	}
	if len(kept) == 0 || (len(kept) == 1 && kept[0] == "") {
		return name, devices, nil
	}
	return name + ":" + strings.Join(kept, ","), devices, nil
}

// CheckBackendName rejects a backend config whose name (before the options)
// is no GoMLX backend pipe knows: a typo, so a bad command line. xla is
// known even in a build without it: NewBackend then says how to
// rebuild, a failure at run time like a missing plugin.
func CheckBackendName(config string) error {
	name, _, _ := strings.Cut(config, ":")
	known := compute.List()
	if name == "xla" || slices.Contains(known, name) {
		return nil
	}
	avail := strings.Join(known, ", ")
	if !slices.Contains(known, "xla") {
		avail += "; xla:cpu and xla:cuda in a build with -tags xla"
	}
	return fmt.Errorf("unknown backend %q (available: %s)", name, avail)
}
