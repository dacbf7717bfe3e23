package condition

import (
	"fmt"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) Expr {
	t.Helper()
	e, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustPrint(t *testing.T, n Node) string {
	t.Helper()
	s, err := Print(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// find returns the first node of type T in n, depth first.
func find[T Node](n Node) T {
	var found T
	done := false
	Walk(n, func(x Node) bool {
		if t, ok := x.(T); ok && !done {
			found, done = t, true
		}
		return !done
	})
	return found
}

// TestMutations builds the mutants the mutation-testing work needs with
// Replace and Clone, and checks that the original is never touched.
func TestMutations(t *testing.T) {
	const src = `spawned_process and proc.name in (bash, sh, "a b") and user.uid != 0`
	orig := mustParse(t, src)
	keep := mustPrint(t, orig)
	and := orig.(*And)

	// Drop one clause of an and.
	dropped := Replace(orig, and, &And{Terms: []Expr{Clone(and.Terms[0]), Clone(and.Terms[2])}})
	// Negate a comparison.
	cmp := find[*Compare](orig)
	negated := Replace(orig, cmp, &Not{X: Clone(cmp)})
	// Swap an operator.
	last := and.Terms[2].(*Compare)
	swapped := Clone(last)
	swapped.Op = OpEq
	swap := Replace(orig, last, swapped)
	// Remove one item of an in list.
	list := cmp.Right.(*List)
	fewer := Replace(orig, list, &List{Items: []*Value{Clone(list.Items[0]), Clone(list.Items[2])}})
	// Replace a string constant.
	constant := Replace(orig, list.Items[1], &Value{Text: "zsh -c"})

	for _, c := range []struct {
		mutant Expr
		want   string
	}{
		{dropped, `spawned_process and user.uid != 0`},
		{negated, `spawned_process and not proc.name in (bash, sh, "a b") and user.uid != 0`},
		{swap, `spawned_process and proc.name in (bash, sh, "a b") and user.uid = 0`},
		{fewer, `spawned_process and proc.name in (bash, "a b") and user.uid != 0`},
		{constant, `spawned_process and proc.name in (bash, "zsh -c", "a b") and user.uid != 0`},
	} {
		got := mustPrint(t, c.mutant)
		if got != c.want {
			t.Errorf("mutant %q, want %q", got, c.want)
		}
		if !Equal(mustParse(t, got), c.mutant) {
			t.Errorf("mutant %q does not parse back to itself", got)
		}
	}
	if mustPrint(t, orig) != keep {
		t.Errorf("the original changed: %q", mustPrint(t, orig))
	}
	if Equal(orig, negated) || !Equal(orig, Clone(orig)) {
		t.Error("Equal does not tell the mutant from the original, or a clone from it")
	}
}

func TestCloneIsDeep(t *testing.T) {
	orig := mustParse(t, `tolower(proc.aname[2]) in (a, b) or not x`)
	c := Clone(orig)
	find[*Field](c).Name = "proc.pname"
	find[*List](c).Items[0].Text = "z"
	find[*Ident](c).Name = "y"
	if got := mustPrint(t, orig); got != `tolower(proc.aname[2]) in (a, b) or not x` {
		t.Errorf("editing a clone changed the original: %q", got)
	}
}

func TestReplaceRejectsWhatCannotStand(t *testing.T) {
	orig := mustParse(t, `a and proc.name in (x)`)
	for _, c := range []struct {
		old, repl Node
		want      string
	}{
		{orig.(*And).Terms[0], &Field{Name: "proc.name"}, "cannot stand where an expression does"},
		{find[*List](orig).Items[0], &Field{Name: "proc.name"}, "cannot stand in a list of values"},
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("Replace with %T: recovered %v, want a panic saying %q", c.repl, r, c.want)
				}
			}()
			Replace(orig, c.old, c.repl)
		}()
	}
}

func TestEqualIgnoresPositionsAndQuotes(t *testing.T) {
	a := mustParse(t, `proc.name = "bash"`)
	b := mustParse(t, `  proc.name   =  'bash'`)
	if !Equal(a, b) {
		t.Error(`proc.name = "bash" and = 'bash' differ`)
	}
	if Equal(a, mustParse(t, `proc.name = bash2`)) || Equal(a, mustParse(t, `proc.name == bash`)) {
		t.Error("Equal misses a changed value or operator")
	}
	if Equal(mustParse(t, `a and (b and c)`), mustParse(t, `a and b and c`)) {
		t.Error("Equal ignores the nesting Falco keeps")
	}
}

