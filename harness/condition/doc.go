// Package condition parses Falco rule conditions into a tree, prints trees
// back as conditions, and knows the fields of Falco's syscall source.
//
// Parse gives the tree Falco's own parser gives, with the byte offsets of
// every node (Span) so that errors and edits point at the source:
//
//	e, err := condition.Parse(`spawned_process and proc.name in (bash, sh)`)
//	// e is &And{Terms: [&Ident{Name: "spawned_process"},
//	//          &Compare{Left: &Field{Name: "proc.name"}, Op: "in", Right: &List{…}}]}
//
// Print writes a tree back as a condition that parses to an Equal tree.
// Walk, Children, Clone, Replace and Equal are the tools to build edited
// copies (mutants) of a condition without touching the original:
//
//	condition.Walk(e, func(n condition.Node) bool {
//		if c, ok := n.(*condition.Compare); ok {
//			mutant := condition.Replace(e, c, &condition.Not{X: condition.Clone(c)})
//			text, err := condition.Print(mutant)
//			…
//		}
//		return true
//	})
//
// # Grammar
//
// The grammar is libs' (falcosecurity/libs userspace/libsinsp/filter/
// parser.h and parser.cpp, the version with join() and transformer lists,
// as read in December 2026), matched function by function:
//
//	Expr       ::= Or
//	Or         ::= And ('or' (blank And | '(' Expr ')'))*
//	And        ::= Not ('and' (blank Not | '(' Expr ')'))*
//	Not        ::= ('not' space+)* ('not(' Expr ')' | Check)
//	Check      ::= '(' Expr ')' | Left Condition | Identifier
//	Left       ::= Field | Transformer
//	Field      ::= FieldName ('[' (QuotedStr | FieldArgBareStr) ']')?
//	Condition  ::= 'exists'
//	             | NumOp (Transformer | Number)
//	             | StrOp (Modifier '(' Items ')' | Transformer | QuotedStr | BareStr)
//	             | ListOp ('(' Items? ')' | Transformer | Identifier)
//	Transformer::= ('tolower'|'toupper'|'b64'|'basename'|'len'|'join') '(' Arg (',' Arg)* ')'
//	             | 'val(' Field ')'                      (right side only)
//	Arg        ::= Number | QuotedStr | '(' Arg-list ')' | Transformer | Field
//	NumOp      ::= '<=' | '<' | '>=' | '>'
//	StrOp      ::= '==' | '=' | '!=' | ('glob'|'iglob'|'contains'|'icontains'|'bcontains'
//	               |'startswith'|'bstartswith'|'endswith'|'regex') blank
//	ListOp     ::= 'intersects' | 'in' | 'pmatch'
//	Modifier   ::= 'oneof' | 'anyof' | 'allof'           (Falco 0.44)
//
// with the token classes of parser.cpp (lex.go): identifiers
// [a-zA-Z]+[a-zA-Z0-9_]*, field names identifier(.identifier)+, bare strings
// [^()"'[:space:]=,]+, numbers and 0x hex numbers, single- or double-quoted
// strings with libs' escapes (escaping.cpp: \b \f \n \r \t \\ \/ and the
// quote; `\ ` is a backslash). Precedence is not > and > or; an even run of
// `not` cancels out. Falco's docs ("Condition Syntax",
// falco.org/docs/concepts/rules/conditions) describe the same language for
// users. The list modifiers are Falco 0.44's (libs issue #2983, Falco PR
// #3878); the exact lexing of a modifier was not in the libs source read,
// so Parse takes one only when "(" follows it, which is how those tests and
// docs write it.
//
// Where Parse differs from libs on purpose, it refuses what libs accepts
// only by accident: a word operator not followed by a blank
// (`globin (a)`, which libs reads as `in (a)`), an invalid escape in the
// first item of a list (which libs reads as an empty list), and a NUL byte.
// Error messages are written for rule authors; libs' say less.
//
// # Fields
//
// SyscallFields is the field table of the syscall source with the container
// plugin's fields (fields_syscall.txt says where it comes from): Lookup
// resolves a field as the parser reads it (`evt.arg.flags` is evt.arg with
// argument flags), Problem says what Falco would refuse in a field
// reference, OutputField reads an output's %field tokens the way Falco's
// formatter does.
package condition
