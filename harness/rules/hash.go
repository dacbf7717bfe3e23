package rules

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// conditionSeparators split a condition into the words that may name macros
// and lists. This is no parser: a word inside a quoted string that happens
// to be a macro name is hashed too, which only makes a hash stricter.
var conditionSeparators = regexp.MustCompile(`[\s(),=<>!"']+`)

func (x *Index) computeHashes() {
	for _, r := range x.rules {
		h := sha256.New()
		x.writeRule(h, r)
		r.Hash = hex.EncodeToString(h.Sum(nil))
	}
}

func (x *Index) writeRule(h hash.Hash, r *Rule) {
	field := func(k, v string) {
		writeString(h, k)
		writeString(h, v)
	}
	field("rule", r.Name)
	field("desc", collapseSpace(r.Desc))
	field("condition", collapseSpace(r.Condition))
	field("output", strings.TrimSpace(r.Output))
	field("priority", r.Priority.String())
	field("source", r.Source)
	if r.Enabled {
		field("enabled", "true")
	} else {
		field("enabled", "false")
	}
	field("tags", strings.Join(r.Tags, "\x00"))
	flags := make([]string, 0, len(r.flags))
	for k := range r.flags {
		flags = append(flags, k)
	}
	sort.Strings(flags)
	for _, k := range flags {
		field(k, r.flags[k])
	}
	writeString(h, "exceptions")
	for _, ex := range r.Exceptions {
		writeNode(h, ex)
	}
	seen := map[string]bool{}
	x.writeReferences(h, r.Condition, seen)
}

// writeReferences hashes the macros and lists a condition (or list items)
// names, depth first, each once.
func (x *Index) writeReferences(h hash.Hash, text string, seen map[string]bool) {
	for _, word := range conditionSeparators.Split(text, -1) {
		if word == "" || seen[word] {
			continue
		}
		if m, ok := x.macroBy[word]; ok {
			seen[word] = true
			writeString(h, "macro")
			writeString(h, m.Name)
			writeString(h, collapseSpace(m.Condition))
			x.writeReferences(h, m.Condition, seen)
		}
		if l, ok := x.listBy[word]; ok {
			seen[word] = true
			writeString(h, "list")
			writeString(h, l.Name)
			writeString(h, strings.Join(l.Items, "\x00"))
			// List items may name other lists.
			x.writeReferences(h, strings.Join(l.Items, " "), seen)
		}
	}
}

func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// writeString writes a length-prefixed string so that field boundaries
// cannot shift between two different rules with the same concatenation.
func writeString(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// writeNode hashes a YAML value by meaning: mapping keys in sorted order,
// style and comments ignored.
func writeNode(h hash.Hash, n *yaml.Node) {
	budget := maxHashedNodes
	writeNodeBudget(h, n, &budget)
}

// maxHashedNodes bounds the walk: aliases of aliases make a tree
// exponentially large, and exceptions are small. Past the bound the rest of
// the value is left out of the hash.
const maxHashedNodes = 100_000

func writeNodeBudget(h hash.Hash, n *yaml.Node, budget *int) {
	n = deref(n)
	if n == nil || *budget <= 0 {
		writeString(h, "~")
		return
	}
	*budget--
	switch n.Kind {
	case yaml.ScalarNode:
		writeString(h, "s")
		writeString(h, n.Value)
	case yaml.SequenceNode:
		writeString(h, "[")
		for _, c := range n.Content {
			writeNodeBudget(h, c, budget)
		}
		writeString(h, "]")
	case yaml.MappingNode:
		type pair struct{ k, v *yaml.Node }
		pairs := make([]pair, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, pair{deref(n.Content[i]), n.Content[i+1]})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].k.Value < pairs[j].k.Value })
		writeString(h, "{")
		for _, p := range pairs {
			writeNodeBudget(h, p.k, budget)
			writeNodeBudget(h, p.v, budget)
		}
		writeString(h, "}")
	default:
		writeString(h, "?")
	}
}
