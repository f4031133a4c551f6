package rundir_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/pipe-ml/pipe/rundir"
)

// Find lists the runs under a folder, newest first, whatever the depth:
// a runs folder, one spec's runs/<name>, or a run itself. A run is a
// folder with the spec.yaml a run writes; half-written runs (hidden
// .partial-* folders) are left out. Latest picks the newest run that
// finished, skipping one that was interrupted (no test metrics).
func ExampleFind() {
	root, err := os.MkdirTemp("", "runs-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(root)
	// What pipe run leaves: runs/<spec name>/<timestamp>/...
	write := func(path, content string) {
		path = filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("mnist_cnn/20260101-090000/spec.yaml", "name: mnist_cnn\n")
	write("mnist_cnn/20260101-090000/metrics.json", `{"test": {"accuracy": 0.9867}}`)
	write("mnist_cnn/20260102-090000/spec.yaml", "name: mnist_cnn\n") // interrupted: no metrics
	write("mnist_cnn/.partial-20260103-090000/spec.yaml", "name: mnist_cnn\n")
	write("imdb_lstm/20260101-120000/spec.yaml", "name: imdb_lstm\n")

	runs, err := rundir.Find(root)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range runs {
		rel, _ := filepath.Rel(root, r)
		fmt.Println(filepath.ToSlash(rel))
	}

	run, test, err := rundir.Latest(root, "mnist_cnn")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("latest finished mnist_cnn: %s, accuracy %.4f\n", filepath.Base(run.Dir), test["accuracy"])

	// Open refuses a folder that is not a run, listing the runs under it.
	_, err = rundir.Open(filepath.Join(root, "imdb_lstm"))
	fmt.Println(strings.ReplaceAll(err.Error(), root, "ROOT"))
	// Output:
	// mnist_cnn/20260102-090000
	// imdb_lstm/20260101-120000
	// mnist_cnn/20260101-090000
	// latest finished mnist_cnn: 20260101-090000, accuracy 0.9867
	// ROOT/imdb_lstm is not a run directory: it has no spec.yaml (a run directory is what pipe run writes: runs/<spec name>/<timestamp>); runs under it, newest first:
	//   ROOT/imdb_lstm/20260101-120000
}
