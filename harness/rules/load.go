package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/attack"
	"github.com/attack-replay/attack-replay/harness/yamlsyntax"
)

// LoadPaths reads Falco rules files in the order Falco would: each path is a
// file, or a directory whose *.yaml and *.yml files are read in lexical order
// (Falco reads a rules directory one level deep, sorted by path; see
// falco_configuration::read_rules_file_directory). Later files append to and
// override earlier ones.
//
// The returned error is a *LoadError listing every problem, each with
// file:line:col. The index is returned even then, holding everything that
// could be read, so a caller can still report on the rest.
func LoadPaths(paths ...string) (*Index, error) {
	l := &loader{idx: newIndex()}
	for _, p := range paths {
		l.loadPath(p)
	}
	l.idx.computeHashes()
	l.idx.loadFailed = len(l.problems) > 0
	sortProblems(l.idx.warnings)
	if len(l.problems) == 0 {
		return l.idx, nil
	}
	sortProblems(l.problems)
	return l.idx, &LoadError{Problems: l.problems}
}

type loader struct {
	idx      *Index
	problems []Problem
	file     string // file being read
	data     []byte // its content, for positions inside conditions
	// macroSeq counts macro definitions and appends in load order, for
	// the order in which Falco lets macros see each other (Macro.visible).
	macroSeq int
}

func (l *loader) errorf(n *yaml.Node, subject, format string, args ...any) {
	l.problems = append(l.problems, Problem{Pos: l.pos(n), Subject: subject, Msg: fmt.Sprintf(format, args...)})
}

func (l *loader) warnf(n *yaml.Node, subject, format string, args ...any) {
	l.idx.warnings = append(l.idx.warnings, Problem{Pos: l.pos(n), Subject: subject, Msg: fmt.Sprintf(format, args...), Warning: true})
}

// unreadable reports a path or file that could not be read at all: what
// it defines is unknown, so nothing is reported missing because of it.
func (l *loader) unreadable(format string, args ...any) {
	l.errorf(nil, "", format, args...)
	l.idx.unread = append(l.idx.unread, l.file)
	l.idx.opaque = true
}

func (l *loader) pos(n *yaml.Node) Position {
	if n == nil {
		return Position{File: l.file}
	}
	return Position{File: l.file, Line: n.Line, Column: n.Column}
}

func (l *loader) loadPath(p string) {
	l.file = p
	st, err := os.Stat(p)
	if err != nil {
		l.unreadable("read rules: %v (pass an existing rules file or directory)", unwrapPath(err))
		return
	}
	if !st.IsDir() {
		l.loadFile(p)
		return
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		l.unreadable("read rules directory: %v", unwrapPath(err))
		return
	}
	// os.ReadDir sorts by name, which within one directory is Falco's order
	// (std::sort of the full paths).
	for _, e := range entries {
		full := filepath.Join(p, e.Name())
		l.file = full
		st, err := os.Stat(full) // Falco follows symlinks
		switch {
		case err != nil:
			l.unreadable("read rules: %v", unwrapPath(err))
		case st.IsDir():
			l.warnf(nil, "", "subdirectory not read: Falco reads only the files directly in a rules directory (move its files up, or pass it as a path of its own)")
		case isYAMLName(e.Name()):
			l.loadFile(full)
		case st.Mode().IsRegular() && st.Size() > 0:
			l.warnf(nil, "", "not a .yaml file, skipped here; Falco reads every file of a rules directory and would try to load it (move it out of %s)", p)
		}
	}
}

func isYAMLName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// unwrapPath drops the *PathError's own op and path: problems already start
// with the path.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (l *loader) loadFile(path string) {
	l.file = path
	b, err := os.ReadFile(path)
	if err != nil {
		l.unreadable("read rules: %v", unwrapPath(err))
		return
	}
	sum := sha256.Sum256(b)
	l.idx.files = append(l.idx.files, File{Path: path, SHA256: hex.EncodeToString(sum[:])})
	l.data = b
	l.parse(b)
}

// parse reads every YAML document of one file: Falco accepts several.
func (l *loader) parse(b []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			line, msg := yamlsyntax.Locate(b, err)
			l.problems = append(l.problems, Problem{
				Pos: Position{File: l.file, Line: line, Column: 1},
				Msg: "YAML syntax: " + msg + " (fix the YAML; Falco would refuse the whole file)",
			})
			if line == 0 {
				l.problems[len(l.problems)-1].Pos.Column = 0
			}
			l.idx.unread = append(l.idx.unread, l.file)
			l.idx.mention(b)
			return
		}
		l.document(&doc)
	}
}

