//go:build !rules

package techniques

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"
)

// TestSuiteDryRun builds the real suite (build tag "rules") and runs it with
// Ginkgo's dry run over testdata: no Falco and no container start, but the
// specs Ginkgo reports are the ones `make test-rules` would run, with their
// text, labels, YAML code locations and label filtering.
func TestSuiteDryRun(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: builds and runs the suite binary (about 20 s)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, labelFilter string) []types.SpecReport {
		t.Helper()
		out := filepath.Join(t.TempDir(), "report.json")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		args := []string{"test", "-count=1", "-tags", "rules", ".", "-args",
			"-ginkgo.dry-run", "-ginkgo.json-report=" + out}
		if labelFilter != "" {
			args = append(args, "-ginkgo.label-filter="+labelFilter)
		}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Env = append(os.Environ(),
			"RULES=suites/techniques/testdata/rules",
			"SCENARIOS=suites/techniques/testdata/scenarios",
			"FALCO_IMAGE=attack-replay/no-such-falco:dry-run", // a dry run must not need it
		)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var reports []types.Report
		if err := json.Unmarshal(b, &reports); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		if len(reports) != 1 {
			t.Fatalf("got %d suite reports, want 1", len(reports))
		}
		var specs []types.SpecReport
		for _, s := range reports[0].SpecReports {
			if s.LeafNodeType == types.NodeTypeIt {
				specs = append(specs, s)
			}
		}
		return specs
	}
	ran := func(specs []types.SpecReport) []string {
		var ids []string
		for _, s := range specs {
			if s.State == types.SpecStatePassed {
				ids = append(ids, s.LeafNodeText)
			}
		}
		return ids
	}

	specs := run(t, "")
	if len(specs) != 3 {
		t.Fatalf("got %d specs, want one per scenario (3)", len(specs))
	}
	byText := map[string]types.SpecReport{}
	for _, s := range specs {
		byText[s.LeafNodeText] = s
	}
	disable, ok := byText["T1490 impact/disable-rescue [attack]: A non-root user disables the rescue target."]
	if !ok {
		t.Fatalf("no spec for disable-rescue among %q", ran(specs))
	}
	wantLabels := []string{"technique:T1490", "tactic:impact", "scenario:disable-rescue", "attack"}
	if !slices.Equal(disable.LeafNodeLabels, wantLabels) {
		t.Errorf("labels = %q, want %q", disable.LeafNodeLabels, wantLabels)
	}
	wantFile := filepath.Join(root, "suites/techniques/testdata/scenarios/impact/T1490.yaml")
	if loc := disable.LeafNodeLocation; loc.FileName != wantFile || loc.LineNumber != 4 {
		t.Errorf("code location = %s:%d, want %s:4", loc.FileName, loc.LineNumber, wantFile)
	}
	shadow := byText["T1003.008 credential-access/cat-shadow [attack]: Read the password hashes."]
	if !slices.Contains(shadow.LeafNodeLabels, "technique:T1003") {
		t.Errorf("sub-technique spec lacks its parent's label: %q", shadow.LeafNodeLabels)
	}

	for filter, want := range map[string][]string{
		"technique:T1003": {"T1003.008 credential-access/cat-shadow [attack]: Read the password hashes."},
		"tactic:impact && benign": {
			"T1490 impact/status-rescue [benign]: Looking at the rescue target is not disabling it."},
	} {
		if got := ran(run(t, filter)); !slices.Equal(got, want) {
			t.Errorf("label filter %q ran %q, want %q", filter, got, want)
		}
	}
}
