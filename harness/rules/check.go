package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/condition"
)

// Falco's load-result codes (falco_load_result.h) of the problems Check
// finds, as `falco -V` prints them.
const (
	CodeCompileCondition = "LOAD_ERR_COMPILE_CONDITION"
	CodeCompileOutput    = "LOAD_ERR_COMPILE_OUTPUT"
	CodeValidate         = "LOAD_ERR_VALIDATE"
)

// Check finds what Falco refuses only once every rules file is loaded and
// compiled, without a Falco: a condition that does not parse, a name that
// is neither a macro nor a list, a field the syscall source does not have,
// an output token that names no field. Every problem points at the
// condition or output text in its YAML file and says what to do; each is
// reported once, where it is (a macro's problem at the macro, not at every
// rule that uses it). Warnings (Problem.Warning) are what Falco accepts but
// would not do what the author meant, or what it checks only in cases this
// load cannot see.
//
// Names are resolved the way Falco's rule loader does after reading all
// files (rule_loader_collector.cpp, rule_loader_compiler.cpp): a rule sees
// every macro and list of every file; a macro sees only the macros defined
// before its last definition or append; a list name anywhere in a
// condition is replaced by the list's items as text (resolve_list), so
// outside parentheses it parses only when the list has one item. A word in
// `in (...)` that names no list is left as it is: the parser reads it as a
// plain string, so it is a value, not an error.
//
// Fields are checked against condition.SyscallFields for rules of source
// syscall, and for macros the syscall rules use. Rules of other sources
// are checked as warnings only: Falco skips them unless a plugin for their
// source is loaded, and this check has no table of plugin fields.
//
// Not checked (Falco still is): the exceptions Falco adds to a condition,
// event type names (evt.type = exceve), and syntax newer than the Falco that
// will run the rules (join() is recent, list modifiers need 0.44).
func (x *Index) Check() []Problem {
	c := &checker{x: x, fields: condition.SyscallFields(), macros: map[*Macro]*macroCheck{}}
	for _, m := range x.macros {
		c.macro(m)
	}
	for _, r := range x.rules {
		c.rule(r)
	}
	for _, m := range x.macros {
		// Falco checks a macro's fields in the rules that use it: one
		// that no syscall rule checks gets warnings, or nothing when only
		// rules of other sources use it.
		mc := c.macros[m]
		why := ""
		switch {
		case mc.tree == nil || mc.usedBySyscall:
		case mc.usedBySkipping:
			why = "only rules with skip-if-unknown-filter: true use this macro, and Falco skips them"
		case !mc.used:
			why = "no rule uses this macro yet, so Falco does not check its fields"
		}
		if why != "" {
			c.fieldProblems(mc.tree, m.cond, fmt.Sprintf("macro %q", m.Name), true, why)
		}
	}
	sortProblems(c.out)
	return c.out
}

type checker struct {
	x      *Index
	fields *condition.FieldTable
	macros map[*Macro]*macroCheck
	out    []Problem
}

// macroCheck is what checking a macro found.
type macroCheck struct {
	tree          condition.Expr // nil when it does not parse
	uses          []*Macro       // the macros it names that it may use
	used          bool           // some rule uses it
	usedBySyscall bool           // some syscall rule uses it: its fields are checked there
	// usedBySkipping: syscall rules with skip-if-unknown-filter use it.
	usedBySkipping bool
}

// finding is one problem Check found, before it is placed.
type finding struct {
	subject string
	code    string // Falco's code, shown last as [CODE]
	warning bool
	what    string   // what is wrong
	hints   []string // what to do, shown in parentheses
	missing string   // Problem.Missing
}

// add places f at offset off of the text in parts.
func (c *checker) add(parts textParts, off int, f finding) {
	msg := f.what
	if hints := slices.DeleteFunc(f.hints, func(h string) bool { return h == "" }); len(hints) > 0 {
		msg += " (" + strings.Join(hints, "; ") + ")"
	}
	if f.code != "" {
		msg += " [" + f.code + "]"
	}
	c.out = append(c.out, Problem{Pos: parts.position(off), Subject: f.subject, Code: f.code, Warning: f.warning, Msg: msg, Missing: f.missing})
}