func (l *loader) document(doc *yaml.Node) {
	if len(doc.Content) == 0 {
		return
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return
	}
	if root.Kind != yaml.SequenceNode {
		l.errorf(root, "", "rules content must be a YAML list of items (start each with - rule:, - macro: or - list:)")
		return
	}
	for _, item := range root.Content {
		item = deref(item)
		if item.Kind == yaml.ScalarNode && item.Tag == "!!null" {
			continue // Falco skips empty items
		}
		l.item(item)
	}
}

// deref follows YAML aliases (yaml-cpp, which Falco uses, resolves them).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// fields is one item's keys. Falco reads an item by key, so order only
// matters for messages.
type fields struct {
	keys   map[string]*yaml.Node // key -> value
	keyPos map[string]*yaml.Node // key -> key node
	order  []string
}

// fields reads a mapping's keys; ok is false when a key is not a plain
// scalar or appears twice, as the item's meaning is then unclear.
func (l *loader) fields(item *yaml.Node) (f fields, ok bool) {
	f, ok = fields{keys: map[string]*yaml.Node{}, keyPos: map[string]*yaml.Node{}}, true
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := deref(item.Content[i]), deref(item.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, "", "item keys must be plain words like rule, condition, output")
			ok = false
			continue
		}
		if prev, dup := f.keyPos[k.Value]; dup {
			l.errorf(k, "", "key %q appears twice in one item (first at line %d; keep one)", k.Value, prev.Line)
			ok = false
			continue
		}
		f.keys[k.Value] = v
		f.keyPos[k.Value] = k
		f.order = append(f.order, k.Value)
	}
	return f, ok
}

func (f fields) has(k string) bool { _, ok := f.keys[k]; return ok }

// Keys each kind of item may have (Falco's rule_json_schema.h and
// rule_loader_reader.cpp).
var (
	ruleKeys = keySet("rule", "desc", "condition", "output", "priority", "source", "enabled", "tags",
		"exceptions", "append", "override", "warn_evttypes", "skip-if-unknown-filter",
		"capture", "capture_duration", "capture_events", "capture_filesize")
	macroKeys = keySet("macro", "condition", "append", "override")
	listKeys  = keySet("list", "items", "append", "override")
	// What an override may append to or replace, per kind.
	ruleAppendable  = keySet("condition", "output", "desc", "tags", "exceptions")
	ruleReplaceable = keySet("condition", "output", "desc", "priority", "tags", "exceptions", "enabled",
		"warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration", "capture_events", "capture_filesize")
	// ruleDefinable are the keys a full definition sets: every replaceable
	// key, and the source, which no later item may change.
	ruleDefinable = keySet("condition", "output", "desc", "priority", "tags", "exceptions", "enabled", "source",
		"warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration", "capture_events", "capture_filesize")
)

func keySet(ks ...string) map[string]bool {
	m := make(map[string]bool, len(ks))
	for _, k := range ks {
		m[k] = true
	}
	return m
}

func sortedKeys(m map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}

func (l *loader) item(item *yaml.Node) {
	if item.Kind != yaml.MappingNode {
		l.errorf(item, "", "each item must be a mapping (- rule: ..., - macro: ... or - list: ...)")
		return
	}
	f, ok := l.fields(item)
	if !ok {
		return
	}
	switch {
	case f.has("required_engine_version"):
		l.engineVersion(f)
	case f.has("required_plugin_versions"):
		l.pluginVersions(f)
	case f.has("list"):
		l.list(item, f)
	case f.has("macro"):
		l.macro(item, f)
	case f.has("rule"):
		l.rule(item, f)
	default:
		hint := ""
		for _, k := range f.order {
			if c := closestKey(k, []string{"rule", "macro", "list"}); c != "" {
				hint = fmt.Sprintf("; %q looks like %q", k, c)
				break
			}
		}
		l.errorf(item, "", "item has none of the keys rule, macro, list, required_engine_version, required_plugin_versions%s (Falco ignores it: name what it defines)", hint)
	}
}