func TestChildrenInSourceOrder(t *testing.T) {
	e := mustParse(t, `a or proc.name = val(proc.pname) and not b`)
	var got []string
	Walk(e, func(n Node) bool {
		got = append(got, fmt.Sprintf("%T", n))
		return true
	})
	want := "*condition.Or *condition.Ident *condition.And *condition.Compare *condition.Field *condition.Transform *condition.Field *condition.Not *condition.Ident"
	if strings.Join(got, " ") != want {
		t.Errorf("walk order %q\nwant %q", strings.Join(got, " "), want)
	}
	if n := len(Children(e)); n != 2 {
		t.Errorf("the Or has %d children, want 2", n)
	}
}

func TestPrintRefusesWhatNoTextExpresses(t *testing.T) {
	field := func() *Field { return &Field{Name: "proc.name"} }
	for _, c := range []struct {
		n    Node
		want string
	}{
		{&And{}, "and without terms"},
		{&Or{Terms: []Expr{nil, &Ident{Name: "a"}}}, "missing expression"},
		{&Ident{Name: "spawned process"}, `invalid macro name "spawned process"`},
		{&Compare{Left: &Field{Name: "proc"}, Op: OpEq, Right: &Value{Text: "x"}}, `invalid field name "proc"`},
		{&Compare{Left: field(), Op: "~=", Right: &Value{Text: "x"}}, `unknown operator "~="`},
		{&Compare{Left: field(), Op: OpLT, Right: &Value{Text: "10", Quote: '"'}}, `"10" is not a number`},
		{&Compare{Left: field(), Op: OpIn, Right: &Value{Text: "a b"}}, `list name "a b" is not an identifier`},
		{&Compare{Left: field(), Op: OpEq, Right: &List{}}, `a list after "=" needs a modifier`},
		{&Compare{Left: &Transform{Name: "val", Args: []Operand{field()}}, Op: OpEq, Right: &Value{Text: "x"}}, "val() only goes on the right"},
		{&Compare{Left: &Transform{Name: "lower", Args: []Operand{field()}}, Op: OpEq, Right: &Value{Text: "x"}}, `unknown transformer "lower"`},
		{&Compare{Left: field(), Op: OpEq, Right: &Value{Text: "a\x00b"}}, "NUL byte"},
	} {
		_, err := Print(c.n)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Print(%#v) = %v, want an error saying %q", c.n, err, c.want)
		}
	}
	// What can be written is: a one-term And prints as its term, a value
	// that cannot stay bare gets quotes.
	got := mustPrint(t, &And{Terms: []Expr{&Compare{Left: field(), Op: OpEq, Right: &Value{Text: `it's "x" \`}}}})
	if got != `proc.name = "it's \"x\" \ "` {
		t.Errorf("got %s", got)
	}
	if e := mustParse(t, got); e.(*Compare).Right.(*Value).Text != `it's "x" \` {
		t.Errorf("%s parses to %q", got, e.(*Compare).Right.(*Value).Text)
	}
	// \b is a blank before a value and a character inside one.
	for _, text := range []string{"\bx", "x\b"} {
		v := &Compare{Left: field(), Op: OpEq, Right: &Value{Text: text}}
		if e := mustParse(t, mustPrint(t, v)); e.(*Compare).Right.(*Value).Text != text {
			t.Errorf("value %q printed as %q", text, mustPrint(t, v))
		}
	}
}

// ExampleReplace negates each comparison of a condition in turn, the way a
// mutation tester builds mutants.
func ExampleReplace() {
	e, _ := Parse(`spawned_process and proc.name = rm and proc.args contains "-rf"`)
	Walk(e, func(n Node) bool {
		if c, ok := n.(*Compare); ok {
			mutant, _ := Print(Replace(e, c, &Not{X: Clone(c)}))
			fmt.Println(mutant)
		}
		return true
	})
	// Output:
	// spawned_process and not proc.name = rm and proc.args contains "-rf"
	// spawned_process and proc.name = rm and not proc.args contains "-rf"
}
