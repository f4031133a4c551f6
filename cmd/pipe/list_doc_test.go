package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestListEveryKind: each section that `pipe list` prints, headed by the
// kind's plural, can be listed alone by that name (schedules included).
func TestListEveryKind(t *testing.T) {
	code, out, _ := pipeCmd(t, "list")
	if code != 0 {
		t.Fatalf("list: exit %d", code)
	}
	headers := regexp.MustCompile(`(?m)^(\w+):$`).FindAllStringSubmatch(out, -1)
	if len(headers) < 8 {
		t.Fatalf("list printed %d sections:\n%s", len(headers), out)
	}
	for _, h := range headers {
		if code, alone, stderr := pipeCmd(t, "list", h[1]); code != 0 || !strings.HasPrefix(alone, h[0]+"\n") {
			t.Errorf("list %s: exit %d, %s%s", h[1], code, alone, stderr)
		}
	}
	for _, want := range []string{"losses:\n", "schedules:\n", "optimizers:\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks the header %q", want)
		}
	}
	if strings.Contains(out, "losss") {
		t.Errorf("list says losss")
	}
	if code, _, stderr := pipeCmd(t, "list", "schedule"); code != exitUsage || !strings.Contains(stderr, `did you mean "schedules"`) {
		t.Errorf("list schedule: exit %d, %s", code, stderr)
	}
}

// TestDocSections: pipe doc describes spec sections by name and by path.
func TestDocSections(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"early_stopping", "`patience` | integer | `0`"},
		{"train.early_stopping", "`monitor` | string | `val_loss`"},
		{"train", "`epochs` | integer | `1`"},
		{"data", "`test_limit`"},
		{"golden", "`tolerance` | number | `0.0001`"},
	} {
		if code, out, stderr := pipeCmd(t, "doc", c.name); code != 0 || !strings.Contains(out, c.want) {
			t.Errorf("doc %s: exit %d, %s%s", c.name, code, out, stderr)
		}
	}
}