func closestKey(k string, known []string) string {
	best, bestD := "", 3
	for _, c := range known {
		if d := levenshtein(k, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func (l *loader) unknownKeys(f fields, subject string, known map[string]bool) {
	// Sorted, so that a tie between two close keys always names the same one.
	ks := slices.Sorted(maps.Keys(known))
	for _, k := range f.order {
		if known[k] {
			continue
		}
		hint := "Falco's schema check warns and ignores it"
		switch c := closestKey(k, ks); {
		case c != "":
			hint = fmt.Sprintf("did you mean %q? Falco ignores unknown keys", c)
		case ruleKeys[k] || macroKeys[k] || listKeys[k]:
			// Falco's schema is one key set for every kind of item, so
			// it stays quiet about these.
			hint = "it belongs to another kind of item; Falco ignores it here"
		}
		l.warnf(f.keyPos[k], subject, "unknown key %q (%s)", k, hint)
	}
}

func (l *loader) engineVersion(f fields) {
	v := f.keys["required_engine_version"]
	if v.Kind != yaml.ScalarNode || v.Value == "" {
		l.errorf(v, "", "required_engine_version must be a number or a version like \"0.31.0\"")
	}
}

func (l *loader) pluginVersions(f fields) {
	v := f.keys["required_plugin_versions"]
	if v.Kind != yaml.SequenceNode {
		l.errorf(v, "", "required_plugin_versions must be a list of {name, version}")
		return
	}
	for _, p := range v.Content {
		p = deref(p)
		pf := fields{}
		if p.Kind == yaml.MappingNode {
			pf, _ = l.fields(p)
		}
		if !pf.has("name") || !pf.has("version") {
			l.errorf(p, "", "each required_plugin_versions entry needs name and version")
			continue
		}
		l.idx.plugins = append(l.idx.plugins, pf.keys["name"].Value)
	}
}

// str reads a string value; any scalar but null counts, as yaml-cpp
// converts numbers and booleans to their text.
func (l *loader) str(f fields, key, subject string) (string, bool) {
	v := f.keys[key]
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		l.errorf(v, subject, "%s must be a string", key)
		return "", false
	}
	return v.Value, true
}

// yamlBool reads a boolean the way yaml-cpp does: true/false, yes/no,
// on/off, y/n in any of its spellings.
func yamlBool(n *yaml.Node) (value, ok bool) {
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on", "y":
			return true, true
		case "false", "no", "off", "n":
			return false, true
		}
	}
	return false, false
}

func isTrue(n *yaml.Node) bool {
	v, ok := yamlBool(n)
	return v && ok
}

func (l *loader) boolean(f fields, key, subject string) (bool, bool) {
	v, ok := yamlBool(f.keys[key])
	if !ok {
		l.errorf(f.keys[key], subject, "%s must be true or false", key)
	}
	return v, ok
}

func (l *loader) strList(f fields, key, subject string) ([]string, bool) {
	v := f.keys[key]
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, true
	}
	if v.Kind != yaml.SequenceNode {
		l.errorf(v, subject, "%s must be a list of strings, like [a, b]", key)
		return nil, false
	}
	out := make([]string, 0, len(v.Content))
	ok := true
	for _, e := range v.Content {
		e = deref(e)
		if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
			l.errorf(e, subject, "each entry of %s must be a string", key)
			ok = false
			continue
		}
		out = append(out, e.Value)
	}
	return out, ok
}

// name reads the item's name key (rule, macro or list).
func (l *loader) name(item *yaml.Node, f fields, kind string) (string, bool) {
	v := f.keys[kind]
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || strings.TrimSpace(v.Value) == "" {
		l.errorf(item, "", "%s name must be a non-empty string", kind)
		return "", false
	}
	return v.Value, true
}

