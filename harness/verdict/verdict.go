package verdict

import (
	"time"

	"github.com/attack-replay/attack-replay/harness/alert"
	"github.com/attack-replay/attack-replay/harness/scenario"
)

// Outcome is the result of one scenario attempt.
type Outcome string

// Outcomes. Summarise ranks them pass < skip < inconclusive < error < fail: a
// fail is the only outcome that says the rules misbehave, so a flaky scenario
// must never hide it behind an error or an inconclusive attempt, and a skip
// is never a pass.
const (
	Pass Outcome = "pass"
	// Fail: the rules did not behave as the scenario says (an expected alert
	// missing or too many, a forbidden alert fired).
	Fail Outcome = "fail"
	// Error: the scenario could not emulate the technique (victim did not
	// start or could not be given its shape, a step's command was missing
	// (126/127) or timed out or ended with another exit status than the
	// scenario says, setup failed, the barrier never arrived, Falco died).
	// Says nothing about the rules.
	Error Outcome = "error"
	// Skip: the scenario says it cannot run here (skip: "<reason>"), so it
	// was not run. Never a pass: nothing was proven.
	Skip Outcome = "skip"
	// Inconclusive: Falco dropped syscall events during the attempt, so a
	// missing alert proves nothing.
	Inconclusive Outcome = "inconclusive"
)

// Verdict is the judged result of one attempt of one scenario.
type Verdict struct {
	ScenarioID string
	Technique  string
	Tactic     string
	Benign     bool
	File       string
	Line       int
	Attempt    int // 1-based, see Result

	Outcome Outcome
	Reason  string // one line: why this outcome

	Expectations []ExpectationResult
	Forbidden    []ForbiddenHit     // forbid matchers that matched, with the alerts
	NearMisses   []NearMiss         // alerts of an expected rule that failed another criterion
	Alerts       []alert.Attributed // every alert of the attempt, all phases, arrival order
	// Judged is how many of Alerts were recorded when the verdict was made
	// (at the barrier); later ones (cleanup, stragglers) are listed only.
	Judged    int
	Steps     []StepResult // setup, steps, cleanup, in execution order
	Latencies []Latency    // one per matched expected alert
	Timings   Timings
	Drops     int64 // syscall drops Falco reported during the attempt
	VictimID  string
	// Notes are what a reader must know about the attempt that does not
	// change its outcome: a privileged victim the engine refused, run with
	// the widest capability set instead.
	Notes []string
}

// ExpectationResult says how one expect matcher fared.
type ExpectationResult struct {
	Matcher scenario.Matcher
	Count   int   // alerts of the steps phase that matched
	Matched []int // indexes into Verdict.Alerts
	OK      bool
	Problem string // why not OK: "no alert matched", "3 alerts matched, at most 1 allowed"
}

// ForbiddenHit is a forbid matcher that matched.
type ForbiddenHit struct {
	Matcher scenario.Matcher
	Matched []int // indexes into Verdict.Alerts
	// Others marks a candidate rule that fired but no expect matcher names,
	// forbidden by the scenario's forbid_others (Matcher names the rule).
	Others bool
}

// NearMiss is an alert of an expected rule that differed in one criterion.
type NearMiss struct {
	Expectation int // index into Verdict.Expectations
	Alert       int // index into Verdict.Alerts
	Field       string
	Want        string // e.g. `equals "systemctl"`
	Got         string
	Missing     bool // the alert has no such field (Got is empty)
}

// StepResult is what one step did: an exec, or a sleep.
type StepResult struct {
	Phase alert.Phase
	Index int // 1-based within its phase
	Run   string
	Argv  []string      // an exec step's argv (Run is then empty)
	Sleep time.Duration // a sleep step's wait (nothing was exec'd)
	TTY   bool
	User  string
	// ExpectExit are the exit statuses the scenario says the step ends with
	// (scenario.Step.Exit); nil: any but 126 and 127, in setup only 0.
	ExpectExit []int
	ExitCode   int // -1 when the process did not exit by itself (killed on timeout)
	Stdout     string
	Stderr     string // tails, bounded
	Start      time.Time
	Duration   time.Duration
	TimedOut   bool
	Err        string // exec could not be done at all
}

// Command names what the step ran, as the scenario file wrote it.
func (s StepResult) Command() string { return scenario.CommandText(s.Run, s.Argv, s.Sleep) }

// Latency of one matched expected alert.
type Latency struct {
	Rule      string
	Step      int           // step whose exec caused the alert (0 when unknown)
	Detection time.Duration // step start -> Falco's event time
	Delivery  time.Duration // event time -> received by the harness
}

// Timings of the phases of one attempt.
type Timings struct {
	Start        time.Time
	VictimStart  time.Duration
	Setup        time.Duration
	Steps        time.Duration
	Barrier      time.Duration
	Cleanup      time.Duration
	VictimRemove time.Duration
	Total        time.Duration
}

// Result gathers the attempts of one scenario (several with --repeat).
type Result struct {
	ScenarioID string
	Attempts   []Verdict
	// Outcome is the outcome shared by every attempt, or the worst one when
	// they differ (then Flaky is true).
	Outcome Outcome
	Flaky   bool
}
