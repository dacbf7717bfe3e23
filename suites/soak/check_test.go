package soak

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/attack-replay/attack-replay/harness/report"
)

// A check is one thing a run must have done about its fault.
type check func(res result) error

func all(checks ...check) check {
	return func(res result) error {
		var errs []error
		for _, c := range checks {
			if err := c(res); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// exits: the suite's exit status (go test's: 0 every spec passed, 1 any
// failure, an interrupt included).
func exits(code int) check {
	return func(res result) error {
		if res.exit != code {
			return fmt.Errorf("exit %d, want %d", res.exit, code)
		}
		return nil
	}
}

// hasReport: report.json was written and reads back.
func hasReport(res result) error {
	if res.report == nil {
		return fmt.Errorf("no readable report.json: %v", res.reportErr)
	}
	return nil
}

// counts: the report's pass, fail and error counts.
func counts(pass, fail, errs int) check {
	return func(res result) error {
		if err := hasReport(res); err != nil {
			return err
		}
		c := res.report.Summary.Counts
		if c.Pass != pass || c.Fail != fail || c.Error != errs {
			return fmt.Errorf("report counts pass %d fail %d error %d, want %d %d %d", c.Pass, c.Fail, c.Error, pass, fail, errs)
		}
		return nil
	}
}

// erred: at least n scenarios are errors (a scenario the fault hit before
// it started may be an error or not run at all).
func erred(n int) check {
	return func(res result) error {
		if err := hasReport(res); err != nil {
			return err
		}
		if c := res.report.Summary.Counts; c.Error < n || c.Pass+c.Error+c.Fail+c.Inconclusive+c.Skip != c.Scenarios {
			return fmt.Errorf("report counts %+v, want at least %d errors", c, n)
		}
		return nil
	}
}

// reasonHas: some scenario's reason says s.
func reasonHas(s string) check {
	return func(res result) error {
		if err := hasReport(res); err != nil {
			return err
		}
		for _, sc := range scenarios(res.report) {
			if strings.Contains(sc.Reason, s) {
				return nil
			}
		}
		return fmt.Errorf("no scenario's reason says %q", s)
	}
}

func scenarios(rep *report.Report) []report.Scenario {
	var out []report.Scenario
	for _, t := range rep.Techniques {
		out = append(out, t.Scenarios...)
	}
	return out
}

func reportUnder(size int64) check {
	return func(res result) error {
		if res.reportSize >= size {
			return fmt.Errorf("report.json is %d bytes, want under %d", res.reportSize, size)
		}
		return nil
	}
}

func outputHas(s string) check {
	return func(res result) error {
		if !strings.Contains(res.out, s) {
			return fmt.Errorf("output lacks %q", s)
		}
		return nil
	}
}

// interrupted: an interrupted run still writes its reports, or says why it
// has none (Falco had not started: there is nothing to report).
func interrupted(res result) error {
	if !strings.Contains(res.out, "Interrupted by User") && !strings.Contains(res.out, "interrupted") {
		return errors.New("output does not say the run was interrupted")
	}
	if res.report != nil {
		return nil
	}
	return fmt.Errorf("interrupted without report.json (%v)", res.reportErr)
}

// lateInterrupt: a SIGINT sent as the suite ends may land once it is done
// (teardown takes a second or less): then the run is a plain one (ended),
// else an interrupted one.
func lateInterrupt(ended, interruptedRun check) check {
	return func(res result) error {
		if !strings.Contains(res.out, "Interrupted by User") && !strings.Contains(res.out, "interrupted") {
			return ended(res)
		}
		return interruptedRun(res)
	}
}

// seedFromEnv is SOAK_SEED, or a new seed.
func seedFromEnv(t *testing.T) uint64 {
	if s := os.Getenv("SOAK_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SOAK_SEED=%q: want a non-negative integer, as a soak run prints it", s)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}
