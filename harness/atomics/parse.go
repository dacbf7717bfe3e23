package atomics

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/yamlsyntax"
)

// Keys of each mapping of the format (atomic_red_team/spec.yaml). Other keys
// are warnings, not errors: the format is Atomic Red Team's and may grow.
var (
	techniqueKeys  = []string{"attack_technique", "display_name", "atomic_tests"}
	testKeys       = []string{"name", "auto_generated_guid", "description", "supported_platforms", "input_arguments", "dependency_executor_name", "dependencies", "executor"}
	inputKeys      = []string{"description", "type", "default"}
	dependencyKeys = []string{"description", "prereq_command", "get_prereq_command"}
	executorKeys   = []string{"name", "command", "cleanup_command", "elevation_required", "steps"}
)

// Problem is one thing wrong in an atomics file.
type Problem struct {
	File         string
	Line, Column int    // 1-based; 0 when about the whole file
	Where        string // the test it is in: `atomic test 2 "name"`; "" for the file
	Msg          string
	Hint         string // what to do
	Warning      bool   // the file still imports
}

// String formats the problem as `path:line:col: [warning: ]where: what (hint)`.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Where != "" {
		b.WriteString(p.Where + ": ")
	}
	b.WriteString(p.Msg)
	if p.Hint != "" {
		b.WriteString(" (" + p.Hint + ")")
	}
	return b.String()
}

// ParseError lists the problems of a file that did not parse.
type ParseError struct {
	Problems []Problem
}

func (e *ParseError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return "parse atomics: " + strings.Join(lines, "\n")
}

// Parse reads one atomics file. path names it in problems. On error the
// returned *ParseError lists every problem found; warnings (keys the format
// does not have) come back with a nil error when nothing else is wrong.
func Parse(path string, data []byte) (*Technique, []Problem, error) {
	p := &parser{path: path}
	t := p.technique(data)
	slices.SortStableFunc(p.problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	var errs, warns []Problem
	for _, pr := range p.problems {
		if pr.Warning {
			warns = append(warns, pr)
		} else {
			errs = append(errs, pr)
		}
	}
	if len(errs) > 0 {
		return nil, warns, &ParseError{Problems: errs}
	}
	return t, warns, nil
}

type parser struct {
	path     string
	where    string
	problems []Problem
}

func (p *parser) errorf(n *yaml.Node, hint, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.path, Line: n.Line, Column: n.Column, Where: p.where, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (p *parser) warnf(n *yaml.Node, hint, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.path, Line: n.Line, Column: n.Column, Where: p.where, Msg: fmt.Sprintf(format, args...), Hint: hint, Warning: true})
}

func (p *parser) technique(data []byte) *Technique {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(&yaml.Node{}, "an atomics file holds attack_technique and atomic_tests", "file is empty")
			return nil
		}
		line, msg := yamlsyntax.Locate(data, err)
		p.errorf(&yaml.Node{Line: line, Column: 1}, "fix the YAML syntax", "%s", msg)
		return nil
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		p.errorf(&yaml.Node{}, "an atomics file holds attack_technique and atomic_tests", "file is empty")
		return nil
	}
	root := resolve(doc.Content[0])
	pairs, ok := p.mapping(root, "an atomics file", techniqueKeys)
	if !ok {
		return nil
	}
	t := &Technique{Path: p.path}
	var tests *yaml.Node
	for _, kv := range pairs {
		switch kv.key.Value {
		case "attack_technique":
			t.ID, _ = p.text(kv.val, "attack_technique")
		case "display_name":
			t.DisplayName, _ = p.text(kv.val, "display_name")
		case "atomic_tests":
			tests = kv.val
		}
	}
	if t.ID == "" {
		p.errorf(root, `give the ATT&CK id, like "attack_technique: T1070.003"`, "missing attack_technique")
	}
	if tests == nil {
		p.errorf(root, "list the tests under atomic_tests", "missing atomic_tests")
		return t
	}
	if tests.Kind != yaml.SequenceNode {
		p.errorf(tests, "write atomic_tests as a list of tests (- name: ...)", "atomic_tests is not a list")
		return t
	}
	for i, n := range tests.Content {
		t.Tests = append(t.Tests, p.test(resolve(n), i+1))
	}
	return t
}

func (p *parser) test(n *yaml.Node, number int) Test {
	t := Test{Number: number, Line: n.Line}
	p.where = fmt.Sprintf("atomic test %d", number)
	defer func() { p.where = "" }()
	// The name goes into every problem of the test, also those of keys
	// before it.
	if v := scalarValue(n, "name"); v != "" {
		p.where = fmt.Sprintf("atomic test %d %q", number, v)
	}
	pairs, ok := p.mapping(n, "an atomic test", testKeys)
	if !ok {
		return t
	}
	if v := lookup(pairs, "name"); v != nil {
		t.Name, _ = p.text(v, "name")
	}
	var executor *yaml.Node
	for _, kv := range pairs {
		switch kv.key.Value {
		case "auto_generated_guid":
			t.GUID, _ = p.text(kv.val, kv.key.Value)
		case "description":
			t.Description, _ = p.text(kv.val, kv.key.Value)
		case "supported_platforms":
			t.Platforms = p.strings(kv.val, kv.key.Value)
		case "input_arguments":
			t.Inputs = p.inputs(kv.val)
		case "dependency_executor_name":
			t.DependencyExecutor, _ = p.text(kv.val, kv.key.Value)
		case "dependencies":
			t.Dependencies = p.dependencies(kv.val)
		case "executor":
			executor = kv.val
		}
	}
	if t.Name == "" {
		p.errorf(n, "name the test", "missing name")
	}
	if executor == nil {
		p.errorf(n, "add executor: with name and command", "missing executor")
		return t
	}
	t.Executor = p.executor(executor)
	return t
}

