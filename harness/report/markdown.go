package report

import (
	"fmt"
	"io"
	"strings"
)

// Bounds of report.md. GitHub caps a comment at 65 536 characters; the
// rest of the detail is in report.json.
const (
	// MaxMarkdownBytes bounds report.md, leaving room for a title or a diff
	// in the same comment.
	MaxMarkdownBytes = 60000
)

// WriteMarkdown writes report.md: a per-technique table, then each
// scenario that did not pass, bounded by MaxMarkdownBytes.
func (r *Report) WriteMarkdown(w io.Writer) error {
	_, err := io.WriteString(w, r.Markdown())
	if err != nil {
		return fmt.Errorf("write report markdown: %w", err)
	}
	return nil
}

// Markdown renders report.md.
func (r *Report) Markdown() string {
	b := &mdBuilder{limit: MaxMarkdownBytes}
	b.line("# attack-replay report")
	b.line("")
	if warn := r.dropsWarning(); warn != "" {
		b.line("> [!WARNING]")
		b.line("> **This run is not trustworthy.** " + MarkdownText(warn))
		b.line("")
	}
	if len(r.Meta.RunErrors) > 0 {
		b.line("> [!CAUTION]")
		b.line("> **The run itself failed** (scenarios it did not finish are errors):")
		for _, msg := range r.Meta.RunErrors {
			// The first line says what happened; the rest (Falco's last log lines) goes in a block.
			first, rest, _ := strings.Cut(msg, "\n")
			b.line("> - " + MarkdownText(first))
			if rest = strings.TrimSpace(rest); rest != "" {
				b.line(">   ~~~text")
				for _, l := range strings.Split(rest, "\n") {
					b.line(">   " + strings.ReplaceAll(l, "~~~", "~ ~ ~"))
				}
				b.line(">   ~~~")
			}
		}
		b.line("")
	}
	b.line("**" + r.headline() + "**")
	b.line("")
	b.line(r.metaLine())
	if files := r.rulesFilesLine(); files != "" {
		b.line("")
		b.line(files)
	}
	b.line("")

	// The Skip column shows only in runs that skipped a scenario.
	skips := r.Summary.Skip > 0
	head, rule, more := "| Technique | Name | Tactic | Scenarios | Pass | Fail | Error | Inconclusive | Flaky | p50 | p95 |",
		"|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|", "| | | | | | | | | | |"
	if skips {
		head, rule, more = strings.Replace(head, "| Flaky |", "| Skip | Flaky |", 1), rule+"--:|", more+" |"
	}
	b.line(head)
	b.line(rule)
	for i, t := range r.Techniques {
		skip := ""
		if skips {
			skip = fmt.Sprintf(" %d |", t.Counts.Skip)
		}
		row := fmt.Sprintf("| %s | %s | %s | %d | %d | %d | %d | %d |%s %d | %s | %s |",
			MarkdownText(t.ID), MarkdownText(t.Name), MarkdownText(t.Tactic), t.Counts.Scenarios, t.Counts.Pass, t.Counts.Fail,
			t.Counts.Error, t.Counts.Inconclusive, skip, t.Counts.Flaky, formatDuration(t.Latency.P50), formatDuration(t.Latency.P95))
		if !b.fits(row) {
			b.line(fmt.Sprintf("| … %d more techniques in report.json %s", len(r.Techniques)-i, more))
			break
		}
		b.line(row)
	}
	b.line("")
	b.line("Latency: step start to alert received, over the expected alerts that matched.")
	if cov := r.Coverage; cov != nil {
		b.line("")
		b.line(cov.summaryLine())
	}

	if failing := r.notPassing(); len(failing) > 0 {
		b.line("")
		b.line(fmt.Sprintf("## Not passing (%d)", len(failing)))
		for i, ref := range failing {
			section := scenarioMarkdown(ref.T, ref.S)
			if !b.fits(section) {
				b.line("")
				b.line(fmt.Sprintf("… %d more not-passing scenarios: see report.json or report.html.", len(failing)-i))
				break
			}
			b.WriteString(section)
		}
	}
	if skipped := r.skipped(); len(skipped) > 0 {
		b.line("")
		b.line(fmt.Sprintf("## Skipped: not run, untestable here (%d)", len(skipped)))
		b.line("")
		for i, ref := range skipped {
			line := fmt.Sprintf("- %s · %s %s · %s — %s", codeSpan(ref.S.ID), MarkdownText(ref.T.ID), MarkdownText(ref.T.Name),
				codeSpan(location(ref.S.File, ref.S.Line)), MarkdownText(truncate(ref.S.Skip, maxText)))
			if !b.fits(line) {
				b.line(fmt.Sprintf("- … %d more skipped scenarios: see report.json or report.html.", len(skipped)-i))
				break
			}
			b.line(line)
		}
	}
	return b.String()
}

