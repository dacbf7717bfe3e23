package attack

import (
	"fmt"
	"strings"
)

// tacticTagPrefix starts the tactic tags of upstream Falco rules
// ("mitre_credential_access").
const tacticTagPrefix = "mitre_"

// TagKind classifies a Falco rule tag.
type TagKind int

// Kinds of rule tags.
const (
	// NotATTACK is a tag with no ATT&CK meaning ("container", "maturity_stable").
	NotATTACK TagKind = iota
	// KnownTechnique is a technique id this release knows ("T1490").
	KnownTechnique
	// KnownTactic is a tactic tag this release knows ("mitre_impact").
	KnownTactic
	// OutOfDate looks like a technique id or a mitre_ tactic tag but this
	// release does not know it: written for an older release
	// ("T1562.001", "mitre_defense_evasion") or mistyped.
	OutOfDate
)

func (k TagKind) String() string {
	switch k {
	case NotATTACK:
		return "not ATT&CK"
	case KnownTechnique:
		return "technique"
	case KnownTactic:
		return "tactic"
	case OutOfDate:
		return "out of date"
	}
	return fmt.Sprintf("TagKind(%d)", int(k))
}

// TagInfo is what a rule tag means in this ATT&CK release.
type TagInfo struct {
	Tag       string
	Kind      TagKind
	Technique TechniqueID // KnownTechnique, or OutOfDate when the tag looks like an id
	Tactic    Tactic      // KnownTactic, or OutOfDate when the tag looks like a tactic tag
	// Problem says, for OutOfDate tags, what is wrong and what would fix it.
	Problem string
}

// ClassifyTag says what a Falco rule tag means in this ATT&CK release. Every
// string is accepted: tags are free text in Falco.
func ClassifyTag(tag string) TagInfo {
	info := TagInfo{Tag: tag}
	switch {
	case TechniqueID(tag).WellFormed():
		info.Technique = TechniqueID(tag)
		if _, ok := Lookup(info.Technique); ok {
			info.Kind = KnownTechnique
			return info
		}
		info.Kind = OutOfDate
		info.Problem = fmt.Sprintf("tag %q: %v", tag, unknownTechnique(info.Technique))
		if s, ok := Successor(info.Technique); ok {
			info.Problem = fmt.Sprintf("tag %q: technique %s is not in ATT&CK as of %s: this release renumbered it %s %q (use %s and %s)",
				tag, info.Technique, ReleaseDate(), s.ID, s.Name, s.ID, s.Tactics[0].Tag())
		}
	case TechniqueID(strings.ToUpper(tag)).WellFormed():
		// "t1490": Falco compares tags exactly, so this one would not match
		// a T1490 filter.
		info.Kind = OutOfDate
		info.Technique = TechniqueID(strings.ToUpper(tag))
		if _, ok := Lookup(info.Technique); ok {
			info.Problem = fmt.Sprintf("tag %q is not spelled the way ATT&CK spells technique ids (use %s)", tag, info.Technique)
		} else {
			info.Problem = fmt.Sprintf("tag %q: %v", tag, unknownTechnique(info.Technique))
		}
	case strings.HasPrefix(tag, tacticTagPrefix) && len(tag) > len(tacticTagPrefix):
		info.Tactic = Tactic(strings.ReplaceAll(strings.TrimPrefix(tag, tacticTagPrefix), "_", "-"))
		// Only the exact spelling Falco writes counts as known: a tag
		// "mitre_Impact" would not match a "mitre_impact" filter.
		if info.Tactic.Known() && info.Tactic.Tag() == tag {
			info.Kind = KnownTactic
			return info
		}
		info.Kind = OutOfDate
		info.Problem = tacticTagProblem(tag, info.Tactic)
	}
	return info
}

func tacticTagProblem(tag string, t Tactic) string {
	if repl, ok := retiredTactics[t]; ok {
		tags := make([]string, len(repl))
		for i, r := range repl {
			tags[i] = r.Tag()
		}
		return fmt.Sprintf("tag %q names tactic %q, which ATT&CK as of %s split into %s (use %s)",
			tag, t, ReleaseDate(), joinTactics(repl), strings.Join(tags, " or "))
	}
	if lower := Tactic(strings.ToLower(string(t))); lower.Known() {
		return fmt.Sprintf("tag %q is not spelled the way Falco rules spell tactics (use %s)", tag, lower.Tag())
	}
	return fmt.Sprintf("tag %q names tactic %q, which is not in ATT&CK as of %s (tactic tags: %s)",
		tag, t, ReleaseDate(), strings.Join(tacticTags(), ", "))
}

func tacticTags() []string {
	out := make([]string, len(table.tactics))
	for i, t := range table.tactics {
		out[i] = t.Tag()
	}
	return out
}