// overrides reads an item's override: mapping, checking it the way Falco
// does: known operations, keys that may be overridden, and that the item
// sets exactly the keys it overrides.
func (l *loader) overrides(item *yaml.Node, f fields, subject string, appendable, replaceable map[string]bool) (app, repl map[string]bool, ok bool) {
	app, repl, ok = map[string]bool{}, map[string]bool{}, true
	ov, has := f.keys["override"]
	if !has {
		return app, repl, true
	}
	if ov.Kind != yaml.MappingNode || len(ov.Content) == 0 {
		l.errorf(ov, subject, "override must map keys to append or replace, like {condition: append}")
		return app, repl, false
	}
	of, good := l.fields(ov)
	if !good {
		return app, repl, false
	}
	for _, k := range of.order {
		op := of.keys[k]
		switch op.Value {
		case "append":
			if !appendable[k] {
				l.errorf(of.keyPos[k], subject, "key %q cannot be appended to (use replace; appendable: %s)", k, sortedKeys(appendable))
				ok = false
				continue
			}
			app[k] = true
		case "replace":
			if !replaceable[k] {
				l.errorf(of.keyPos[k], subject, "key %q cannot be replaced (replaceable: %s)", k, sortedKeys(replaceable))
				ok = false
				continue
			}
			repl[k] = true
		default:
			l.errorf(op, subject, "override of %q must be append or replace, not %q", k, op.Value)
			ok = false
			continue
		}
		if !f.has(k) {
			l.errorf(of.keyPos[k], subject, "override says %s %q but the item has no %s key (add it, or drop it from override)", op.Value, k, k)
			ok = false
		}
	}
	if v, has := f.keys["append"]; has && isTrue(v) {
		l.errorf(f.keyPos["append"], subject, "append: true and override cannot be used together (keep override)")
		ok = false
	}
	// Falco refuses an overridable key the override does not mention: it
	// would otherwise be silently dropped.
	for _, k := range f.order {
		if (appendable[k] || replaceable[k]) && !of.has(k) {
			l.errorf(f.keyPos[k], subject, "key %q is set but override does not say append or replace for it (add %s: append or %s: replace under override)", k, k, k)
			ok = false
		}
	}
	return app, repl, ok
}

func (l *loader) deprecatedAppend(f fields, subject, key string) {
	if v, ok := f.keys["append"]; ok && isTrue(v) {
		l.warnf(f.keyPos["append"], subject, "append: true is deprecated in Falco (use override: {%s: append})", key)
	}
}

// listOrMacro reads what lists and macros share: the name, unknown keys,
// the one value key (read by value), the append: flag and override:. ok is
// false when the item must be skipped; appending says whether it adds to an
// earlier definition instead of replacing it.
func (l *loader) listOrMacro(item *yaml.Node, f fields, kind, key, example string, known map[string]bool, value func(subject string) bool) (name string, appending, ok bool) {
	name, ok = l.name(item, f, kind)
	if !ok {
		return "", false, false
	}
	subject := fmt.Sprintf("%s %q", kind, name)
	l.unknownKeys(f, subject, known)
	if !f.has(key) {
		l.errorf(item, subject, "missing key %q (a %s needs %s)", key, kind, example)
		return "", false, false
	}
	if !value(subject) {
		return "", false, false
	}
	appendFlag := false
	if f.has("append") {
		if appendFlag, ok = l.boolean(f, "append", subject); !ok {
			return "", false, false
		}
	}
	l.deprecatedAppend(f, subject, key)
	overridable := keySet(key)
	app, _, ok := l.overrides(item, f, subject, overridable, overridable)
	if !ok {
		return "", false, false
	}
	if (appendFlag || app[key]) && !l.defined(kind, name) {
		if l.idx.mayDefine(kind, name) {
			return "", false, false // a file that could not be read defines it, or may
		}
		l.errorf(item, subject, "appends to a %s that is not defined before it (define the %s first, or load its file earlier)", kind, kind)
		return "", false, false
	}
	return name, appendFlag || app[key], true
}

func (l *loader) defined(kind, name string) bool {
	if kind == "list" {
		return l.idx.listBy[name] != nil
	}
	return l.idx.macroBy[name] != nil
}

func (l *loader) list(item *yaml.Node, f fields) {
	var items []string
	name, appending, ok := l.listOrMacro(item, f, "list", "items", "items: [...]", listKeys, func(subject string) (ok bool) {
		items, ok = l.strList(f, "items", subject)
		return ok
	})
	if !ok {
		return
	}
	define(&l.idx.lists, l.idx.listBy, name, List{Name: name, Items: items, Pos: l.pos(item)}, appending, func(prev *List) {
		prev.Items = append(prev.Items, items...)
		prev.Changes = append(prev.Changes, l.pos(item))
	})
}

