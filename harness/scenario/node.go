package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks one technique file's YAML nodes. It never stops at the first
// problem: every problem gets the node's line and column and the scenario
// and step being read.
type decoder struct {
	path     string
	problems []Problem
	scenario string // id of the scenario being read
	where    string // "step 2", "expect 1", ...
	rules    RuleIndex
	// labels remember the where of each step and matcher by position, for
	// checks made after decoding: items that failed to decode are not in
	// the Scenario, so a slice index would misnumber the rest.
	labels map[[2]int]string
}

// remember records the current where for the item at n.
func (d *decoder) remember(n *yaml.Node) {
	if d.labels == nil {
		d.labels = map[[2]int]string{}
	}
	d.labels[[2]int{n.Line, n.Column}] = d.where
}

func (d *decoder) label(line, column int) string { return d.labels[[2]int{line, column}] }

func (d *decoder) add(n *yaml.Node, warning bool, hint, format string, args ...any) {
	p := Problem{
		File:     d.path,
		Scenario: d.scenario,
		Where:    d.where,
		Msg:      fmt.Sprintf(format, args...),
		Hint:     hint,
		Warning:  warning,
	}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

func (d *decoder) errorf(n *yaml.Node, hint, format string, args ...any) {
	d.add(n, false, hint, format, args...)
}

func (d *decoder) warnf(n *yaml.Node, hint, format string, args ...any) {
	d.add(n, true, hint, format, args...)
}

// deref follows an alias to its anchored node. checkAliases has already
// refused cycles, so the chain ends.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// maxExpandedNodes bounds what aliases may expand a file to. Aliases of
// aliases grow a tree exponentially ("billion laughs"); a real technique
// file has a few hundred nodes.
const maxExpandedNodes = 100_000

// checkAliases refuses alias cycles and files whose aliases expand to more
// than maxExpandedNodes nodes, before anything walks the tree.
func checkAliases(root *yaml.Node) (*yaml.Node, string) {
	const visiting = -1
	sizes := map[*yaml.Node]int{}
	var bad *yaml.Node
	var why string
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n == nil || bad != nil {
			return 0
		}
		if s, ok := sizes[n]; ok {
			if s == visiting {
				bad, why = n, "an alias refers to a node that contains it"
				return 0
			}
			return s
		}
		sizes[n] = visiting
		total := 1
		if n.Kind == yaml.AliasNode {
			total += size(n.Alias)
		}
		for _, c := range n.Content {
			total += size(c)
			if total > maxExpandedNodes {
				total = maxExpandedNodes + 1
				break
			}
		}
		sizes[n] = total
		return total
	}
	if size(root) > maxExpandedNodes && bad == nil {
		bad, why = root, fmt.Sprintf("aliases expand this file to more than %d YAML nodes", maxExpandedNodes)
	}
	return bad, why
}

// pair is one key of a mapping with its value (aliases resolved).
type pair struct {
	key *yaml.Node
	val *yaml.Node
}

func (p pair) name() string { return p.key.Value }

// mapping reads a mapping's keys in file order, resolving aliases and merge
// keys (<<), and reporting duplicate and unknown keys. allowed lists the
// known keys, in the order the hint should name them.
func (d *decoder) mapping(n *yaml.Node, what string, allowed []string) ([]pair, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		d.errorf(n, "write it as key: value lines; keys: "+strings.Join(allowed, ", "), "%s must be a mapping", what)
		return nil, false
	}
	var out []pair
	seen := map[string]*yaml.Node{}
	var merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, "keys are plain words: "+strings.Join(allowed, ", "), "a key of %s is not a plain word", what)
			continue
		}
		if k.Tag == "!!merge" {
			merged = append(merged, d.mergeSources(v, what, allowed)...)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.errorf(k, "keep one", "key %q appears twice (first at line %d)", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		if !d.knownKey(k, what, allowed) {
			continue
		}
		out = append(out, pair{k, v})
	}
	// Explicit keys win over merged ones, as in YAML's merge key type.
	for _, p := range merged {
		if _, ok := seen[p.name()]; ok {
			continue
		}
		seen[p.name()] = p.key
		out = append(out, p)
	}
	return out, true
}

