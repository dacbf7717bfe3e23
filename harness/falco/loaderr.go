package falco

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// LoadStatus is Falco's verdict on one rules file.
type LoadStatus string

// Statuses Falco prints ("<file>: Ok"), plus NotChecked for a file that
// followed an invalid one in a cumulative load: Falco repeats the earlier
// file's errors for it instead of checking it (samples/validate/json.out).
const (
	StatusOk           LoadStatus = "Ok"
	StatusOkWarnings   LoadStatus = "Ok, with warnings"
	StatusInvalid      LoadStatus = "Invalid"
	StatusNotChecked   LoadStatus = "Not checked"
	snippetSeparator              = "------"
	conditionExprQuote            = `"`
)

// Location is one link of the chain Falco prints to locate a rules error,
// from the file down to the faulty part:
//
//	In rules content: (rm_rf.yaml:0:0)
//	    rule 'Test rm -rf': (rm_rf.yaml:0:2)
//	    rule output: (rm_rf.yaml:3:10)
//
// Falco counts lines and columns from 0; Location counts them from 1, as
// editors do.
type Location struct {
	ItemType string // "rules content", "rule", "macro", "rule condition", "condition expression", "value for"…
	ItemName string // rule, macro or list name; "" for parts of an item
	// File is the rules file; for a condition expression Falco names a
	// quoted excerpt of the condition instead (`"evt.type = execve..."`).
	File   string
	Line   int // 1-based
	Column int // 1-based
}

// InFile reports whether the location points into a file (not into a
// condition excerpt).
func (l Location) InFile() bool { return !strings.HasPrefix(l.File, conditionExprQuote) }

func (l Location) describe() string {
	if l.ItemName != "" {
		return fmt.Sprintf("%s '%s'", l.ItemType, l.ItemName)
	}
	return l.ItemType
}

// LoadMessage is one error or warning of a rules file.
type LoadMessage struct {
	Code      string // LOAD_ERR_COMPILE_CONDITION, LOAD_NO_EVTTYPE…
	CodeDesc  string // Falco's description of the code
	Message   string
	Locations []Location
	Snippet   string // the faulty line with a caret under the position
}

// Position is the innermost location inside a file: where an editor should
// jump. The zero Location when Falco gave none.
func (m LoadMessage) Position() Location {
	for i := len(m.Locations) - 1; i >= 0; i-- {
		if m.Locations[i].InFile() {
			return m.Locations[i]
		}
	}
	return Location{}
}

// Item names the rule, macro or list the message is about ("rule 'X'"), or
// "" when Falco named none.
func (m LoadMessage) Item() string {
	for i := len(m.Locations) - 1; i >= 0; i-- {
		if m.Locations[i].ItemName != "" {
			return m.Locations[i].describe()
		}
	}
	return ""
}

// String renders the message the way Falco prints it, with 1-based
// positions.
func (m LoadMessage) String() string {
	var b strings.Builder
	for i, l := range m.Locations {
		prefix := "    "
		if i == 0 {
			prefix = "In "
		}
		fmt.Fprintf(&b, "%s%s: (%s:%d:%d)\n", prefix, l.describe(), l.File, l.Line, l.Column)
	}
	if m.Snippet != "" {
		b.WriteString(snippetSeparator + "\n")
		b.WriteString(strings.TrimRight(m.Snippet, "\n") + "\n")
		b.WriteString(snippetSeparator + "\n")
	}
	fmt.Fprintf(&b, "%s (%s): %s", m.Code, m.CodeDesc, m.Message)
	return b.String()
}

// LoadResult is Falco's verdict on one rules file.
type LoadResult struct {
	File           string
	Status         LoadStatus
	Errors         []LoadMessage
	Warnings       []LoadMessage
	SchemaWarnings []string
}