func (l *loader) macro(item *yaml.Node, f fields) {
	var cond string
	name, appending, ok := l.listOrMacro(item, f, "macro", "condition", "condition:", macroKeys, func(subject string) (ok bool) {
		cond, ok = l.str(f, "condition", subject)
		return ok
	})
	if !ok {
		return
	}
	l.macroSeq++
	def := Macro{Name: name, Condition: cond, Pos: l.pos(item), cond: l.part(f.keys["condition"]), index: l.macroSeq, visible: l.macroSeq}
	if prev := l.idx.macroBy[name]; prev != nil {
		def.index = prev.index // Falco keeps the first definition's place
	}
	define(&l.idx.macros, l.idx.macroBy, name, def, appending, func(prev *Macro) {
		prev.cond.appendTo(&prev.Condition, cond, def.cond)
		prev.visible = l.macroSeq
		prev.Changes = append(prev.Changes, l.pos(item))
	})
}

// define records a list or macro the way Falco does: an append adds to the
// earlier definition (add), a new definition replaces it where it stands,
// and a first one is added in load order.
func define[T any](all *[]*T, byName map[string]*T, name string, def T, appending bool, add func(prev *T)) {
	prev := byName[name]
	switch {
	case appending:
		add(prev)
	case prev != nil:
		*prev = def
	default:
		*all = append(*all, &def)
		byName[name] = &def
	}
}

// ruleUpdate is what one definition, append or override item carries.
// flags are the optional keys with no Rule field (warn_evttypes,
// skip-if-unknown-filter, capture*), kept for Hash.
type ruleUpdate struct {
	cond, output, desc *string
	source             *string
	tags               []string
	hasTags            bool
	exceptions         []*yaml.Node
	hasExceptions      bool
	priority           *Priority
	enabled            *bool
	flags              map[string]string

	// condFrom and outputFrom are the scalars cond and output came from.
	condFrom, outputFrom textParts
}

func (l *loader) rule(item *yaml.Node, f fields) {
	name, ok := l.name(item, f, "rule")
	if !ok {
		return
	}
	subject := fmt.Sprintf("rule %q", name)
	l.unknownKeys(f, subject, ruleKeys)
	appendFlag := false
	if f.has("append") {
		if appendFlag, ok = l.boolean(f, "append", subject); !ok {
			return
		}
	}
	l.deprecatedAppend(f, subject, "condition")
	app, repl, ok := l.overrides(item, f, subject, ruleAppendable, ruleReplaceable)
	if !ok {
		return
	}
	switch {
	case len(app) > 0 || len(repl) > 0:
		for _, k := range f.order {
			if ruleKeys[k] && !ruleAppendable[k] && !ruleReplaceable[k] && k != "rule" && k != "override" && k != "append" {
				l.warnf(f.keyPos[k], subject, "key %q is ignored by Falco in an override item (it cannot be overridden)", k)
			}
		}
		prev := l.existingRule(item, name, subject, "overrides")
		if prev == nil {
			return
		}
		if len(app) > 0 {
			u, ok := l.readUpdate(f, subject, app)
			if !ok {
				return
			}
			if !l.appendRule(item, prev, u, subject) {
				return
			}
		}
		if len(repl) > 0 {
			u, ok := l.readUpdate(f, subject, repl)
			if !ok {
				return
			}
			replaceRule(prev, u)
		}
		prev.Changes = append(prev.Changes, l.pos(item))
	case appendFlag:
		// Legacy append: Falco reads only condition and exceptions and
		// ignores every other key of the item.
		for _, k := range f.order {
			if k != "rule" && k != "append" && k != "condition" && k != "exceptions" && ruleKeys[k] {
				l.warnf(f.keyPos[k], subject, "key %q is ignored by Falco in an append: true item (use override: {%s: append} or replace)", k, k)
			}
		}
		u, ok := l.readUpdate(f, subject, keySet("condition", "exceptions"))
		if !ok {
			return
		}
		prev := l.existingRule(item, name, subject, "appends to")
		if prev == nil {
			return
		}
		if !l.appendRule(item, prev, u, subject) {
			return
		}
		prev.Changes = append(prev.Changes, l.pos(item))
	case !f.has("condition") && !f.has("output") && !f.has("desc") && !f.has("priority"):
		l.enableOnly(item, f, name, subject)
	default:
		l.defineRule(item, f, name, subject)
	}
}

func (l *loader) existingRule(item *yaml.Node, name, subject, verb string) *Rule {
	prev := l.idx.byName[name]
	if prev == nil && !l.idx.mayDefine("rule", name) {
		l.errorf(item, subject, "%s a rule that is not defined before it%s (define the rule first, or load its file earlier)", verb, l.closestHint(name))
	}
	return prev
}

