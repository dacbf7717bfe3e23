package doctor

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Widths the table wraps DETAIL and FIX at, so a row fits a terminal of about 130 columns.
const (
	detailWidth = 58
	fixWidth    = 50
)

// Table writes the report as an aligned table (CHECK, STATUS, DETAIL, FIX), details and fixes
// wrapped in their columns, and its summary.
func (r *Report) Table(w io.Writer) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL\tFIX")
	for _, c := range r.Checks {
		detail, fix := wrap(c.Detail, detailWidth), wrap(c.Fix, fixWidth)
		for i := range max(len(detail), len(fix)) {
			id, status := "", ""
			if i == 0 {
				id, status = c.ID, string(c.Status)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", id, status, line(detail, i), line(fix, i))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// tabwriter pads the last column too; a row without a fix ends at its detail.
	for row := range strings.Lines(b.String()) {
		if _, err := fmt.Fprintln(w, strings.TrimRight(row, " \n")); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, "\n"+r.Summary())
	return err
}

// JSON writes the report as one indented JSON document (README: attack-replay doctor).
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Summary counts the verdicts and says what they mean for a run.
func (r *Report) Summary() string {
	count := map[Status]int{}
	for _, c := range r.Checks {
		count[c.Status]++
	}
	var parts []string
	for _, s := range []Status{StatusOK, StatusWarn, StatusFail, StatusSkip} {
		if count[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	s := strings.Join(parts, ", ") + ": "
	switch {
	case count[StatusFail] > 0:
		failed, verb := r.Failed(), "is"
		if len(failed) > 1 {
			verb = "are"
		}
		return s + "`make test-rules` will not start here until " + strings.Join(failed, ", ") + " " + verb + " fixed"
	case count[StatusWarn] > 0:
		return s + "`make test-rules` can start here; read the warnings"
	}
	return s + "ready for `make test-rules`"
}

// wrap breaks s into lines of at most width characters at spaces; a longer word keeps a line
// of its own.
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(s) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return ""
}
