package attack

import (
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// TechniqueID is an ATT&CK technique or sub-technique id: "T1490", "T1003.008".
type TechniqueID string

// Tactic is an ATT&CK tactic by its short name: "impact", "credential-access".
type Tactic string

// Technique is one row of the embedded ATT&CK table.
type Technique struct {
	ID         TechniqueID
	Name       string
	Tactics    []Tactic // kill-chain order
	Platforms  []string
	Deprecated bool
}

// techniqueIDPattern is the shape of every Enterprise technique id; it says
// nothing about whether this release knows the id.
var techniqueIDPattern = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

// WellFormed reports whether id has the shape of a technique id ("T1490",
// "T1003.008"), known to this release or not.
func (id TechniqueID) WellFormed() bool { return techniqueIDPattern.MatchString(string(id)) }

// IsSub reports whether id names a sub-technique ("T1003.008").
func (id TechniqueID) IsSub() bool { return strings.Contains(string(id), ".") }

// Parent returns the technique a sub-technique belongs to ("T1003" for
// "T1003.008"), or id itself when it is not a sub-technique.
func (id TechniqueID) Parent() TechniqueID {
	if i := strings.IndexByte(string(id), '.'); i >= 0 {
		return id[:i]
	}
	return id
}

// Validate returns nil when this ATT&CK release knows id, or an
// *UnknownTechniqueError that suggests ids close to it.
func (id TechniqueID) Validate() error {
	if _, ok := Lookup(id); ok {
		return nil
	}
	return unknownTechnique(id)
}

// ParseTechniqueID accepts a technique id this ATT&CK release knows.
// Surrounding space is ignored and a lower-case "t" is accepted, since ids
// typed on a command line often come that way.
func ParseTechniqueID(s string) (TechniqueID, error) {
	id := TechniqueID(strings.ToUpper(strings.TrimSpace(s)))
	if err := id.Validate(); err != nil {
		return "", err
	}
	return id, nil
}

// UnmarshalYAML rejects ids this ATT&CK release does not know.
func (id *TechniqueID) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: technique id must be a string like \"T1490\"", n.Line)
	}
	v := TechniqueID(n.Value)
	if err := v.Validate(); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*id = v
	return nil
}

// Known reports whether this ATT&CK release has the tactic.
func (t Tactic) Known() bool {
	_, ok := table.tacticIndex[t]
	return ok
}

// Order is the tactic's position in the kill chain (0 = reconnaissance), or
// -1 for a tactic this release does not know. Sort by it to list tactics the
// way ATT&CK does.
func (t Tactic) Order() int {
	if i, ok := table.tacticIndex[t]; ok {
		return i
	}
	return -1
}

// SplitInto returns the tactics this release split a tactic of an older
// release into ("defense-evasion": stealth, defense-impairment), or nil.
func (t Tactic) SplitInto() []Tactic { return append([]Tactic(nil), retiredTactics[t]...) }

// Successor returns the technique that took the place of id, an id of an
// older ATT&CK release that this one renumbered ("T1070.002" became
// "T1685.006").
func Successor(id TechniqueID) (Technique, bool) {
	next, ok := renumbered[id]
	if !ok {
		return Technique{}, false
	}
	return Lookup(next)
}

// Tag is the Falco rule tag for the tactic: "mitre_credential_access".
func (t Tactic) Tag() string { return tacticTagPrefix + strings.ReplaceAll(string(t), "-", "_") }

// ParseTactic accepts a tactic this ATT&CK release knows, by its short name
// ("credential-access"). It also accepts the Falco tag spelling
// ("mitre_credential_access") and underscores, so values copied from rules
// work.
func ParseTactic(s string) (Tactic, error) {
	norm := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), tacticTagPrefix)
	t := Tactic(strings.ReplaceAll(norm, "_", "-"))
	if t.Known() {
		return t, nil
	}
	return "", &UnknownTacticError{Tactic: s}
}

// UnmarshalYAML rejects tactics this ATT&CK release does not know.
func (t *Tactic) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: tactic must be a string like \"impact\"", n.Line)
	}
	v := Tactic(n.Value)
	if !v.Known() {
		return fmt.Errorf("line %d: %w", n.Line, &UnknownTacticError{Tactic: n.Value})
	}
	*t = v
	return nil
}

// Lookup returns the technique with the given id.
func Lookup(id TechniqueID) (Technique, bool) {
	i, ok := table.byID[id]
	if !ok {
		return Technique{}, false
	}
	return table.techniques[i].clone(), true
}

// Techniques returns every technique of the table, sorted by id (a parent
// before its sub-techniques).
func Techniques() []Technique {
	out := make([]Technique, len(table.techniques))
	for i, t := range table.techniques {
		out[i] = t.clone()
	}
	return out
}

// Tactics returns the tactics of this release in kill-chain order.
func Tactics() []Tactic { return append([]Tactic(nil), table.tactics...) }

// Release names the ATT&CK release the table was taken from (the "source"
// line of the embedded table).
func Release() string { return table.source }