func (l *loader) closestHint(name string) string {
	if c := l.idx.Closest(name, 3); len(c) > 0 {
		return fmt.Sprintf("; close names: %q", strings.Join(c, `", "`))
	}
	return ""
}

func (l *loader) enableOnly(item *yaml.Node, f fields, name, subject string) {
	if !f.has("enabled") {
		l.errorf(item, subject, "item has none of condition, output, desc, priority or enabled (define the rule fully, or use override: to change an existing one)")
		return
	}
	enabled, ok := l.boolean(f, "enabled", subject)
	if !ok {
		return
	}
	for _, k := range f.order {
		if k != "rule" && k != "enabled" && ruleKeys[k] {
			l.warnf(f.keyPos[k], subject, "key %q is ignored by Falco in an item that only sets enabled (use override:)", k)
		}
	}
	l.warnf(f.keyPos["enabled"], subject, "an item with only rule and enabled is deprecated in Falco (use override: {enabled: replace})")
	prev := l.existingRule(item, name, subject, "sets enabled on")
	if prev == nil {
		return
	}
	prev.Enabled = enabled
	prev.Changes = append(prev.Changes, l.pos(item))
}

// readUpdate decodes the given keys of a definition, append or override item.
func (l *loader) readUpdate(f fields, subject string, keys map[string]bool) (ruleUpdate, bool) {
	u := ruleUpdate{flags: map[string]string{}}
	ok := true
	for _, k := range f.order {
		if !keys[k] {
			continue
		}
		switch k {
		case "condition", "output", "desc", "source":
			s, good := l.str(f, k, subject)
			ok = ok && good
			switch k {
			case "condition":
				u.cond, u.condFrom = &s, l.part(f.keys[k])
			case "output":
				u.output, u.outputFrom = &s, l.part(f.keys[k])
			case "desc":
				u.desc = &s
			default:
				u.source = &s
			}
		case "tags":
			tags, good := l.tags(f, subject)
			ok = ok && good
			u.tags, u.hasTags = tags, true
		case "exceptions":
			ex, good := l.exceptions(f, subject)
			ok = ok && good
			u.exceptions, u.hasExceptions = ex, true
		case "priority":
			p, good := l.priority(f, subject)
			ok = ok && good
			u.priority = &p
		case "enabled":
			e, good := l.boolean(f, k, subject)
			ok = ok && good
			u.enabled = &e
		default:
			u.flags[k] = f.keys[k].Value
		}
	}
	return u, ok
}

func (l *loader) appendRule(item *yaml.Node, prev *Rule, u ruleUpdate, subject string) bool {
	if u.cond == nil && u.output == nil && u.desc == nil && !u.hasTags && !u.hasExceptions {
		l.errorf(item, subject, "append has nothing to append (give condition or exceptions)")
		return false
	}
	if u.cond != nil {
		prev.cond.appendTo(&prev.Condition, *u.cond, u.condFrom)
	}
	if u.output != nil {
		prev.output.appendTo(&prev.Output, *u.output, u.outputFrom)
	}
	if u.desc != nil && *u.desc != "" {
		prev.Desc += " " + *u.desc
	}
	if u.hasTags {
		prev.Tags = tagSet(append(prev.Tags, u.tags...))
	}
	for _, ex := range u.exceptions {
		prev.Exceptions = appendException(prev.Exceptions, ex)
	}
	return true
}

func replaceRule(prev *Rule, u ruleUpdate) {
	if u.cond != nil {
		prev.Condition, prev.cond = *u.cond, u.condFrom
	}
	if u.output != nil {
		prev.Output, prev.output = *u.output, u.outputFrom
	}
	if u.desc != nil {
		prev.Desc = *u.desc
	}
	if u.source != nil {
		prev.Source = *u.source
	}
	if u.hasTags {
		prev.Tags = tagSet(u.tags)
	}
	if u.hasExceptions {
		prev.Exceptions = u.exceptions
	}
	if u.priority != nil {
		prev.Priority = *u.priority
	}
	if u.enabled != nil {
		prev.Enabled = *u.enabled
	}
	for k, v := range u.flags {
		prev.flags[k] = v
	}
}

