package techniques

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// WriteJUnit writes Ginkgo's JUnit report of the run to path, with the
// scenarios that could not be judged (ERROR and INCONCLUSIVE verdicts,
// skipped specs in Ginkgo's terms) as <error> test cases: JUnit's element
// for a test that could not run as meant, apart from a rule's <failure>.
// A spec's verdict is read from its "verdict" report entry.
func WriteJUnit(report types.Report, path string) error {
	if err := reporters.GenerateJUnitReportWithConfig(report, path, reporters.JunitReportConfig{}); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	var suites reporters.JUnitTestSuites
	if err := xml.Unmarshal(b, &suites); err != nil {
		return fmt.Errorf("write junit report: decode %s: %w", path, err)
	}
	for i := range suites.TestSuites {
		s := &suites.TestSuites[i]
		for j := range s.TestCases {
			tc := &s.TestCases[j]
			outcome := junitVerdict(tc)
			if tc.Skipped == nil || (outcome != verdict.Error && outcome != verdict.Inconclusive) {
				continue
			}
			msg := strings.TrimPrefix(tc.Skipped.Message, "skipped - ")
			headline, _, _ := strings.Cut(msg, "\n")
			tc.Error = &reporters.JUnitError{Message: headline, Type: string(outcome), Description: msg}
			tc.Skipped = nil
			tc.Status = string(outcome)
			s.Skipped--
			s.Errors++
			suites.Disabled--
			suites.Errors++
		}
	}
	out, err := xml.MarshalIndent(suites, "", "  ")
	if err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(out, '\n')...), 0o644); err != nil {
		return fmt.Errorf("write junit report: %w", err)
	}
	return nil
}

// junitVerdict is the outcome a test case's "verdict" property holds, or "".
func junitVerdict(tc *reporters.JUnitTestCase) verdict.Outcome {
	if tc.Properties == nil {
		return ""
	}
	var v string
	if json.Unmarshal([]byte(tc.Properties.WithName("verdict")), &v) != nil {
		return ""
	}
	return verdict.Outcome(v)
}

// Judged reports whether a result says something about the rules: pass or
// fail. An error or inconclusive result does not (the scenario could not
// emulate the technique, or Falco dropped events); its spec is skipped, so
// Ginkgo never lists it as a rule failure, and Unjudged fails the run. A
// skip verdict (a scenario marked skip: with its reason) is not judged
// either, but it was never meant to run: Unjudged leaves it out.
func Judged(res verdict.Result) bool {
	return res.Outcome == verdict.Pass || res.Outcome == verdict.Fail
}

// Unjudged says which results could not be judged, one line each with the
// reason, for the failure that keeps such a run from passing; "" when all
// could be.
func Unjudged(results []verdict.Result) string {
	var lines []string
	for _, r := range results {
		if Judged(r) || r.Outcome == verdict.Skip {
			continue
		}
		reason := ""
		for _, a := range r.Attempts {
			if a.Outcome == r.Outcome {
				reason = a.Reason
				break
			}
		}
		lines = append(lines, fmt.Sprintf("  %s %s: %s", strings.ToUpper(string(r.Outcome)), r.ScenarioID, reason))
	}
	if len(lines) == 0 {
		return ""
	}
	return fmt.Sprintf("%d of %d scenarios could not be judged, so this run does not pass (an error or inconclusive verdict says nothing about the rules; report.md has the detail):\n%s",
		len(lines), len(results), strings.Join(lines, "\n"))
}
