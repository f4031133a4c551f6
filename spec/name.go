package spec

import "regexp"

var plainName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

var notPlain = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// PlainName turns s (a file name, say) into a valid spec name: runs of
// other characters become '_'; an empty, "." or ".." result is "spec".
func PlainName(s string) string {
	n := notPlain.ReplaceAllString(s, "_")
	if n == "" || n == "." || n == ".." {
		return "spec"
	}
	return n
}

// checkName rejects a spec name that is not a plain file name: the name
// becomes a directory under --runs-dir and the golden file's name, so
// "../x" or "a/b" would write outside them.
func (d *decoder) checkName(name string) {
	pos, given := d.pos["name"]
	if !given {
		return // the required-field error says so
	}
	for _, e := range d.errs {
		if e.Path == "name" {
			return // not a string; already reported
		}
	}
	const allowed = "letters A-Z and a-z, digits, '_', '-' and '.'"
	switch {
	case name == "":
		d.errs.Add(pos, "name", "must not be empty; use %s", allowed)
	case name == "." || name == ".." || !plainName.MatchString(name):
		d.errs.Add(pos, "name", `%q is not a plain name: it names the run directory and the golden file, so use only %s (and not "." or "..")`, name, allowed)
	}
}
