package condition

import (
	"fmt"
	"reflect"
)

// Children returns n's direct children in source order: the terms of And
// and Or, the operand of Not, the sides of a comparison, the arguments of
// a transformer, the items of a list. Missing (nil) children are left out.
func Children(n Node) []Node {
	var out []Node
	add := func(c Node) {
		if !isNil(c) {
			out = append(out, c)
		}
	}
	switch n := n.(type) {
	case *And:
		for _, t := range n.Terms {
			add(t)
		}
	case *Or:
		for _, t := range n.Terms {
			add(t)
		}
	case *Not:
		add(n.X)
	case *Compare:
		add(n.Left)
		add(n.Right)
	case *Exists:
		add(n.Left)
	case *Transform:
		for _, a := range n.Args {
			add(a)
		}
	case *List:
		for _, v := range n.Items {
			add(v)
		}
	case *ArgList:
		for _, it := range n.Items {
			add(it)
		}
	}
	return out
}

// Walk calls visit for n and, while visit returns true, for n's children,
// depth first in source order (like go/ast.Inspect).
func Walk(n Node, visit func(Node) bool) {
	if isNil(n) || !visit(n) {
		return
	}
	switch n := n.(type) {
	case *And:
		for _, t := range n.Terms {
			Walk(t, visit)
		}
	case *Or:
		for _, t := range n.Terms {
			Walk(t, visit)
		}
	case *Not:
		Walk(n.X, visit)
	case *Compare:
		Walk(n.Left, visit)
		Walk(n.Right, visit)
	case *Exists:
		Walk(n.Left, visit)
	default:
		// Operands: few and small.
		for _, c := range Children(n) {
			Walk(c, visit)
		}
	}
}

// Clone returns a deep copy of n: editing the copy never changes n.
func Clone[T Node](n T) T {
	c, _ := replace(n, nil, nil).(T)
	return c
}

// Replace returns a deep copy of root in which the node old (compared by
// identity: a node of root itself) is replaced by repl. repl is used as
// given, not copied. The copy shares nothing else with root, so a mutant is
// built without touching the original:
//
//	mutant := condition.Replace(root, cmp, &condition.Not{X: condition.Clone(cmp)})
//
// It panics if repl cannot stand where old stood (an operand in place of an
// expression, a non-value in a list of values).
func Replace[T Node](root T, old, repl Node) T {
	c, _ := replace(root, old, repl).(T)
	return c
}

func replace(n, old, repl Node) Node {
	if isNil(n) {
		return n
	}
	if old != nil && n == old {
		return repl
	}
	o := func(x Operand) Operand { return asOperand(replace(x, old, repl)) }
	switch n := n.(type) {
	case *And:
		return &And{Span: n.Span, Terms: replaceTerms(n.Terms, old, repl)}
	case *Or:
		return &Or{Span: n.Span, Terms: replaceTerms(n.Terms, old, repl)}
	case *Not:
		return &Not{Span: n.Span, X: asExpr(replace(n.X, old, repl))}
	case *Ident:
		c := *n
		return &c
	case *Compare:
		c := *n
		c.Left, c.Right = o(n.Left), o(n.Right)
		return &c
	case *Exists:
		return &Exists{Span: n.Span, Left: o(n.Left)}
	case *Field:
		c := *n
		return &c
	case *Transform:
		c := &Transform{Span: n.Span, Name: n.Name, Args: make([]Operand, len(n.Args))}
		for i, a := range n.Args {
			c.Args[i] = o(a)
		}
		return c
	case *Value:
		c := *n
		return &c
	case *List:
		c := &List{Span: n.Span, Items: make([]*Value, len(n.Items))}
		for i, v := range n.Items {
			r := replace(v, old, repl)
			val, ok := r.(*Value)
			if r != nil && !ok {
				panic(fmt.Sprintf("condition: a %T cannot stand in a list of values", r))
			}
			c.Items[i] = val
		}
		return c
	case *ArgList:
		c := &ArgList{Span: n.Span, Items: make([]Operand, len(n.Items))}
		for i, it := range n.Items {
			c.Items[i] = o(it)
		}
		return c
	}
	panic(fmt.Sprintf("condition: unknown node %T", n))
}

func replaceTerms(terms []Expr, old, repl Node) []Expr {
	out := make([]Expr, len(terms))
	for i, t := range terms {
		out[i] = asExpr(replace(t, old, repl))
	}
	return out
}

func asExpr(n Node) Expr {
	if n == nil {
		return nil
	}
	e, ok := n.(Expr)
	if !ok {
		panic(fmt.Sprintf("condition: a %T cannot stand where an expression does", n))
	}
	return e
}

func asOperand(n Node) Operand {
	if n == nil {
		return nil
	}
	o, ok := n.(Operand)
	if !ok {
		panic(fmt.Sprintf("condition: a %T cannot stand where an operand does", n))
	}
	return o
}

// Equal reports whether a and b are the same condition tree: the same node
// types, names, operators, values and structure. Positions and the quotes a
// value was written with are ignored, as in libs' ast::compare.
func Equal(a, b Node) bool {
	if isNil(a) || isNil(b) {
		return isNil(a) && isNil(b)
	}
	switch x := a.(type) {
	case *And:
		y, ok := b.(*And)
		return ok && equalAll(x.Terms, y.Terms)
	case *Or:
		y, ok := b.(*Or)
		return ok && equalAll(x.Terms, y.Terms)
	case *Not:
		y, ok := b.(*Not)
		return ok && Equal(x.X, y.X)
	case *Ident:
		y, ok := b.(*Ident)
		return ok && x.Name == y.Name
	case *Compare:
		y, ok := b.(*Compare)
		return ok && x.Op == y.Op && x.Modifier == y.Modifier && Equal(x.Left, y.Left) && Equal(x.Right, y.Right)
	case *Exists:
		y, ok := b.(*Exists)
		return ok && Equal(x.Left, y.Left)
	case *Field:
		y, ok := b.(*Field)
		return ok && x.Name == y.Name && x.HasArg == y.HasArg && x.Arg == y.Arg
	case *Transform:
		y, ok := b.(*Transform)
		return ok && x.Name == y.Name && equalAll(x.Args, y.Args)
	case *Value:
		y, ok := b.(*Value)
		return ok && x.Text == y.Text
	case *List:
		y, ok := b.(*List)
		return ok && equalAll(x.Items, y.Items)
	case *ArgList:
		y, ok := b.(*ArgList)
		return ok && equalAll(x.Items, y.Items)
	}
	return false
}

func equalAll[T Node](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// isNil reports a missing node: a nil interface or a nil pointer in one.
func isNil(n Node) bool { return n == nil || reflect.ValueOf(n).IsNil() }
