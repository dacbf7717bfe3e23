package falco

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// logTimestampRE matches the prefix Falco puts on its log lines: ctime
// ("Wed Nov 25 20:44:17 2026: ", samples/logs) or, with
// time_format_iso_8601, an ISO 8601 time.
var logTimestampRE = regexp.MustCompile(`^(?:[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}|\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?): `)

// stripLogTimestamp removes Falco's log timestamp from line, if any.
func stripLogTimestamp(line string) string {
	if loc := logTimestampRE.FindStringIndex(line); loc != nil {
		return line[loc[1]:]
	}
	return line
}

// logBuffer keeps the last lines Falco wrote to stdout and stderr, and
// watches them for the facts the harness needs (drop reports).
type logBuffer struct {
	max int

	mu    sync.Mutex
	lines []string
	drops dropLog
}

func newLogBuffer(max int) *logBuffer { return &logBuffer{max: max} }

// consume reads r line by line until it ends. JSON lines are alerts (stdout
// output, when enabled): they reach the harness through the transport and
// would only push Falco's own messages out of the buffer, so they are
// skipped.
func (b *logBuffer) consume(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "{") {
			continue
		}
		b.add(line)
	}
}

func (b *logBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.drops.observe(stripLogTimestamp(line))
	if len(b.lines) == b.max {
		copy(b.lines, b.lines[1:])
		b.lines = b.lines[:len(b.lines)-1]
	}
	b.lines = append(b.lines, line)
}

// tail returns the last n lines (all when n <= 0).
func (b *logBuffer) tail(n int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n <= 0 || n > len(b.lines) {
		n = len(b.lines)
	}
	return append([]string(nil), b.lines[len(b.lines)-n:]...)
}

func (b *logBuffer) dropLog() dropLog {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.drops
}

// DropAlertRule is the rule name of Falco's internal drop alert
// (userspace/falco/event_drops.cpp: "Falco internal: syscall event drop",
// priority DEBUG, source "internal", output_fields n_drops… as strings).
const DropAlertRule = "Falco internal: syscall event drop"

var (
	// "Falco internal: syscall event drop. 177560 system calls dropped in
	// last second." — the log action (logged at DEBUG level since 0.3x).
	dropLogRE = regexp.MustCompile(`^` + regexp.QuoteMeta(DropAlertRule) + `\. (\d+) system calls dropped`)
	// Exit summary on stderr (samples/logs/start-and-stop-0.40.0.stderr):
	//   Syscall event drop monitoring:
	//      - event drop detected: 0 occurrences
	//      - num times actions taken: 0
	dropSummaryRE = regexp.MustCompile(`^\s*- event drop detected: (\d+) occurrences`)
)

// dropLog is what Falco's logs said about dropped syscall events.
type dropLog struct {
	reports    int64 // drop log lines (one per second with drops)
	dropped    int64 // events those lines counted
	summary    int64 // occurrences in the exit summary
	hasSummary bool
}

func (d *dropLog) observe(line string) {
	if m := dropLogRE.FindStringSubmatch(line); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		d.reports++
		d.dropped += n
		return
	}
	if m := dropSummaryRE.FindStringSubmatch(line); m != nil {
		d.summary, _ = strconv.ParseInt(m[1], 10, 64)
		d.hasSummary = true
	}
}