// parse parses a condition, reporting a syntax error.
func (c *checker) parse(text string, parts textParts, subject string, warning bool) condition.Expr {
	e, err := condition.Parse(text)
	var se *condition.SyntaxError
	if errors.As(err, &se) {
		c.add(parts, se.Offset, finding{subject: subject, code: CodeCompileCondition, warning: warning,
			what: "condition does not parse: " + se.Msg})
		return nil
	}
	return e
}

func (c *checker) macro(m *Macro) {
	subject := fmt.Sprintf("macro %q", m.Name)
	mc := &macroCheck{tree: c.parse(m.Condition, m.cond, subject, false)}
	c.macros[m] = mc
	if mc.tree == nil {
		return
	}
	c.names(mc.tree, m.cond, subject, false, func(id *condition.Ident, ref *Macro) {
		if ref == m {
			c.add(m.cond, id.Pos, finding{subject: subject, code: CodeValidate,
				what:  "uses itself: Falco cannot expand it",
				hints: []string{fmt.Sprintf("to extend %q, append to it with override: {condition: append}", m.Name)}})
			return
		}
		if ref.index >= m.visible {
			c.add(m.cond, id.Pos, finding{subject: subject, code: CodeValidate,
				what:  fmt.Sprintf("uses macro %q, which is defined after it: Falco resolves a macro's macros in load order, and reports this as \"Undefined macro\"", id.Name),
				hints: []string{fmt.Sprintf("define %q before %q, or in an earlier file", id.Name, m.Name)}})
			return
		}
		mc.uses = append(mc.uses, ref)
	})
}

func (c *checker) rule(r *Rule) {
	subject := fmt.Sprintf("rule %q", r.Name)
	syscall := r.Source == DefaultSource
	if !syscall {
		// Falco skips the rule unless a plugin for its source is
		// loaded: what is wrong in it is a warning.
		subject += fmt.Sprintf(" (source %s)", r.Source)
	}
	if tree := c.parse(r.Condition, r.cond, subject, !syscall); tree != nil {
		var used []*Macro
		c.names(tree, r.cond, subject, !syscall, func(_ *condition.Ident, m *Macro) {
			used = append(used, m)
		})
		skips := c.skipsUnknown(r)
		for _, m := range c.closure(used) {
			mc := c.macros[m]
			mc.used = true
			switch {
			case !syscall:
			case skips:
				mc.usedBySkipping = true
			case !mc.usedBySyscall && mc.tree != nil:
				mc.usedBySyscall = true
				c.fieldProblems(mc.tree, m.cond, fmt.Sprintf("macro %q", m.Name), false, "")
			}
		}
		if syscall {
			why := ""
			if skips {
				why = skipHint
			}
			c.fieldProblems(tree, r.cond, subject, skips, why)
		}
	}
	if syscall {
		c.output(r, subject)
	}
}

// skipHint is why a problem of a rule with skip-if-unknown-filter is only
// a warning.
const skipHint = "the rule has skip-if-unknown-filter: true, so Falco skips it"

// skipsUnknown reports whether Falco turns the rule's unknown fields into a
// warning and skips the rule (skip-if-unknown-filter: true).
func (c *checker) skipsUnknown(r *Rule) bool {
	return isTrue(&yaml.Node{Kind: yaml.ScalarNode, Value: r.flags["skip-if-unknown-filter"]})
}

// closure returns the macros ms use, directly or through other macros,
// each once.
func (c *checker) closure(ms []*Macro) []*Macro {
	var out []*Macro
	seen := map[*Macro]bool{}
	var visit func(m *Macro)
	visit = func(m *Macro) {
		if seen[m] {
			return
		}
		seen[m] = true
		out = append(out, m)
		for _, u := range c.macros[m].uses {
			visit(u)
		}
	}
	for _, m := range ms {
		visit(m)
	}
	return out
}