// HasTactic reports whether the technique belongs to tactic t.
func (t Technique) HasTactic(tactic Tactic) bool {
	for _, x := range t.Tactics {
		if x == tactic {
			return true
		}
	}
	return false
}

func (t Technique) clone() Technique {
	t.Tactics = append([]Tactic(nil), t.Tactics...)
	t.Platforms = append([]string(nil), t.Platforms...)
	return t
}

// CheckTactic returns nil when the known technique id belongs to tactic t.
// Otherwise it returns an *UnknownTechniqueError, an *UnknownTacticError, or a
// *TacticMismatchError naming the tactics the technique does belong to.
func CheckTactic(id TechniqueID, t Tactic) error {
	tech, ok := Lookup(id)
	if !ok {
		return unknownTechnique(id)
	}
	if !t.Known() {
		return &UnknownTacticError{Tactic: string(t)}
	}
	if tech.HasTactic(t) {
		return nil
	}
	return &TacticMismatchError{Technique: tech.ID, Name: tech.Name, Tactic: t, Want: tech.Tactics}
}

// UnknownTechniqueError is a technique id this release does not know.
type UnknownTechniqueError struct {
	ID TechniqueID
	// Suggestions are known ids close to ID: its parent technique and that
	// parent's sub-techniques, or the sub-techniques of ID itself.
	Suggestions []Technique
	// Malformed is set when ID does not even look like a technique id.
	Malformed bool
	// Successor is the technique that replaced ID in this release, when ID
	// is one an older release used; Suggestions are then empty.
	Successor *Technique
}

func (e *UnknownTechniqueError) Error() string {
	if e.Malformed {
		return fmt.Sprintf("%q is not an ATT&CK technique id (ids look like T1490 or T1003.008)", string(e.ID))
	}
	msg := fmt.Sprintf("technique %s is not in ATT&CK as of %s", e.ID, ReleaseDate())
	if s := e.Successor; s != nil {
		return fmt.Sprintf("%s: this release renumbered it %s %q (%s)", msg, s.ID, s.Name, joinTactics(s.Tactics))
	}
	if len(e.Suggestions) > 0 {
		names := make([]string, len(e.Suggestions))
		for i, s := range e.Suggestions {
			names[i] = fmt.Sprintf("%s %q", s.ID, s.Name)
		}
		msg += "; close ids: " + strings.Join(names, ", ")
	}
	return msg
}

// maxSuggestions bounds the close ids an error lists: a parent with twenty
// sub-techniques would otherwise drown the message.
const maxSuggestions = 6

func unknownTechnique(id TechniqueID) *UnknownTechniqueError {
	e := &UnknownTechniqueError{ID: id}
	if !id.WellFormed() {
		e.Malformed = true
		return e
	}
	if s, ok := Successor(id); ok {
		e.Successor = &s
		return e
	}
	add := func(t Technique) {
		if len(e.Suggestions) < maxSuggestions {
			e.Suggestions = append(e.Suggestions, t)
		}
	}
	parent := id.Parent()
	if p, ok := Lookup(parent); ok && parent != id {
		add(p)
	}
	// Sub-techniques of the parent (for an unknown sub-technique) or of id
	// itself (for an unknown technique whose subs survived, which does not
	// happen in ATT&CK but costs nothing to cover).
	for _, t := range table.techniques {
		if t.ID.IsSub() && t.ID.Parent() == parent {
			add(t)
		}
	}
	return e
}

// UnknownTacticError is a tactic this release does not know.
type UnknownTacticError struct {
	Tactic string
}

func (e *UnknownTacticError) Error() string {
	if repl := Tactic(e.Tactic).SplitInto(); repl != nil {
		return SplitMessage(Tactic(e.Tactic), repl)
	}
	return fmt.Sprintf("tactic %q is not in ATT&CK as of %s; tactics: %s", e.Tactic, ReleaseDate(), joinTactics(table.tactics))
}

// SplitMessage says that tactic t of an older release was split into repl.
func SplitMessage(t Tactic, repl []Tactic) string {
	names := make([]string, len(repl))
	for i, r := range repl {
		names[i] = string(r)
	}
	return fmt.Sprintf("tactic %q is not in ATT&CK as of %s: it was split into %s", t, ReleaseDate(), strings.Join(names, " and "))
}

// TacticMismatchError is a known technique paired with a tactic it does not
// belong to.
type TacticMismatchError struct {
	Technique TechniqueID
	Name      string
	Tactic    Tactic
	Want      []Tactic // the technique's tactics, kill-chain order
}

func (e *TacticMismatchError) Error() string {
	word := "tactic"
	if len(e.Want) > 1 {
		word = "tactics"
	}
	return fmt.Sprintf("technique %s %q belongs to %s %s, not %s", e.Technique, e.Name, word, joinTactics(e.Want), e.Tactic)
}

func joinTactics(ts []Tactic) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// ReleaseDate is how messages name the release: the date the embedded
// table's ATT&CK objects go up to ("2026-05-12"). Release() is the long form.
func ReleaseDate() string {
	const marker = "objects modified up to "
	if i := strings.Index(table.source, marker); i >= 0 {
		return table.source[i+len(marker):]
	}
	return "the embedded table"
}