func (r *Report) metaLine() string {
	var parts []string
	for _, f := range r.facts() {
		v := MarkdownText(f.Value)
		if f.Code {
			v = codeSpan(f.Value)
		}
		parts = append(parts, MarkdownText(f.Label)+": "+v)
	}
	return strings.Join(parts, " · ")
}

func (r *Report) rulesFilesLine() string {
	var files []string
	for _, f := range r.Meta.RulesFiles {
		files = append(files, codeSpan(f.Path)+" "+codeSpan(shortHash(f.SHA256)))
	}
	if len(files) == 0 {
		return ""
	}
	return "Rules files (sha256): " + strings.Join(files, ", ")
}

func scenarioMarkdown(t *Technique, s *Scenario) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	d := failureDetail(s)
	kind := ""
	if s.Benign {
		kind = " (benign)"
	}
	line("")
	line("### %s %s%s · %s %s", strings.ToUpper(s.Status()), codeSpan(s.ID), kind, MarkdownText(t.ID), MarkdownText(t.Name))
	var head []string
	if d.Where != "" {
		head = append(head, codeSpan(d.Where))
	}
	if d.Attempts != "" {
		head = append(head, d.Attempts)
	}
	if d.Reason != "" {
		head = append(head, MarkdownText(d.Reason))
	}
	if len(head) > 0 {
		line("")
		line("%s", strings.Join(head, " · "))
	}
	if d.Description != "" {
		line("")
		line("> %s", MarkdownText(d.Description))
	}
	for _, n := range d.Notes {
		line("")
		line("Note: %s", MarkdownText(n))
	}
	if !d.HasAttempt {
		return b.String()
	}
	if len(d.Expectations) > 0 {
		line("")
		line("**Expected**")
		for _, e := range d.Expectations {
			mark := "✓"
			if !e.OK {
				mark = "✗"
			}
			line("- %s %s — %s", mark, codeSpan(e.Matcher), MarkdownText(e.Why))
		}
	}
	if len(d.Forbidden) > 0 {
		line("")
		line("**Forbidden, but fired**")
		for _, f := range d.Forbidden {
			line("- ✗ %s — %s", codeSpan(f.Matcher), plural(f.Count, "alert"))
		}
		more(line, d.ForbiddenMore)
	}
	line("")
	if d.firedCount() == 0 {
		line("**What fired:** nothing during the steps (%s in other phases).", plural(d.AllAlerts, "alert"))
	} else {
		line("**What fired** during the steps (%d of the attempt's %s)", d.firedCount(), plural(d.AllAlerts, "alert"))
		for _, f := range d.Fired {
			line("- %s %s, step %d: %s", codeSpan(f.Rule), f.Priority, f.Step, codeSpan(f.Output))
		}
		more(line, d.FiredMore)
	}
	if len(d.NearMisses) > 0 {
		line("")
		line("**Near misses**")
		for _, n := range d.NearMisses {
			who := codeSpan(n.Rule)
			if n.Cmdline != "" {
				who += " (" + codeSpan(n.Cmdline) + ")"
			}
			line("- %s %s: want %s, got %s", who, codeSpan(n.Field), codeSpan(n.Want), codeSpan(n.Got))
		}
		more(line, d.NearMore)
	}
	if len(d.Steps) > 0 {
		line("")
		line("| Phase | # | Command | Exit | Time | Note |")
		line("|---|--:|---|--:|--:|---|")
		for _, st := range d.Steps {
			line("| %s | %d | %s | %d | %s | %s |", st.Phase, st.Index, CodeCell(st.Run), st.Exit, st.Time, CodeCell(st.Note))
		}
		if d.StepsMore > 0 {
			line("| … %d more steps | | | | | |", d.StepsMore)
		}
	}
	return b.String()
}

func more(line func(string, ...any), n int) {
	if n > 0 {
		line("- … %d more (see report.json)", n)
	}
}

type mdBuilder struct {
	strings.Builder
	limit int
}

// truncationRoom is kept free for the closing "… N more" line.
const truncationRoom = 200

func (b *mdBuilder) fits(s string) bool { return b.Len()+len(s)+truncationRoom <= b.limit }

func (b *mdBuilder) line(s string) { b.WriteString(s + "\n") }

// MarkdownText escapes the characters that would turn plain text into
// Markdown or HTML (GitHub renders inline HTML, so "<NA>" would vanish), and
// puts it on one line. The CLI's catalog escapes with it too.
func MarkdownText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '~', '&', '#':
			b.WriteByte('\\')
		case '\n', '\r', '\t':
			r = ' '
		}
		b.WriteRune(r)
	}
	return b.String()
}

// codeSpan wraps s in a code span whose fence is longer than any backtick
// run inside it, so commands and alert outputs show verbatim (and "@name"
// in them mentions nobody).
func codeSpan(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return ""
	}
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// CodeCell is s as a code span inside a table row, where GitHub splits
// cells on "|" even inside code unless it is escaped. Runs of white space
// become one space; an empty s is an empty cell.
func CodeCell(s string) string { return strings.ReplaceAll(codeSpan(s), "|", `\|`) }

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func valueOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