// names checks every identifier and bare value of a condition against the
// macros and lists, and calls use for each macro it names.
func (c *checker) names(tree condition.Expr, parts textParts, subject string, warning bool, use func(*condition.Ident, *Macro)) {
	reported := map[string]bool{}
	condition.Walk(tree, func(n condition.Node) bool {
		switch n := n.(type) {
		case *condition.Ident:
			if m := c.x.macroBy[n.Name]; m != nil {
				use(n, m)
				return true
			}
			if reported[n.Name] {
				return true
			}
			reported[n.Name] = true
			if l := c.x.listBy[n.Name]; l != nil {
				c.add(parts, n.Pos, finding{subject: subject, code: CodeCompileCondition, warning: warning,
					what:  fmt.Sprintf("list %q stands where a condition is expected: Falco replaces it with its items", n.Name),
					hints: []string{fmt.Sprintf("compare a field with it, e.g. proc.name in (%s)", n.Name)}})
				return true
			}
			c.undefined(n, parts, subject, warning)
		case *condition.Compare:
			c.listValue(n, parts, subject, warning)
		case *condition.List:
			return false
		case *condition.Value:
			c.listInQuotes(n, parts, subject)
		}
		return true
	})
}

func (c *checker) undefined(id *condition.Ident, parts textParts, subject string, warning bool) {
	if c.x.mayDefine("macro", id.Name) {
		// A file that did not parse defines it, or may: that file's own
		// problem is the cause, reported once by the load.
		return
	}
	f := finding{subject: subject, code: CodeValidate, warning: warning, missing: id.Name,
		what:  fmt.Sprintf("undefined macro %q", id.Name),
		hints: []string{fmt.Sprintf("define it with - macro: %s, load the file that defines it, or fix the name", id.Name)}}
	switch id.Name {
	case "and", "or", "not":
		f.hints = append(f.hints, fmt.Sprintf("%q needs a condition on each side", id.Name))
	default:
		names := make([]string, 0, len(c.x.macros))
		for _, m := range c.x.macros {
			names = append(names, m.Name)
		}
		if close := closestNames(id.Name, names, 3); len(close) > 0 {
			f.hints = append(f.hints, fmt.Sprintf("did you mean %q?", strings.Join(close, `", "`)))
		}
	}
	if c.x.loadFailed {
		f.warning = true
		f.hints = append(f.hints, "the rules did not load completely: it may be defined in an item with an error")
	}
	c.add(parts, id.Pos, f)
}

// listValue reports a list name written as a bare value outside
// parentheses: Falco replaces it with the list's items, joined by commas,
// which parses only when the list has exactly one item.
func (c *checker) listValue(cmp *condition.Compare, parts textParts, subject string, warning bool) {
	v, ok := cmp.Right.(*condition.Value)
	if !ok || v.Quote != 0 {
		return
	}
	l := c.x.listBy[v.Text]
	if l == nil {
		return
	}
	if n := c.listLen(l, map[*List]bool{}); n != 1 {
		c.add(parts, v.Pos, finding{subject: subject, code: CodeCompileCondition, warning: warning,
			what:  fmt.Sprintf("list %q after %s: Falco replaces a list name with its %d items separated by commas, which does not parse here", v.Text, cmp.Op, n),
			hints: []string{fmt.Sprintf("write %s (%s)", listOperator(cmp.Op), v.Text)}})
	}
}

func listOperator(op condition.Operator) condition.Operator {
	if op.TakesList() {
		return op
	}
	return condition.OpIn
}

// listLen counts a list's items once the lists it names are expanded.
func (c *checker) listLen(l *List, seen map[*List]bool) int {
	if seen[l] {
		return len(l.Items)
	}
	seen[l] = true
	n := 0
	for _, it := range l.Items {
		if sub := c.x.listBy[it]; sub != nil {
			n += c.listLen(sub, seen)
			continue
		}
		n++
	}
	return n
}

// listInQuotes warns of a list name between blanks inside a quoted value:
// Falco's list substitution works on the condition's text and does not
// skip quoted strings.
func (c *checker) listInQuotes(v *condition.Value, parts textParts, subject string) {
	if v.Quote == 0 || !strings.ContainsAny(v.Text, " \t\n\r(),=") {
		return
	}
	for _, w := range strings.FieldsFunc(v.Text, func(r rune) bool { return strings.ContainsRune(" \t\n\r(),=", r) }) {
		if c.x.listBy[w] != nil {
			c.add(parts, v.Pos, finding{subject: subject, warning: true,
				what:  fmt.Sprintf("quoted value %q holds the list name %q between blanks: Falco replaces list names even inside quotes", v.Text, w),
				hints: []string{"rename the list, or reword the value"}})
			return
		}
	}
}

