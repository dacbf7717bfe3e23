package condition

import (
	"fmt"
	"strings"
)

// Print writes n as condition text Falco parses back to a tree Equal to n:
// single blanks between tokens, parentheses only where the tree needs them,
// values keep their quotes (a bare value that cannot stay bare gets double
// quotes). An And or Or of one term prints as that term. Print fails on a
// tree no text can express: an empty And or Or, a nil child, a name that is
// not a valid field, macro or transformer name, an unknown operator, a
// value that does not fit where it stands (a quoted number after <, a list
// name that is not an identifier).
func Print(n Node) (string, error) {
	p := &printer{}
	switch n := n.(type) {
	case Expr:
		p.expr(n, ctxTop)
	case Operand:
		p.operand(n, valueString)
	default:
		p.failf("cannot print %T", n)
	}
	if p.err != nil {
		return "", p.err
	}
	return p.b.String(), nil
}

type printer struct {
	b   strings.Builder
	err error
}

func (p *printer) failf(format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("print condition: "+format, args...)
	}
}

// exprContext is where an expression stands, which decides whether it needs
// parentheses to be parsed back as the same tree.
type exprContext int

const (
	ctxTop exprContext = iota
	ctxOrTerm
	ctxAndTerm
	ctxNot
)

func (p *printer) expr(e Expr, ctx exprContext) {
	switch e := e.(type) {
	case *Or:
		p.logic("or", e.Terms, ctx, ctx != ctxTop)
	case *And:
		p.logic("and", e.Terms, ctx, ctx == ctxAndTerm || ctx == ctxNot)
	case *Not:
		if e == nil || e.X == nil {
			p.failf("not without an operand")
			return
		}
		if ctx == ctxNot {
			// `not not x` would cancel out.
			p.b.WriteByte('(')
			defer p.b.WriteByte(')')
		}
		p.b.WriteString("not ")
		p.expr(e.X, ctxNot)
	case *Ident:
		p.ident(e)
	case *Compare:
		p.compare(e)
	case *Exists:
		if e == nil {
			p.failf("nil exists")
			return
		}
		p.left(e.Left)
		p.b.WriteString(" exists")
	case nil:
		p.failf("missing expression")
	default:
		p.failf("cannot print %T", e)
	}
}

func (p *printer) logic(kw string, terms []Expr, ctx exprContext, parens bool) {
	switch len(terms) {
	case 0:
		p.failf("%s without terms", kw)
		return
	case 1:
		p.expr(terms[0], ctx)
		return
	}
	if parens {
		p.b.WriteByte('(')
	}
	termCtx := ctxAndTerm
	if kw == "or" {
		termCtx = ctxOrTerm
	}
	for i, t := range terms {
		if i > 0 {
			p.b.WriteString(" " + kw + " ")
		}
		p.expr(t, termCtx)
	}
	if parens {
		p.b.WriteByte(')')
	}
}

func (p *printer) ident(e *Ident) {
	if e == nil || scanIdent(e.Name, 0) != len(e.Name) || e.Name == "" {
		p.failf("invalid macro name %q", identName(e))
		return
	}
	if e.Name == "not" {
		// A bare `not` followed by a blank would negate what follows.
		p.b.WriteString("(not)")
		return
	}
	p.b.WriteString(e.Name)
}

func identName(e *Ident) string {
	if e == nil {
		return ""
	}
	return e.Name
}

func (p *printer) left(o Operand) {
	switch o := o.(type) {
	case *Field:
		p.field(o)
	case *Transform:
		if o != nil && o.Name == "val" {
			p.failf("val() only goes on the right of an operator")
			return
		}
		p.transform(o)
	default:
		p.failf("the left of a comparison must be a field or a transformer, not %T", o)
	}
}

func (p *printer) compare(c *Compare) {
	if c == nil {
		p.failf("nil comparison")
		return
	}
	class, ok := c.Op.class()
	if !ok || class == classUnary {
		p.failf("unknown operator %q", c.Op)
		return
	}
	p.left(c.Left)
	p.b.WriteString(" " + string(c.Op) + " ")
	if c.Modifier != "" {
		l, isList := c.Right.(*List)
		if !isModifier(c.Modifier) || class != classString || !isList {
			p.failf("modifier %q needs a string operator and a list", c.Modifier)
			return
		}
		p.b.WriteString(c.Modifier + " ")
		p.list(l)
		return
	}
	switch r := c.Right.(type) {
	case *Transform:
		p.transform(r)
	case *List:
		if class != classList {
			p.failf("a list after %q needs a modifier", c.Op)
			return
		}
		p.list(r)
	case *Value:
		switch class {
		case classNumber:
			p.value(r, valueNumber)
		case classString:
			p.value(r, valueString)
		default:
			p.value(r, valueListName)
		}
	default:
		p.failf("invalid right side %T of %q", r, c.Op)
	}
}

func (p *printer) field(f *Field) {
	if f == nil || f.Name == "" || scanFieldName(f.Name, 0) != len(f.Name) {
		p.failf("invalid field name %q", fieldName(f))
		return
	}
	p.b.WriteString(f.Name)
	if !f.HasArg {
		return
	}
	p.b.WriteByte('[')
	if strings.IndexByte(f.Arg, 0) >= 0 {
		p.failf("a field argument cannot hold a NUL byte")
		return
	}
	if f.ArgQuote == 0 && f.Arg != "" && scanFieldArg(f.Arg, 0) == len(f.Arg) {
		p.b.WriteString(f.Arg)
	} else {
		p.quoted(f.Arg, f.ArgQuote)
	}
	p.b.WriteByte(']')
}