func (d *decoder) mergeSources(v *yaml.Node, what string, allowed []string) []pair {
	if v.Kind == yaml.SequenceNode {
		var out []pair
		for _, c := range v.Content {
			out = append(out, d.mergeSources(deref(c), what, allowed)...)
		}
		return out
	}
	ps, _ := d.mapping(v, "a merge (<<) into "+what, allowed)
	return ps
}

func (d *decoder) knownKey(k *yaml.Node, what string, allowed []string) bool {
	for _, a := range allowed {
		if k.Value == a {
			return true
		}
	}
	hint := "known keys: " + strings.Join(allowed, ", ")
	if c := closest(k.Value, allowed); c != "" {
		hint = fmt.Sprintf("did you mean %q? known keys: %s", c, strings.Join(allowed, ", "))
	}
	d.errorf(k, hint, "unknown key %q in %s", k.Value, what)
	return false
}

// closest returns the candidate within a small edit distance of s, if any.
func closest(s string, candidates []string) string {
	best, bestD := "", max(2, len(s)/4)+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// neighbours that turn a into b (optimal string alignment): "setps" is one
// swap away from "steps".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// str reads a string. Any scalar but null counts: `user: 1000` is the
// string "1000".
func (d *decoder) str(n *yaml.Node, what, hint string) (string, bool) {
	switch {
	case isNull(n):
		d.errorf(n, hint, "%s is empty", what)
		return "", false
	case n.Kind != yaml.ScalarNode:
		d.errorf(n, hint, "%s must be a single value, not a %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

// boolean reads true or false. YAML 1.1 spellings (yes, on) are refused:
// yaml.v3 reads them as strings, and a silent string would be worse.
func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		if v, err := strconv.ParseBool(strings.ToLower(n.Value)); err == nil {
			return v, true
		}
	}
	d.errorf(n, "write true or false", "%s must be true or false, not %s", what, describe(n))
	return false, false
}

// count reads a number of alerts: a whole number, 0 or more.
func (d *decoder) count(n *yaml.Node, what string) (int, bool) {
	var v int
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		d.errorf(n, "write a whole number like 1", "%s must be a whole number, not %s", what, describe(n))
		return 0, false
	}
	if v < 0 {
		d.errorf(n, "use 0 or more", "%s must not be negative, got %d", what, v)
		return 0, false
	}
	return v, true
}

// duration reads a positive Go duration ("500ms", "10s", "2m").
func (d *decoder) duration(n *yaml.Node, what string) (time.Duration, bool) {
	const hint = "use a Go duration like 500ms, 10s or 2m"
	s, ok := d.str(n, what, hint)
	if !ok {
		return 0, false
	}
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		d.errorf(n, hint, "%s %q is not a duration", what, s)
		return 0, false
	}
	if v <= 0 {
		d.errorf(n, hint, "%s must be positive, not %q", what, s)
		return 0, false
	}
	return v, true
}

// stringMap reads a mapping of plain values (env).
func (d *decoder) stringMap(n *yaml.Node, what string) ([]pair, bool) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "write NAME: value lines", "%s must be a mapping of names to values", what)
		return nil, false
	}
	var out []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
			d.errorf(k, "write NAME: value lines", "a key of %s is not a plain name", what)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			d.errorf(k, "keep one", "key %q appears twice (first at line %d)", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		out = append(out, pair{k, v})
	}
	return out, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "value"
	}
	return "node"
}

// describe shows a value in a message: scalars quoted, others by kind.
func describe(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	if n.Kind == yaml.ScalarNode {
		if n.Tag == "!!null" {
			return "empty"
		}
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}
