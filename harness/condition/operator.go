package condition

// Operator is a comparison operator of Falco's filter language.
type Operator string

// The operators of libs' parser (parser.cpp: s_unary_ops, s_binary_num_ops,
// s_binary_str_ops, s_binary_list_ops), in the order the parser tries them:
// a longer operator comes before its prefix (`<=` before `<`, `intersects`
// before `in`).
const (
	OpExists Operator = "exists"

	OpLE Operator = "<="
	OpLT Operator = "<"
	OpGE Operator = ">="
	OpGT Operator = ">"

	OpEqEq        Operator = "=="
	OpEq          Operator = "="
	OpNe          Operator = "!="
	OpGlob        Operator = "glob"
	OpIGlob       Operator = "iglob"
	OpContains    Operator = "contains"
	OpIContains   Operator = "icontains"
	OpBContains   Operator = "bcontains"
	OpStartsWith  Operator = "startswith"
	OpBStartsWith Operator = "bstartswith"
	OpEndsWith    Operator = "endswith"
	OpRegex       Operator = "regex"

	OpIntersects Operator = "intersects"
	OpIn         Operator = "in"
	OpPMatch     Operator = "pmatch"
)

// operatorClass says what an operator takes on its right.
type operatorClass int

const (
	classUnary  operatorClass = iota // nothing
	classNumber                      // a number or a transformer
	classString                      // a string or a transformer
	classList                        // a list, a list name or a transformer
)

// operatorTable is every operator in the parser's order of trial, with
// whether a blank must follow it (the word operators of str_ops).
var operatorTable = []struct {
	op        Operator
	class     operatorClass
	needBlank bool
}{
	{OpExists, classUnary, false},
	{OpLE, classNumber, false},
	{OpLT, classNumber, false},
	{OpGE, classNumber, false},
	{OpGT, classNumber, false},
	{OpEqEq, classString, false},
	{OpEq, classString, false},
	{OpNe, classString, false},
	{OpGlob, classString, true},
	{OpIGlob, classString, true},
	{OpContains, classString, true},
	{OpIContains, classString, true},
	{OpBContains, classString, true},
	{OpStartsWith, classString, true},
	{OpBStartsWith, classString, true},
	{OpEndsWith, classString, true},
	{OpRegex, classString, true},
	{OpIntersects, classList, false},
	{OpIn, classList, false},
	{OpPMatch, classList, false},
}

// Operators returns every comparison operator, in the order Falco's parser
// tries them.
func Operators() []Operator {
	out := make([]Operator, len(operatorTable))
	for i, o := range operatorTable {
		out[i] = o.op
	}
	return out
}

// Valid reports whether o is one of Falco's comparison operators.
func (o Operator) Valid() bool {
	_, ok := o.class()
	return ok
}

// TakesList reports whether o compares with a list: in, intersects, pmatch.
func (o Operator) TakesList() bool {
	c, _ := o.class()
	return c == classList
}

func (o Operator) class() (operatorClass, bool) {
	for _, e := range operatorTable {
		if e.op == o {
			return e.class, true
		}
	}
	return 0, false
}

// Modifiers are the list modifiers Falco 0.44 accepts after a string
// operator (libs issue #2983): `proc.name startswith oneof (a, b)`.
var Modifiers = []string{"oneof", "anyof", "allof"}

func isModifier(s string) bool {
	for _, m := range Modifiers {
		if m == s {
			return true
		}
	}
	return false
}

// Transformers are the transformer names of libs' parser
// (s_field_transformers), and val, which compares two fields.
var Transformers = []string{"tolower", "toupper", "b64", "basename", "len", "join"}

// transformerAt returns the transformer whose name and "(" start s, as the
// parser matches them (no blank between the name and the parenthesis).
func transformerAt(s string) string {
	for _, t := range Transformers {
		if len(s) > len(t) && s[:len(t)] == t && s[len(t)] == '(' {
			return t
		}
	}
	return ""
}
