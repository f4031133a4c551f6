//go:build xla

package pipeline

// Built with -tags xla, pipe links GoMLX's XLA backend (cgo) for xla:cpu
// and xla:cuda. The PJRT plugin must already be installed (found through
// PJRT_PLUGIN_LIBRARY_PATH or go-xla's default folders): pipe never lets
// go-xla download one, so a missing plugin is an error at once, not a
// network wait.
import (
	"github.com/gomlx/go-xla/compute/xla"
)

func init() { xla.EnableAutoInstall(false) }