func (p *parser) inputs(n *yaml.Node) []Input {
	if isNull(n) {
		return nil
	}
	pairs, ok := p.mapping(n, "input_arguments", nil)
	if !ok {
		return nil
	}
	var out []Input
	for _, kv := range pairs {
		in := Input{Name: kv.key.Value}
		if isNull(kv.val) {
			out = append(out, in)
			continue
		}
		args, ok := p.mapping(kv.val, fmt.Sprintf("input argument %q", in.Name), inputKeys)
		if !ok {
			continue
		}
		for _, a := range args {
			switch a.key.Value {
			case "description":
				in.Description, _ = p.text(a.val, "description")
			case "type":
				in.Type, _ = p.text(a.val, "type")
			case "default":
				if !isNull(a.val) {
					in.Default, in.HasDefault = p.text(a.val, fmt.Sprintf("default of input argument %q", in.Name))
				}
			}
		}
		out = append(out, in)
	}
	return out
}

func (p *parser) dependencies(n *yaml.Node) []Dependency {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "write dependencies as a list (- description: ...)", "dependencies is not a list")
		return nil
	}
	var out []Dependency
	for i, item := range n.Content {
		item = resolve(item)
		var d Dependency
		pairs, ok := p.mapping(item, fmt.Sprintf("dependency %d", i+1), dependencyKeys)
		if !ok {
			continue
		}
		for _, kv := range pairs {
			switch kv.key.Value {
			case "description":
				d.Description, _ = p.text(kv.val, kv.key.Value)
			case "prereq_command":
				d.Prereq, _ = p.text(kv.val, kv.key.Value)
			case "get_prereq_command":
				d.GetPrereq, _ = p.text(kv.val, kv.key.Value)
			}
		}
		out = append(out, d)
	}
	return out
}

func (p *parser) executor(n *yaml.Node) Executor {
	var e Executor
	pairs, ok := p.mapping(n, "executor", executorKeys)
	if !ok {
		return e
	}
	for _, kv := range pairs {
		switch kv.key.Value {
		case "name":
			e.Name, _ = p.text(kv.val, kv.key.Value)
		case "command":
			e.Command, _ = p.text(kv.val, kv.key.Value)
		case "cleanup_command":
			e.Cleanup, _ = p.text(kv.val, kv.key.Value)
		case "steps":
			e.Steps, _ = p.text(kv.val, kv.key.Value)
		case "elevation_required":
			if isNull(kv.val) {
				continue
			}
			var b bool
			if kv.val.Kind != yaml.ScalarNode || kv.val.Decode(&b) != nil {
				p.errorf(kv.val, "write true or false", "elevation_required is not a boolean")
			}
			e.ElevationRequired = b
		}
	}
	if e.Name == "" {
		p.errorf(n, "name the executor: sh, bash, command_prompt, powershell or manual", "executor has no name")
	}
	return e
}

type pair struct{ key, val *yaml.Node }

// mapping returns n's pairs, or reports that n is not a mapping. Keys not in
// known are warnings (nil known accepts every key).
func (p *parser) mapping(n *yaml.Node, what string, known []string) ([]pair, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "see atomic_red_team/spec.yaml of Atomic Red Team", "%s must be a mapping", what)
		return nil, false
	}
	var out []pair
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		switch {
		case seen[k.Value]:
			p.errorf(k, "keep one of them", "key %q appears twice in %s", k.Value, what)
			continue
		case known != nil && !slices.Contains(known, k.Value):
			p.warnf(k, "keys of "+what+": "+strings.Join(known, ", "), "key %q is not part of the atomics format; ignored", k.Value)
			continue
		}
		seen[k.Value] = true
		out = append(out, pair{k, v})
	}
	return out, true
}

// text reads a scalar as written (numbers and booleans as their text); null
// reads as "".
func (p *parser) text(n *yaml.Node, what string) (string, bool) {
	switch {
	case isNull(n):
		return "", false
	case n.Kind != yaml.ScalarNode:
		p.errorf(n, "write it as a string", "%s is not a string", what)
		return "", false
	}
	return n.Value, true
}

func (p *parser) strings(n *yaml.Node, what string) []string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "write it as a list: [linux, macos]", "%s is not a list", what)
		return nil
	}
	var out []string
	for _, item := range n.Content {
		if s, ok := p.text(resolve(item), what+" item"); ok {
			out = append(out, s)
		}
	}
	return out
}

func lookup(pairs []pair, key string) *yaml.Node {
	for _, kv := range pairs {
		if kv.key.Value == key {
			return kv.val
		}
	}
	return nil
}

// scalarValue is the value of a mapping's scalar key, or "".
func scalarValue(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := resolve(n.Content[i+1]); n.Content[i].Value == key && v.Kind == yaml.ScalarNode && !isNull(v) {
			return v.Value
		}
	}
	return ""
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

// resolve follows an alias to what it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}
