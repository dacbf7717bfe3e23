package condition

// Span is where a node was written: byte offsets [Pos, End) into the
// condition text it was parsed from. Nodes built by hand have a zero Span;
// positions are never compared by Equal.
type Span struct {
	Pos, End int
}

// Node is any node of a condition's tree.
type Node interface {
	// Source is where the node was written (zero for built nodes).
	Source() Span
	node()
}

// Expr is a node that is true or false for an event: the whole condition,
// and every operand of and, or, not.
type Expr interface {
	Node
	expr()
}

// Operand is what a comparison compares: a field, a transformer applied to
// operands, a value or a list of values.
type Operand interface {
	Node
	operand()
}

// And is `X and Y and …`, two terms or more when parsed. Falco keeps the
// nesting the text has: `a and (b and c)` is an And whose second term is
// an And.
type And struct {
	Span
	Terms []Expr
}

// Or is `X or Y or …`, two terms or more when parsed. `and` binds tighter:
// `a or b and c` is Or{a, And{b, c}}.
type Or struct {
	Span
	Terms []Expr
}

// Not is `not X` or `not(X)`. Its Span starts at the first `not`; an even
// number of `not` in a row cancels out, as in Falco.
type Not struct {
	Span
	X Expr
}

// Ident is a bare identifier where a condition is expected. Falco reads it
// as the name of a macro; a name that is neither a macro nor a list is an
// error when the rules are loaded, not when the condition is parsed.
type Ident struct {
	Span
	Name string
}

// Compare is a comparison: `Left Op Right`, e.g. `proc.name in (bash, sh)`.
type Compare struct {
	Span
	Left Operand // *Field or *Transform
	Op   Operator
	// Modifier is empty, or oneof, anyof or allof before a list (Falco
	// 0.44: `proc.name startswith anyof (a, b)`).
	Modifier string
	// Right is a *Value, a *List (after in, intersects, pmatch or a
	// modifier), or a *Transform (a transformer, or val(field) to compare
	// two fields). After in, intersects and pmatch a *Value is a list name
	// written without parentheses.
	Right Operand
	// OpPos is the byte offset of the operator.
	OpPos int
}

// Exists is `Left exists`.
type Exists struct {
	Span
	Left Operand // *Field or *Transform
}

// Field is a field reference: `proc.name`, `proc.aname[2]`,
// `proc.env[AR_TOKEN]`. A dotted suffix (`evt.arg.flags`) is part of Name,
// as Falco's grammar reads it; the field table tells the field from its
// argument.
type Field struct {
	Span
	Name string
	// Arg is the argument between brackets, unquoted; HasArg tells
	// `f[""]` from `f`. ArgQuote is the quote it was written with (0 for
	// a bare argument).
	Arg      string
	HasArg   bool
	ArgQuote byte
}

// Transform is a transformer applied to its arguments: `tolower(proc.name)`,
// `len(proc.args)`, `join(proc.env, ";")`, and `val(proc.pname)` on the
// right of a comparison (comparing two fields).
type Transform struct {
	Span
	Name string // tolower, toupper, b64, basename, len, join, val
	// Args are *Field, *Transform, *Value or *ArgList; val takes exactly
	// one *Field.
	Args []Operand
}

// Value is a constant: a bare string (`bash`, `/tmp/`, `0x10`, `<`), a quoted
// string, or a number. Text is the value Falco compares with, escapes
// resolved.
type Value struct {
	Span
	Text string
	// Quote is the quote the value was written with: '"', '\'' or 0 for a
	// bare word. Print keeps it; a bare value that cannot stay bare is
	// printed with double quotes.
	Quote byte
}

// List is a parenthesised list of values: `(bash, "a b", 'c')`. Falco
// replaces a list name among the items with the list's items when the
// rules load.
type List struct {
	Span
	Items []*Value
}

// ArgList is a parenthesised list given to a transformer (join's first
// argument may be one): its items are fields, transformers or values.
type ArgList struct {
	Span
	Items []Operand
}

// Source returns the node's span (promoted to every node type).
func (s Span) Source() Span { return s }

func (*And) node()       {}
func (*Or) node()        {}
func (*Not) node()       {}
func (*Ident) node()     {}
func (*Compare) node()   {}
func (*Exists) node()    {}
func (*Field) node()     {}
func (*Transform) node() {}
func (*Value) node()     {}
func (*List) node()      {}
func (*ArgList) node()   {}

func (*And) expr()     {}
func (*Or) expr()      {}
func (*Not) expr()     {}
func (*Ident) expr()   {}
func (*Compare) expr() {}
func (*Exists) expr()  {}

func (*Field) operand()     {}
func (*Transform) operand() {}
func (*Value) operand()     {}
func (*List) operand()      {}
func (*ArgList) operand()   {}
