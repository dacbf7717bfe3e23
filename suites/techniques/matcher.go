package techniques

import (
	"fmt"
	"strings"

	"github.com/onsi/gomega/types"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// HavePassed succeeds when every attempt of a scenario passed. Its failure
// message opens with what kind of non-pass it is, so an error (the scenario
// could not emulate the technique) or an inconclusive run (Falco dropped
// events) never reads like a rule failure, then gives verdict.FormatResult:
// missed expectations, near misses, every alert, step results, latency.
func HavePassed() types.GomegaMatcher { return passedMatcher{} }

type passedMatcher struct{}

func (passedMatcher) Match(actual any) (bool, error) {
	res, ok := actual.(verdict.Result)
	if !ok {
		return false, fmt.Errorf("HavePassed expects a verdict.Result, got %T", actual)
	}
	return res.Outcome == verdict.Pass && !res.Flaky, nil
}

func (passedMatcher) FailureMessage(actual any) string {
	res := actual.(verdict.Result)
	return Headline(res) + "\n\n" + strings.TrimRight(verdict.FormatResult(res), "\n")
}

func (passedMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("expected scenario %q not to pass, but it did", actual.(verdict.Result).ScenarioID)
}

// Headline is the first line of a non-passing spec's failure.
func Headline(res verdict.Result) string {
	prefix := ""
	if res.Flaky {
		prefix = fmt.Sprintf("FLAKY (%d attempts disagree), worst: ", len(res.Attempts))
	}
	switch res.Outcome {
	case verdict.Fail:
		return prefix + "FAIL: the rules did not behave as the scenario says"
	case verdict.Error:
		return prefix + "ERROR: the scenario could not emulate the technique; this says nothing about the rules"
	case verdict.Inconclusive:
		return prefix + "INCONCLUSIVE: Falco dropped syscall events during the scenario; a missing alert proves nothing"
	case verdict.Skip:
		return prefix + "SKIP: the scenario was not run; it proves nothing either way"
	}
	return prefix + "PASS"
}