func fieldName(f *Field) string {
	if f == nil {
		return ""
	}
	return f.Name
}

func (p *printer) transform(t *Transform) {
	if t == nil {
		p.failf("nil transformer")
		return
	}
	if t.Name == "val" {
		var f *Field
		if len(t.Args) == 1 {
			f, _ = t.Args[0].(*Field)
		}
		if f == nil {
			p.failf("val takes one field")
			return
		}
		p.b.WriteString("val(")
		p.field(f)
		p.b.WriteByte(')')
		return
	}
	if !isTransformer(t.Name) {
		p.failf("unknown transformer %q", t.Name)
		return
	}
	if len(t.Args) == 0 {
		p.failf("%s() without arguments", t.Name)
		return
	}
	p.b.WriteString(t.Name + "(")
	for i, a := range t.Args {
		if i > 0 {
			p.b.WriteString(", ")
		}
		p.operand(a, valueArg)
	}
	p.b.WriteByte(')')
}

func isTransformer(name string) bool {
	for _, t := range Transformers {
		if t == name {
			return true
		}
	}
	return false
}

// operand prints a transformer argument, a list item or a lone operand.
func (p *printer) operand(o Operand, kind valueKind) {
	switch o := o.(type) {
	case *Field:
		p.field(o)
	case *Transform:
		p.transform(o)
	case *Value:
		p.value(o, kind)
	case *List:
		p.list(o)
	case *ArgList:
		if o == nil {
			p.failf("nil list")
			return
		}
		p.items(len(o.Items), func(i int) {
			switch o.Items[i].(type) {
			case *List, *ArgList:
				p.failf("a transformer's list cannot hold a list")
				return
			}
			p.operand(o.Items[i], valueArg)
		})
	default:
		p.failf("cannot print operand %T", o)
	}
}

func (p *printer) list(l *List) {
	if l == nil {
		p.failf("nil list")
		return
	}
	p.items(len(l.Items), func(i int) { p.value(l.Items[i], valueString) })
}

// items prints a parenthesised list of n items.
func (p *printer) items(n int, item func(i int)) {
	p.b.WriteByte('(')
	for i := range n {
		if i > 0 {
			p.b.WriteString(", ")
		}
		item(i)
	}
	p.b.WriteByte(')')
}

// valueKind is where a value stands: each place lexes values differently.
type valueKind int

const (
	valueString   valueKind = iota // after a string operator, in a list: bare or quoted
	valueNumber                    // after < <= > >=: a bare number
	valueListName                  // after in without parentheses: an identifier
	valueArg                       // transformer argument: a number or a quoted string
)

func (p *printer) value(v *Value, kind valueKind) {
	if v == nil {
		p.failf("nil value")
		return
	}
	if strings.IndexByte(v.Text, 0) >= 0 {
		p.failf("a value cannot hold a NUL byte")
		return
	}
	switch kind {
	case valueNumber:
		if v.Quote != 0 || v.Text == "" || scanNumeric(v.Text, 0) != len(v.Text) {
			p.failf("%q is not a number", v.Text)
			return
		}
		p.b.WriteString(v.Text)
	case valueListName:
		if v.Quote != 0 || v.Text == "" || scanIdent(v.Text, 0) != len(v.Text) {
			p.failf("list name %q is not an identifier (put the value in parentheses)", v.Text)
			return
		}
		p.b.WriteString(v.Text)
	case valueArg:
		if v.Quote == 0 && v.Text != "" && scanNumeric(v.Text, 0) == len(v.Text) {
			p.b.WriteString(v.Text)
			return
		}
		p.quoted(v.Text, v.Quote)
	default:
		// A bare value cannot start with a blank: the lexer skips it.
		if v.Quote == 0 && v.Text != "" && !isBlank(v.Text[0]) && scanBare(v.Text, 0) == len(v.Text) {
			p.b.WriteString(v.Text)
			return
		}
		p.quoted(v.Text, v.Quote)
	}
}

// quoted writes s between quotes q (double quotes when q is not a quote),
// escaped so that libs' lexer and unescape_str give s back.
func (p *printer) quoted(s string, q byte) {
	if q != '"' && q != '\'' {
		q = '"'
	}
	p.b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i == len(s)-1 {
				// libs' lexer takes a quote after a backslash for an
				// escaped one, so `\\"` never closes; `\ ` is its
				// other spelling of a backslash.
				p.b.WriteString(`\ `)
			} else {
				p.b.WriteString(`\\`)
			}
		case q:
			p.b.WriteByte('\\')
			p.b.WriteByte(q)
		case '\b':
			p.b.WriteString(`\b`)
		case '\f':
			p.b.WriteString(`\f`)
		case '\n':
			p.b.WriteString(`\n`)
		case '\r':
			p.b.WriteString(`\r`)
		case '\t':
			p.b.WriteString(`\t`)
		default:
			p.b.WriteByte(c)
		}
	}
	p.b.WriteByte(q)
}
