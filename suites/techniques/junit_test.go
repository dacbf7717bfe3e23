package techniques

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

func spec(text string, state types.SpecState, outcome verdict.Outcome, message string) types.SpecReport {
	return types.SpecReport{
		LeafNodeType: types.NodeTypeIt, LeafNodeText: text, State: state,
		Failure:       types.Failure{Message: message},
		ReportEntries: types.ReportEntries{{Name: "verdict", Value: types.WrapEntryValue(string(outcome))}},
	}
}

// TestWriteJUnit: a rule failure stays a <failure>, an ERROR or
// INCONCLUSIVE verdict (a skipped spec) becomes an <error>, and the counts
// follow.
func TestWriteJUnit(t *testing.T) {
	report := types.Report{
		SuiteDescription: "attack-replay ATT&CK techniques",
		SpecReports: types.SpecReports{
			spec("passes", types.SpecStatePassed, verdict.Pass, ""),
			spec("fails", types.SpecStateFailed, verdict.Fail, "FAIL: the rules did not behave as the scenario says"),
			spec("errs", types.SpecStateSkipped, verdict.Error, "ERROR: the scenario could not emulate the technique; this says nothing about the rules\n\nsteps/1 exit 127"),
			spec("drops", types.SpecStateSkipped, verdict.Inconclusive, "INCONCLUSIVE: Falco dropped syscall events during the scenario; a missing alert proves nothing"),
			{LeafNodeType: types.NodeTypeIt, LeafNodeText: "filtered out", State: types.SpecStateSkipped},
		},
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := WriteJUnit(report, path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got reporters.JUnitTestSuites
	if err := xml.Unmarshal(b, &got); err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	s := got.TestSuites[0]
	if got.Errors != 2 || got.Failures != 1 || got.Disabled != 1 || s.Errors != 2 || s.Failures != 1 || s.Skipped != 1 {
		t.Errorf("counts: suites errors %d failures %d disabled %d; suite errors %d failures %d skipped %d",
			got.Errors, got.Failures, got.Disabled, s.Errors, s.Failures, s.Skipped)
	}
	byName := map[string]reporters.JUnitTestCase{}
	for _, tc := range s.TestCases {
		byName[strings.TrimPrefix(tc.Name, "[It] ")] = tc
	}
	if tc := byName["fails"]; tc.Failure == nil || tc.Error != nil {
		t.Errorf("a rule failure is not a <failure>: %+v", tc)
	}
	if tc := byName["errs"]; tc.Error == nil || tc.Skipped != nil || tc.Error.Type != "error" || tc.Status != "error" ||
		!strings.HasPrefix(tc.Error.Message, "ERROR: the scenario could not emulate") || !strings.Contains(tc.Error.Description, "exit 127") {
		t.Errorf("an ERROR verdict is not an <error>: %+v %+v", tc, tc.Error)
	}
	if tc := byName["drops"]; tc.Error == nil || tc.Error.Type != "inconclusive" {
		t.Errorf("an INCONCLUSIVE verdict is not an <error>: %+v", tc)
	}
	if tc := byName["filtered out"]; tc.Skipped == nil || tc.Error != nil {
		t.Errorf("a spec skipped by a filter changed: %+v", tc)
	}
}

func TestUnjudged(t *testing.T) {
	if msg := Unjudged([]verdict.Result{{ScenarioID: "a", Outcome: verdict.Pass}, {ScenarioID: "b", Outcome: verdict.Fail}}); msg != "" {
		t.Errorf("pass and fail are judged, got %q", msg)
	}
	msg := Unjudged([]verdict.Result{
		{ScenarioID: "a", Outcome: verdict.Pass},
		{ScenarioID: "b", Outcome: verdict.Error, Attempts: []verdict.Verdict{{Outcome: verdict.Error, Reason: "steps/1: command not found (exit 127)"}}},
		{ScenarioID: "c", Outcome: verdict.Inconclusive, Flaky: true, Attempts: []verdict.Verdict{{Outcome: verdict.Pass}, {Outcome: verdict.Inconclusive, Reason: "Falco dropped 12 events"}}},
	})
	for _, want := range []string{"2 of 3 scenarios could not be judged, so this run does not pass",
		"\n  ERROR b: steps/1: command not found (exit 127)", "\n  INCONCLUSIVE c: Falco dropped 12 events"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}
