package techniques

import (
	"fmt"
	"io"
	"sync"

	"github.com/attack-replay/attack-replay/harness/verdict"
)

// Progress prints one line per verdict as the specs report them:
// "[12/73] pass systemctl-disable-rescue — 0 failed, 0 errors so far". The
// number is the line's own, taken under the same lock as the printing, so
// each n appears once and in order. (Counting finished scenarios instead
// numbers by the runner, which runs ahead of the specs: two specs could
// read the same count and print it twice.)
type Progress struct {
	w     io.Writer
	total int

	mu                   sync.Mutex
	done, failed, errors int
}

// NewProgress prints on w for a run of total scenarios.
func NewProgress(w io.Writer, total int) *Progress { return &Progress{w: w, total: total} }

// Report prints the line for one scenario's result.
func (p *Progress) Report(res verdict.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	switch res.Outcome {
	case verdict.Fail:
		p.failed++
	case verdict.Error:
		p.errors++
	}
	fmt.Fprintf(p.w, "attack-replay: [%d/%d] %s %s — %d failed, %d errors so far\n",
		p.done, p.total, res.Outcome, res.ScenarioID, p.failed, p.errors)
}