// RulesError is a rules file Falco refused to load. Its fields describe the
// first error (positions 1-based); All holds every error of every file.
type RulesError struct {
	File     string
	Line     int
	Column   int
	Code     string
	CodeDesc string
	Message  string
	Item     string // "rule 'X'", "" when Falco named none
	Snippet  string
	All      []LoadMessage
	Results  []LoadResult // every file's verdict, as far as Falco got
}

// Error reads like Falco's own report, led by a "file:line:col:" line that
// editors and CI annotations understand.
func (e *RulesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid rules file %q: %s:%d:%d: ", e.File, e.File, e.Line, e.Column)
	if e.Item != "" {
		b.WriteString(e.Item + ": ")
	}
	fmt.Fprintf(&b, "%s (%s): %s", e.Code, e.CodeDesc, e.Message)
	for i, m := range e.All {
		if i == 0 {
			b.WriteString("\n" + m.String())
			continue
		}
		fmt.Fprintf(&b, "\n\nerror %d of %d:\n%s", i+1, len(e.All), m.String())
	}
	return b.String()
}

// rulesError builds the error for results, or returns nil when no file is
// invalid.
func rulesError(results []LoadResult) *RulesError {
	var all []LoadMessage
	for _, r := range results {
		if r.Status == StatusInvalid {
			all = append(all, r.Errors...)
		}
	}
	if len(all) == 0 {
		for _, r := range results {
			if r.Status == StatusInvalid {
				// Invalid with no parsed message: still an error.
				return &RulesError{File: r.File, Message: "falco reported the file invalid without details", Results: results}
			}
		}
		return nil
	}
	first := all[0]
	pos := first.Position()
	file := pos.File
	if file == "" {
		for _, r := range results {
			if r.Status == StatusInvalid {
				file = r.File
				break
			}
		}
	}
	return &RulesError{
		File: file, Line: pos.Line, Column: pos.Column,
		Code: first.Code, CodeDesc: first.CodeDesc, Message: first.Message,
		Item: first.Item(), Snippet: first.Snippet,
		All: all, Results: results,
	}
}

// mapFiles rewrites every file name with f (container paths to host paths).
func mapFiles(results []LoadResult, f func(string) string) {
	for i := range results {
		r := &results[i]
		r.File = f(r.File)
		for _, msgs := range [][]LoadMessage{r.Errors, r.Warnings} {
			for j := range msgs {
				for k := range msgs[j].Locations {
					if msgs[j].Locations[k].InFile() {
						msgs[j].Locations[k].File = f(msgs[j].Locations[k].File)
					}
				}
			}
		}
	}
}

// dropEchoes removes, from each result, messages located in another file:
// in a cumulative load (several -V, or one start) Falco repeats an earlier
// file's errors under every later file (samples/validate/json.out). A file
// left with nothing but echoed errors was not checked.
func dropEchoes(results []LoadResult) {
	for i := range results {
		r := &results[i]
		keep := func(msgs []LoadMessage) []LoadMessage {
			var out []LoadMessage
			for _, m := range msgs {
				if p := m.Position(); p.File == "" || p.File == r.File {
					out = append(out, m)
				}
			}
			return out
		}
		hadErrors := len(r.Errors) > 0
		r.Errors, r.Warnings = keep(r.Errors), keep(r.Warnings)
		if r.Status == StatusInvalid && hadErrors && len(r.Errors) == 0 {
			r.Status = StatusNotChecked
		}
	}
}

// JSON shape of `falco -V … -o json_output=true` (samples/validate/json.out,
// jw.out, jy.out; userspace/engine/falco_load_result.h).
type jsonLoadResults struct {
	Results []struct {
		Name           string            `json:"name"`
		Successful     bool              `json:"successful"`
		Errors         []jsonLoadMessage `json:"errors"`
		Warnings       []jsonLoadMessage `json:"warnings"`
		SchemaWarnings []json.RawMessage `json:"schema_warnings"`
	} `json:"falco_load_results"`
}