// fieldProblems checks every field of a condition against the syscall
// fields. soft turns the problems into warnings, saying why.
func (c *checker) fieldProblems(tree condition.Expr, parts textParts, subject string, soft bool, why string) {
	condition.Walk(tree, func(n condition.Node) bool {
		fld, ok := n.(*condition.Field)
		if !ok {
			return true
		}
		what, hint := c.fields.Problem(fld)
		if what == "" {
			return true
		}
		f := finding{subject: subject, code: CodeCompileCondition, warning: soft, what: what, hints: []string{hint, why}}
		if _, _, known := c.fields.Lookup(fld.Name); !known {
			hint, fromPlugin := c.unknownFieldHint(fld.Name, "")
			f.what += " for the syscall source"
			f.hints = append(f.hints, hint)
			f.warning = f.warning || fromPlugin
		}
		c.add(parts, fld.Pos, f)
		return true
	})
}

// unknownFieldHint says what a field name may have meant, writing close
// names after prefix; fromPlugin is true when a plugin the rules require
// may provide it.
func (c *checker) unknownFieldHint(name, prefix string) (hint string, fromPlugin bool) {
	class, _, _ := strings.Cut(name, ".")
	known := false
	for _, n := range c.fields.Names() {
		if strings.HasPrefix(n, class+".") {
			known = true
			break
		}
	}
	var plugins []string
	for _, p := range c.x.plugins {
		if p != "container" && !slices.Contains(plugins, p) {
			plugins = append(plugins, p)
		}
	}
	if !known && len(plugins) > 0 {
		return fmt.Sprintf("the rules require plugin %s, which may provide it: Falco decides when it loads the plugin", strings.Join(plugins, ", ")), true
	}
	if close := closestNames(name, c.fields.Names(), 3); len(close) > 0 {
		return fmt.Sprintf("did you mean %s%s?", prefix, strings.Join(close, ", "+prefix)), false
	}
	return "falco --list=syscall lists the fields", false
}

// output checks the %field tokens of a syscall rule's output the way
// Falco's formatter reads them (sinsp_evt_formatter::set_format).
func (c *checker) output(r *Rule, subject string) {
	s := r.Output
	i := 0
	if strings.HasPrefix(s, "*") {
		i = 1 // print even when some values are missing
	}
	for i < len(s) {
		if s[i] != '%' {
			i++
			continue
		}
		at := i
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++ // a width
		}
		rest := s[i:]
		switch {
		case rest == "":
			c.add(r.output, at, finding{subject: subject, code: CodeCompileOutput,
				what:  "output ends with %" + s[at+1:] + ": Falco wants a field after each %",
				hints: []string{"give a field, e.g. %proc.name, or drop the %"}})
			return
		case strings.HasPrefix(rest, "container.info"):
			// Falco replaces %container.info before it compiles the output.
			i += len("container.info")
			continue
		}
		if t := outputTransformer(rest); t > 0 {
			i += t
			continue
		}
		if _, n := c.fields.OutputField(rest); n > 0 {
			i += n
			continue
		}
		token := rest
		if j := strings.IndexFunc(rest, func(r rune) bool { return r == ' ' || r == ',' || r == ')' || r == '\n' }); j >= 0 {
			token = rest[:j]
		}
		f := finding{subject: subject, code: CodeCompileOutput,
			what:  fmt.Sprintf("output token %%%s names no field of the syscall source: Falco says \"invalid formatting token\"", token),
			hints: []string{"every % must start a field, as in %proc.name"}}
		if name := fieldPrefix(token); name != "" {
			f.hints[0], f.warning = c.unknownFieldHint(name, "%")
		}
		if c.skipsUnknown(r) {
			f.warning = true
			f.hints = append(f.hints, skipHint)
		}
		c.add(r.output, at, f)
	}
}

// outputTransformer returns the length of a transformer call such as
// tolower(proc.name) at the start of s, 0 if there is none.
func outputTransformer(s string) int {
	for _, t := range condition.Transformers {
		if strings.HasPrefix(s, t+"(") {
			if j := strings.IndexByte(s, ')'); j > 0 {
				return j + 1
			}
		}
	}
	return 0
}

// fieldPrefix returns the field-name-like start of s.
func fieldPrefix(s string) string {
	j := 0
	for j < len(s) && (s[j] == '.' || s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
		j++
	}
	return s[:j]
}
