//go:build xla

package pipeline

// Built with -tags xla, pipe links GoMLX's XLA backend (cgo) for xla:cpu
// and xla:cuda. The PJRT plugin must already be installed (found through
// PJRT_PLUGIN_LIBRARY_PATH or go-xla's default folders): pipe never lets
// go-xla download one, so a missing plugin is an error at once, not a
// network wait.
import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"
)

func init() {
	xla.EnableAutoInstall(false)
	newXLA = newXLABackend
}

// newXLABackend creates the xla backend with devices devices (0: the
// default), through the plugin's own ways of choosing them: XLA's CPU
// plugin takes a device count when its client is created (it makes 4 of
// the same cores otherwise, so pipe asks for 1 by default); GPU plugins
// take GoMLX's visible_devices option.
func newXLABackend(config string, devices int) (compute.Backend, error) {
	plugin, _, _ := strings.Cut(config, ",")
	options := pjrt.NamedValuesMap{}
	switch {
	case strings.Contains(strings.ToLower(filepath.Base(plugin)), "cpu"): // "cpu", or a path to the CPU plugin
		options["cpu_device_count"] = int64(max(devices, 1))
	case devices > 0:
		if strings.Contains(config, "visible_devices=") {
			return nil, fmt.Errorf("give devices=%d or visible_devices, not both", devices)
		}
		ids := make([]string, devices)
		for i := range ids {
			ids[i] = fmt.Sprint(i)
		}
		config += ",visible_devices=" + strings.Join(ids, ";")
	}
	b, err := xla.NewWithOptions(config, options)
	if err != nil {
		return nil, err // not b: a nil *xla.Backend would make a non-nil interface
	}
	return b, nil
}
