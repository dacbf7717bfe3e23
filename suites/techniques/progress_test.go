package techniques

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// TestProgressNumbersEachLineOnce reports results from many goroutines at
// once (run with -race): every n from 1 to N appears exactly once, in
// order, and the counts of the last line are the totals.
func TestProgressNumbersEachLineOnce(t *testing.T) {
	const total = 200
	var out bytes.Buffer
	p := NewProgress(&out, total)
	var wg sync.WaitGroup
	for i := range total {
		outcome := verdict.Pass
		switch i % 10 {
		case 3:
			outcome = verdict.Fail
		case 7:
			outcome = verdict.Error
		}
		wg.Go(func() { p.Report(verdict.Result{ScenarioID: fmt.Sprintf("s-%d", i), Outcome: outcome}) })
	}
	wg.Wait()

	line := regexp.MustCompile(`^attack-replay: \[(\d+)/200\] (pass|fail|error) s-\d+ — (\d+) failed, (\d+) errors so far$`)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != total {
		t.Fatalf("%d lines, want %d", len(lines), total)
	}
	for i, l := range lines {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %d malformed: %q", i+1, l)
		}
		if n, _ := strconv.Atoi(m[1]); n != i+1 {
			t.Fatalf("line %d is numbered %d: %q", i+1, n, l)
		}
	}
	if last := lines[total-1]; !strings.HasSuffix(last, "— 20 failed, 20 errors so far") {
		t.Errorf("last line %q, want 20 failed and 20 errors", last)
	}
}