type jsonLoadMessage struct {
	Code     string `json:"code"`
	CodeDesc string `json:"codedesc"`
	Message  string `json:"message"`
	Context  struct {
		Locations []struct {
			ItemName string `json:"item_name"`
			ItemType string `json:"item_type"`
			Position struct {
				Name   string `json:"name"`
				Line   int    `json:"line"`
				Column int    `json:"column"`
			} `json:"position"`
		} `json:"locations"`
		Snippet string `json:"snippet"`
	} `json:"context"`
}

// ParseLoadJSON reads Falco's JSON load results (stdout of `falco -V FILE
// -o json_output=true`). Positions become 1-based.
func ParseLoadJSON(b []byte) ([]LoadResult, error) {
	var doc jsonLoadResults
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse falco load results: %w (want the JSON of `falco -V FILE -o json_output=true`)", err)
	}
	if doc.Results == nil {
		return nil, fmt.Errorf("parse falco load results: no falco_load_results in %q", firstLines(string(b), 2))
	}
	conv := func(in []jsonLoadMessage) []LoadMessage {
		var out []LoadMessage
		for _, m := range in {
			lm := LoadMessage{Code: m.Code, CodeDesc: m.CodeDesc, Message: m.Message, Snippet: m.Context.Snippet}
			for _, l := range m.Context.Locations {
				lm.Locations = append(lm.Locations, Location{
					ItemType: l.ItemType, ItemName: l.ItemName, File: l.Position.Name,
					Line: l.Position.Line + 1, Column: l.Position.Column + 1,
				})
			}
			out = append(out, lm)
		}
		return out
	}
	results := make([]LoadResult, 0, len(doc.Results))
	for _, r := range doc.Results {
		lr := LoadResult{File: r.Name, Errors: conv(r.Errors), Warnings: conv(r.Warnings)}
		switch {
		case !r.Successful:
			lr.Status = StatusInvalid
		case len(r.Warnings) > 0:
			lr.Status = StatusOkWarnings
		default:
			lr.Status = StatusOk
		}
		for _, w := range r.SchemaWarnings {
			var s string
			if json.Unmarshal(w, &s) != nil {
				s = string(w)
			}
			lr.SchemaWarnings = append(lr.SchemaWarnings, s)
		}
		results = append(results, lr)
	}
	return results, nil
}

var (
	// "Error: /v/x.yaml: Invalid", "/v/x.yaml: Ok", "/v/x.yaml: Ok, with warnings".
	loadHeaderRE = regexp.MustCompile(`^(?:Error: )?(.+): (Ok|Ok, with warnings|Invalid)$`)
	// "1 Errors:", "2 Warnings:", "2 Schema warnings:".
	loadSectionRE = regexp.MustCompile(`^(\d+) (Errors|Warnings|Schema warnings):$`)
	// "    rule 'X': (/v/x.yaml:0:2)"; the first one starts with "In ".
	loadLocationRE = regexp.MustCompile(`^\s*(?:In )?(.+?): \((.*):(\d+):(\d+)\)$`)
	// "LOAD_ERR_VALIDATE (Error validating …): Undefined macro …".
	loadCodeRE = regexp.MustCompile(`^([A-Z][A-Z0-9_]+) \((.*?)\): (.*)$`)
	// "rule 'Test rm -rf'" → type, name.
	itemRE = regexp.MustCompile(`^(.+?) '(.*)'$`)
)

// ParseLoadText reads Falco's text load report: stdout of `falco -V FILE`,
// or the rules block of Falco's start-up log (the "Error: <file>: Invalid"
// block of samples/logs/start-fails-invalid-rules-0.43.1.stderr, or the
// warnings of err43c). Other log lines are skipped. Positions become
// 1-based.
func ParseLoadText(text string) []LoadResult {
	p := textParser{}
	for _, raw := range strings.Split(text, "\n") {
		p.line(strings.TrimRight(raw, "\r"))
	}
	p.endMessage()
	return p.results
}

