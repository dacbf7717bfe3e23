package condition

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// syscallFieldsText is the field table of the syscall source; its header
// says where it was taken from.
//
//go:embed fields_syscall.txt
var syscallFieldsText string

// FieldInfo is one field an event source offers.
type FieldInfo struct {
	Name string
	// BracketArg and DottedArg say the field takes an argument as
	// `name[arg]` or `name.arg`; ArgRequired that it must have one.
	BracketArg, DottedArg, ArgRequired bool
	// Plugin names the plugin that provides the field, "" for libs' own.
	Plugin string
}

// FieldTable is the set of fields of one event source.
type FieldTable struct {
	byName map[string]FieldInfo
	names  []string // sorted
}

var syscallFields = sync.OnceValue(func() *FieldTable {
	t, err := parseFieldTable(syscallFieldsText)
	if err != nil {
		panic(err) // the embedded table is tested
	}
	return t
})

// SyscallFields returns the fields of Falco's syscall source, with those of
// the container plugin the official images load.
func SyscallFields() *FieldTable { return syscallFields() }

func parseFieldTable(text string) (*FieldTable, error) {
	t := &FieldTable{byName: map[string]FieldInfo{}}
	plugin := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "== plugin "); ok {
			plugin = strings.TrimSpace(rest)
			continue
		}
		words := strings.Fields(line)
		f := FieldInfo{Name: words[0], Plugin: plugin}
		if scanFieldName(f.Name, 0) != len(f.Name) {
			return nil, fmt.Errorf("field table line %d: %q is not a field name", i+1, f.Name)
		}
		for _, w := range words[1:] {
			switch w {
			case "[arg]":
				f.BracketArg = true
			case ".arg":
				f.DottedArg = true
			case "required":
				f.ArgRequired = true
			default:
				return nil, fmt.Errorf("field table line %d: unknown word %q", i+1, w)
			}
		}
		if _, dup := t.byName[f.Name]; dup {
			return nil, fmt.Errorf("field table line %d: %s listed twice", i+1, f.Name)
		}
		t.byName[f.Name] = f
		t.names = append(t.names, f.Name)
	}
	slices.Sort(t.names)
	return t, nil
}

// Names returns every field name, sorted.
func (t *FieldTable) Names() []string { return slices.Clone(t.names) }

// Lookup finds the field a name, as the parser reads it, refers to: the
// name itself, or the longest field it extends with `.arg` when that field
// takes a dotted argument (`evt.arg.flags` is evt.arg with argument flags).
func (t *FieldTable) Lookup(name string) (f FieldInfo, dotted string, ok bool) {
	if f, ok := t.byName[name]; ok {
		return f, "", true
	}
	for i := len(name) - 1; i > 0; i-- {
		if name[i] != '.' {
			continue
		}
		if f, ok := t.byName[name[:i]]; ok && f.DottedArg {
			return f, name[i+1:], true
		}
	}
	return FieldInfo{}, "", false
}

// Problem says what Falco would refuse in a field reference, and what to
// do; both "" when it accepts it. An unknown name gets no hint here (the
// caller knows the close names).
func (t *FieldTable) Problem(f *Field) (msg, hint string) {
	info, dotted, ok := t.Lookup(f.Name)
	switch {
	case !ok:
		return fmt.Sprintf("unknown field %q", f.Name), ""
	case f.HasArg && !info.BracketArg:
		return fmt.Sprintf("field %s takes no argument in brackets", f.Name), fmt.Sprintf("remove [%s]", f.Arg)
	case info.ArgRequired && !f.HasArg && dotted == "":
		return fmt.Sprintf("field %s needs an argument", info.Name), argExample(info)
	}
	return "", ""
}

func argExample(f FieldInfo) string {
	var forms []string
	if f.DottedArg {
		forms = append(forms, f.Name+".NAME")
	}
	if f.BracketArg {
		forms = append(forms, f.Name+"[ARG]")
	}
	return "write " + strings.Join(forms, " or ")
}

// OutputField finds the field an output format token starts with, the way
// Falco's formatter does: the longest field name that s begins with (what
// follows it is an argument, or plain text). n is the length of the name,
// 0 when no field matches.
func (t *FieldTable) OutputField(s string) (f FieldInfo, n int) {
	end := 0
	for end < len(s) && (isIdentByte(s[end]) || s[end] == '.') {
		end++
	}
	for ; end > 0; end-- {
		if f, ok := t.byName[s[:end]]; ok {
			return f, end
		}
	}
	return FieldInfo{}, 0
}
