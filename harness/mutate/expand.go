package mutate

import (
	"fmt"
	"strings"

	"github.com/attack-replay/attack-replay/harness/condition"
	"github.com/attack-replay/attack-replay/harness/rules"
)

// origin is where a node of an expanded condition was written.
type origin struct {
	in   string         // `rule "X"`, `macro "Y"` or `list "Z"`
	span condition.Span // its place in that condition's text
	// macro names the macro whose name was written there (in named).
	macro string
}

// expansion is a rule's condition with macros and lists replaced by their
// definitions, and where each expression and value came from.
type expansion struct {
	tree    condition.Expr
	origins map[condition.Node]origin
	// named holds, for a macro's whole condition put in place of its
	// name, where that name was written.
	named map[condition.Node]origin
}

// expander expands the conditions of one rules index.
type expander struct {
	macros map[string]rules.Macro
	lists  map[string]rules.List
	parsed map[string]condition.Expr // macro conditions, parsed once
}

func newExpander(idx *rules.Index) *expander {
	x := &expander{macros: map[string]rules.Macro{}, lists: map[string]rules.List{}, parsed: map[string]condition.Expr{}}
	for _, m := range idx.Macros() {
		x.macros[m.Name] = m
	}
	for _, l := range idx.Lists() {
		x.lists[l.Name] = l
	}
	return x
}

// expand parses and expands a rule's condition. A macro is expanded by its
// final definition, as Falco compiles a rule after every file is loaded.
func (x *expander) expand(r rules.Rule) (expansion, error) {
	tree, err := condition.Parse(r.Condition)
	if err != nil {
		return expansion{}, fmt.Errorf("%s: rule %q: %w", r.Pos, r.Name, err)
	}
	e := expansion{origins: map[condition.Node]origin{}, named: map[condition.Node]origin{}}
	e.tree, err = x.expr(tree, fmt.Sprintf("rule %q", r.Name), &e, nil)
	if err != nil {
		return expansion{}, fmt.Errorf("%s: rule %q: %w", r.Pos, r.Name, err)
	}
	return e, nil
}

// expr returns an expanded copy of e, written in `in`; stack holds the
// macros being expanded, to report a macro that uses itself.
func (x *expander) expr(e condition.Expr, in string, into *expansion, stack []string) (condition.Expr, error) {
	var out condition.Expr
	switch e := e.(type) {
	case *condition.And:
		terms, err := x.terms(e.Terms, in, into, stack)
		if err != nil {
			return nil, err
		}
		out = &condition.And{Span: e.Span, Terms: terms}
	case *condition.Or:
		terms, err := x.terms(e.Terms, in, into, stack)
		if err != nil {
			return nil, err
		}
		out = &condition.Or{Span: e.Span, Terms: terms}
	case *condition.Not:
		inner, err := x.expr(e.X, in, into, stack)
		if err != nil {
			return nil, err
		}
		out = &condition.Not{Span: e.Span, X: inner}
	case *condition.Ident:
		m, ok := x.macros[e.Name]
		if !ok {
			return nil, fmt.Errorf("undefined macro %q (define it, or load the file that does)", e.Name)
		}
		for _, s := range stack {
			if s == e.Name {
				return nil, fmt.Errorf("macro %q uses itself (%s)", e.Name, strings.Join(append(stack, e.Name), " -> "))
			}
		}
		tree, err := x.macro(m)
		if err != nil {
			return nil, err
		}
		body, err := x.expr(tree, fmt.Sprintf("macro %q", m.Name), into, append(stack, e.Name))
		if err != nil {
			return nil, err
		}
		// Dropped as a whole, the macro is shown by its name, where the
		// name was written.
		into.named[body] = origin{in: in, span: e.Span, macro: e.Name}
		return body, nil
	case *condition.Compare:
		c := condition.Clone(e)
		c.Right = x.right(c, in, into.origins)
		out = c
	default:
		out = condition.Clone(e)
	}
	into.origins[out] = origin{in: in, span: e.Source()}
	return out, nil
}

func (x *expander) terms(ts []condition.Expr, in string, into *expansion, stack []string) ([]condition.Expr, error) {
	out := make([]condition.Expr, len(ts))
	for i, t := range ts {
		var err error
		if out[i], err = x.expr(t, in, into, stack); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (x *expander) macro(m rules.Macro) (condition.Expr, error) {
	if t, ok := x.parsed[m.Name]; ok {
		return t, nil
	}
	t, err := condition.Parse(m.Condition)
	if err != nil {
		return nil, fmt.Errorf("%s: macro %q: %w", m.Pos, m.Name, err)
	}
	x.parsed[m.Name] = t
	return t, nil
}

// right expands list names on the right of a comparison the way Falco's
// loader does (resolve_list): a bare item of a parenthesised list that names
// a list becomes that list's items, and a bare list name after in,
// intersects or pmatch becomes a parenthesised list of them.
func (x *expander) right(c *condition.Compare, in string, origins map[condition.Node]origin) condition.Operand {
	switch r := c.Right.(type) {
	case *condition.List:
		out := &condition.List{Span: r.Span}
		for _, v := range r.Items {
			out.Items = append(out.Items, x.items(v, in, origins, map[string]bool{})...)
		}
		origins[out] = origin{in: in, span: r.Span}
		return out
	case *condition.Value:
		if _, ok := x.lists[r.Text]; ok && r.Quote == 0 && c.Op.TakesList() {
			out := &condition.List{Span: r.Span, Items: x.items(r, in, origins, map[string]bool{})}
			origins[out] = origin{in: in, span: r.Span}
			return out
		}
		origins[r] = origin{in: in, span: r.Span}
	}
	return c.Right
}

// items is v, or the items of the list v names, expanded in turn.
func (x *expander) items(v *condition.Value, in string, origins map[condition.Node]origin, seen map[string]bool) []*condition.Value {
	l, ok := x.lists[v.Text]
	if !ok || v.Quote != 0 || seen[v.Text] {
		origins[v] = origin{in: in, span: v.Span}
		return []*condition.Value{v}
	}
	seen[v.Text] = true // a list that names itself, directly or not, stops here
	defer delete(seen, v.Text)
	var out []*condition.Value
	for _, it := range l.Items {
		out = append(out, x.items(listItem(it), fmt.Sprintf("list %q", l.Name), origins, seen)...)
	}
	return out
}

// listItem is a list item as Falco's loader reads it: it pastes the items
// into the condition text (resolve_list), quoting an item with a blank
// unless it already starts with a quote (quote_item), and parses the
// result. A quoted item such as '"/etc/shadow-"' is therefore the string
// /etc/shadow-, not one holding quote characters.
func listItem(it string) *condition.Value {
	if it != "" && (it[0] == '"' || it[0] == '\'') {
		if e, err := condition.Parse("proc.name = " + it); err == nil {
			if c, ok := e.(*condition.Compare); ok {
				if v, ok := c.Right.(*condition.Value); ok {
					return &condition.Value{Text: v.Text, Quote: v.Quote}
				}
			}
		}
	}
	if strings.ContainsAny(it, " ") {
		return &condition.Value{Text: it, Quote: '"'}
	}
	return &condition.Value{Text: it}
}