type textParser struct {
	results []LoadResult
	section string // "Errors", "Warnings", "Schema warnings", "" outside
	state   int    // within a message: 0 locations, 1 snippet, 2 after snippet, 3 message text
	msg     *LoadMessage
	snippet []string
	schema  []string
}

func (p *textParser) cur() *LoadResult {
	if len(p.results) == 0 {
		return nil
	}
	return &p.results[len(p.results)-1]
}

func (p *textParser) line(raw string) {
	// Snippet lines are verbatim, timestamps and all.
	if p.msg != nil && p.state == 1 {
		if raw == snippetSeparator {
			p.msg.Snippet = strings.Join(p.snippet, "\n") + "\n"
			p.snippet, p.state = nil, 2
			return
		}
		p.snippet = append(p.snippet, raw)
		return
	}
	line := stripLogTimestamp(raw)
	if m := loadHeaderRE.FindStringSubmatch(line); m != nil {
		p.endMessage()
		p.section = ""
		p.results = append(p.results, LoadResult{File: m[1], Status: LoadStatus(m[2])})
		return
	}
	if m := loadSectionRE.FindStringSubmatch(line); m != nil && p.cur() != nil {
		p.endMessage()
		p.section = m[2]
		return
	}
	switch p.section {
	case "Errors", "Warnings":
		p.messageLine(line)
	case "Schema warnings":
		switch {
		case line == snippetSeparator:
			if len(p.schema) > 0 {
				r := p.cur()
				r.SchemaWarnings = append(r.SchemaWarnings, strings.Join(p.schema, "\n"))
				p.schema = nil
			}
		case strings.TrimSpace(line) == "":
			p.section = ""
		default:
			p.schema = append(p.schema, line)
		}
	}
}

func (p *textParser) messageLine(line string) {
	startsMessage := strings.HasPrefix(strings.TrimSpace(line), "In ")
	if m := loadLocationRE.FindStringSubmatch(line); m != nil && ((p.msg == nil && startsMessage) || (p.msg != nil && p.state == 0) || (p.state == 3 && startsMessage)) {
		if p.msg != nil && p.state == 3 {
			p.endMessage()
		}
		if p.msg == nil {
			p.msg = &LoadMessage{}
			p.state = 0
		}
		l := Location{ItemType: m[1], File: m[2]}
		if im := itemRE.FindStringSubmatch(m[1]); im != nil {
			l.ItemType, l.ItemName = im[1], im[2]
		}
		l.Line, _ = strconv.Atoi(m[3])
		l.Column, _ = strconv.Atoi(m[4])
		l.Line++
		l.Column++
		p.msg.Locations = append(p.msg.Locations, l)
		return
	}
	if p.msg == nil {
		// Between messages only a blank line may come: anything else
		// ends the report (Falco goes on logging).
		if strings.TrimSpace(line) != "" {
			p.section = ""
		}
		return
	}
	switch p.state {
	case 0:
		if line == snippetSeparator {
			p.state = 1
			return
		}
		p.codeLine(line)
	case 2:
		p.codeLine(line)
	case 3:
		if strings.TrimSpace(line) == "" {
			p.endMessage()
			return
		}
		p.msg.Message += "\n" + line
	}
}

func (p *textParser) codeLine(line string) {
	if m := loadCodeRE.FindStringSubmatch(line); m != nil {
		p.msg.Code, p.msg.CodeDesc, p.msg.Message = m[1], m[2], m[3]
		p.state = 3
	}
}

func (p *textParser) endMessage() {
	if p.msg == nil {
		return
	}
	if r := p.cur(); r != nil && p.msg.Code != "" {
		if p.section == "Warnings" {
			r.Warnings = append(r.Warnings, *p.msg)
		} else {
			r.Errors = append(r.Errors, *p.msg)
		}
	}
	p.msg, p.snippet, p.state = nil, nil, 0
}