func (l *loader) defineRule(item *yaml.Node, f fields, name, subject string) {
	ok := true
	for _, k := range []string{"desc", "condition", "output", "priority"} {
		if !f.has(k) {
			l.errorf(item, subject, "missing key %q (a rule needs desc, condition, output and priority; to change an existing rule use override:)", k)
			ok = false
		}
	}
	if !ok {
		l.idx.failed[name] = true
		return
	}
	u, ok := l.readUpdate(f, subject, ruleDefinable)
	if !ok {
		l.idx.failed[name] = true
		return
	}
	r := &Rule{Name: name, Source: DefaultSource, Enabled: true, Pos: l.pos(item), flags: map[string]string{}}
	replaceRule(r, u)
	if prev := l.idx.byName[name]; prev != nil {
		if prev.Source != r.Source {
			l.errorf(item, subject, "redefines the rule at %s with another source (%q, was %q); Falco refuses this (rename one)", prev.Pos, r.Source, prev.Source)
			return
		}
		l.warnf(item, subject, "redefines the rule at %s, replacing all of it (use override: to change only some keys)", prev.Pos)
		*prev = *r
		return
	}
	l.idx.rules = append(l.idx.rules, r)
	l.idx.byName[name] = r
}

func (l *loader) priority(f fields, subject string) (Priority, bool) {
	v := f.keys["priority"]
	if v.Kind != yaml.ScalarNode {
		l.errorf(v, subject, "priority must be one of EMERGENCY, ALERT, CRITICAL, ERROR, WARNING, NOTICE, INFORMATIONAL, DEBUG")
		return 0, false
	}
	p, err := ParsePriority(v.Value)
	if err != nil {
		l.errorf(v, subject, "%v", err)
		return 0, false
	}
	return p, true
}

// tags reads a tags list and warns about ATT&CK tags this release does not
// know, at the tag itself.
func (l *loader) tags(f fields, subject string) ([]string, bool) {
	tags, ok := l.strList(f, "tags", subject)
	if !ok {
		return nil, false
	}
	if v := f.keys["tags"]; v.Kind == yaml.SequenceNode {
		for _, e := range v.Content {
			e = deref(e)
			if info := attack.ClassifyTag(e.Value); info.Kind == attack.OutOfDate {
				l.warnf(e, subject, "%s", info.Problem)
			}
		}
	}
	return tagSet(tags), true
}

func tagSet(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := append([]string(nil), tags...)
	sort.Strings(out)
	n := 1
	for i := 1; i < len(out); i++ {
		if out[i] != out[n-1] {
			out[n] = out[i]
			n++
		}
	}
	return out[:n]
}

func (l *loader) exceptions(f fields, subject string) ([]*yaml.Node, bool) {
	v := f.keys["exceptions"]
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, true
	}
	if v.Kind != yaml.SequenceNode {
		l.errorf(v, subject, "exceptions must be a list of {name, fields, comps, values}")
		return nil, false
	}
	ok := true
	out := make([]*yaml.Node, 0, len(v.Content))
	for _, e := range v.Content {
		e = deref(e)
		if e.Kind != yaml.MappingNode || exceptionName(e) == "" {
			l.errorf(e, subject, "each exception must be a mapping with a name")
			ok = false
			continue
		}
		out = append(out, e)
	}
	return out, ok
}

func exceptionName(n *yaml.Node) string {
	if v := mapValue(n, "name"); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// appendException adds ex the way Falco appends exceptions: values of an
// exception with the same name are added to it, others are added whole.
func appendException(list []*yaml.Node, ex *yaml.Node) []*yaml.Node {
	name := exceptionName(ex)
	for i, prev := range list {
		if exceptionName(prev) != name {
			continue
		}
		add := mapValue(ex, "values")
		if add == nil || add.Kind != yaml.SequenceNode {
			return list
		}
		merged := *prev
		merged.Content = append([]*yaml.Node(nil), prev.Content...)
		for j := 0; j+1 < len(merged.Content); j += 2 {
			if merged.Content[j].Value == "values" {
				vals := *deref(merged.Content[j+1])
				vals.Content = append(append([]*yaml.Node(nil), vals.Content...), add.Content...)
				merged.Content[j+1] = &vals
				out := append([]*yaml.Node(nil), list...)
				out[i] = &merged
				return out
			}
		}
		merged.Content = append(merged.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "values"}, add)
		out := append([]*yaml.Node(nil), list...)
		out[i] = &merged
		return out
	}
	return append(list, ex)
}
