package rules

import (
	"cmp"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultSource is the event source of a rule that names none.
const DefaultSource = "syscall"

// Position is a place in a rules file. Line and Column are 1-based; Line 0
// means the whole file.
type Position struct {
	File   string
	Line   int
	Column int
}

func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

// Compare orders positions by file, then line, then column, as problems
// are listed; it returns -1, 0 or +1 like cmp.Compare.
func (p Position) Compare(q Position) int {
	return cmp.Or(cmp.Compare(p.File, q.File), cmp.Compare(p.Line, q.Line), cmp.Compare(p.Column, q.Column))
}

// Rule is the final state of one Falco rule after every file, append and
// override was applied, as Falco itself would hold it.
type Rule struct {
	Name      string
	Desc      string
	Condition string
	Output    string
	Priority  Priority
	Source    string   // event source ("syscall" unless the rule says otherwise)
	Tags      []string // sorted and unique: Falco keeps tags as a set
	Enabled   bool
	// Exceptions are the rule's exceptions as written (after appends), not
	// interpreted.
	Exceptions []*yaml.Node
	// Pos is the item that defined the rule (the last one, when it was
	// defined again).
	Pos Position
	// Changes are the later items that appended to, overrode, enabled or
	// disabled it, in load order.
	Changes []Position
	// Hash is a hex SHA-256 of everything that decides what the rule does:
	// its keys above (whitespace of condition and desc collapsed, output
	// trimmed, positions excluded) and the final definitions of the macros and
	// lists its condition names, transitively. Two loads with equal hashes
	// behave the same; a reformatted file keeps its hashes.
	Hash string

	// flags are the optional keys with no field of their own
	// (warn_evttypes, skip-if-unknown-filter, capture*), kept for Hash.
	flags map[string]string
	// cond and output are the scalars Condition and Output came from.
	cond, output textParts
}

// Macro is the final state of one macro.
type Macro struct {
	Name      string
	Condition string
	Pos       Position
	Changes   []Position

	cond textParts // the scalars Condition came from
	// index is the macro's place among macro definitions (its first),
	// visible the place of its last definition or append: Falco resolves
	// a macro's condition against the macros whose index is lower than its
	// visible (rule_loader_collector.cpp, define_info and append_info).
	index, visible int
}

// List is the final state of one list.
type List struct {
	Name    string
	Items   []string
	Pos     Position
	Changes []Position
}

// File is one rules file that was read.
type File struct {
	Path   string // as given, or joined to the directory it was found in
	SHA256 string // hex digest of the file's bytes
}

// Index is what a set of Falco rules files defines, in Falco's load order.
type Index struct {
	files    []File
	rules    []*Rule // order of first definition, as Falco keeps it
	byName   map[string]*Rule
	macros   []*Macro
	macroBy  map[string]*Macro
	lists    []*List
	listBy   map[string]*List
	warnings []Problem
	// failed names rules whose definition had problems, so that callers
	// need not report them missing a second time.
	failed map[string]bool
	// unread are the paths and files that could not be read or parsed.
	unread []string
	// opaque is set when one of them could not be read at all, so that
	// what it defines is unknown; mentioned holds, by kind, the names the
	// others (read but not parsed) seem to define.
	opaque    bool
	mentioned map[string]map[string]bool
	// plugins are the names in required_plugin_versions.
	plugins []string
	// loadFailed says some item could not be read: a name it defined may
	// be missing.
	loadFailed bool
}

func newIndex() *Index {
	return &Index{
		byName:  map[string]*Rule{},
		macroBy: map[string]*Macro{},
		listBy:  map[string]*List{},
		failed:  map[string]bool{},

		mentioned: map[string]map[string]bool{},
	}
}

// Files returns the files read, in load order.
func (x *Index) Files() []File { return append([]File(nil), x.files...) }

// Rules returns every rule in Falco's order (where each was first defined).
func (x *Index) Rules() []Rule {
	out := make([]Rule, len(x.rules))
	for i, r := range x.rules {
		out[i] = r.clone()
	}
	return out
}

// Rule returns the named rule.
func (x *Index) Rule(name string) (Rule, bool) {
	r, ok := x.byName[name]
	if !ok {
		return Rule{}, false
	}
	return r.clone(), true
}

// Has reports whether a rule with this exact name exists.
func (x *Index) Has(name string) bool {
	_, ok := x.byName[name]
	return ok
}

// Failed reports whether a rule the index lacks may be defined in the
// files all the same: its definition had problems, or a rules path or file
// could not be read or parsed (see Unread). Either is in LoadPaths' error;
// a caller need not report the rule missing on top of it.
func (x *Index) Failed(name string) bool {
	return x.byName[name] == nil && (x.failed[name] || x.mayDefine("rule", name))
}

// mayDefine reports whether a file that could not be read or parsed
// defines, or may define, the rule, macro or list (kind) of that name.
func (x *Index) mayDefine(kind, name string) bool { return x.opaque || x.mentioned[kind][name] }

// definedName finds the items a rules file defines, line by line, in a file
// that is not valid YAML: "- rule: Name", "  macro: 'name'".
var definedName = regexp.MustCompile(`(?m)^[ \t-]*(rule|macro|list):[ \t]*(.*?)[ \t]*$`)

// mention records the names a rules file that did not parse seems to
// define, so that what refers to them is not reported missing as well.
func (x *Index) mention(b []byte) {
	for _, m := range definedName.FindAllSubmatch(b, -1) {
		kind, name := string(m[1]), string(m[2])
		if i := strings.Index(name, " #"); i >= 0 && name[0] != '"' && name[0] != '\'' {
			name = strings.TrimSpace(name[:i])
		}
		if len(name) >= 2 && (name[0] == '"' || name[0] == '\'') && name[len(name)-1] == name[0] {
			name = name[1 : len(name)-1]
		}
		if x.mentioned[kind] == nil {
			x.mentioned[kind] = map[string]bool{}
		}
		x.mentioned[kind][name] = true
	}
}

// Unread returns the rules paths and files that could not be read or
// parsed, in load order: the index lacks whatever they define.
func (x *Index) Unread() []string { return append([]string(nil), x.unread...) }

// Macros returns every macro in order of first definition.
func (x *Index) Macros() []Macro {
	out := make([]Macro, len(x.macros))
	for i, m := range x.macros {
		out[i] = *m
		out[i].Changes = append([]Position(nil), m.Changes...)
	}
	return out
}

// Lists returns every list in order of first definition.
func (x *Index) Lists() []List {
	out := make([]List, len(x.lists))
	for i, l := range x.lists {
		out[i] = *l
		out[i].Items = append([]string(nil), l.Items...)
		out[i].Changes = append([]Position(nil), l.Changes...)
	}
	return out
}

// Warnings returns what Falco would accept but a rule author should hear
// about: ATT&CK tags this release does not know, unknown or ignored keys,
// deprecated forms, redefined rules, files Falco would read differently.
func (x *Index) Warnings() []Problem { return append([]Problem(nil), x.warnings...) }

// Closest returns up to n rule names close to name (case, typos, one
// containing the other), closest first, for "did you mean" hints.
func (x *Index) Closest(name string, n int) []string {
	names := make([]string, len(x.rules))
	for i, r := range x.rules {
		names[i] = r.Name
	}
	return closestNames(name, names, n)
}

// closestNames returns up to n of names close to name, closest first.
func closestNames(name string, names []string, n int) []string {
	type cand struct {
		name string
		dist int
	}
	want := strings.ToLower(name)
	limit := max(2, len([]rune(want))/4)
	var cands []cand
	for _, c := range names {
		have := strings.ToLower(c)
		d := levenshtein(want, have)
		switch {
		case have == want:
			d = 0
		case len(want) >= 4 && (strings.Contains(have, want) || strings.Contains(want, have)):
			d = min(d, limit)
		case d > limit:
			continue
		}
		cands = append(cands, cand{c, d})
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].dist != cands[j].dist {
			return cands[i].dist < cands[j].dist
		}
		return cands[i].name < cands[j].name
	})
	var out []string
	for _, c := range cands {
		if c.name == name || len(out) == n {
			continue
		}
		out = append(out, c.name)
	}
	return out
}

func (r *Rule) clone() Rule {
	c := *r
	c.Tags = append([]string(nil), r.Tags...)
	c.Exceptions = append([]*yaml.Node(nil), r.Exceptions...)
	c.Changes = append([]Position(nil), r.Changes...)
	c.flags = nil
	return c
}

// levenshtein is the edit distance of two strings, by runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
