package session

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/attack-replay/attack-replay/harness/falco"
	"github.com/attack-replay/attack-replay/harness/rules"
	"github.com/attack-replay/attack-replay/harness/scenario"
	"github.com/attack-replay/attack-replay/harness/victim"
)

// Load reads the rules and the scenarios checked against them. Every
// problem of both comes back in one error, one per line. The rules are
// checked as Falco compiles them too (rules.Index.Check: conditions that do
// not parse, undefined macros, unknown fields and output tokens), so such a
// rule stops the run before Falco starts; the check's warnings go to the
// set's warnings.
//
// With cfg.FalcoImageRules it first reads the Falco image's own
// falco_rules.yaml (falco.ReadImageRules: a container is created, never
// started) and loads it before the candidate files, as Falco does: the
// scenarios may expect or forbid its rules, the candidates may use its
// macros and lists and override its items. Its rules are not candidates
// (report.RulesFromIndex decides by path, and the file lies outside
// cfg.Rules), so a forbid of "*" does not cover them. Without
// FalcoImageRules, Load needs no Docker.
func Load(ctx context.Context, cfg Config) (*rules.Index, *scenario.Set, error) {
	if !cfg.FalcoImageRules {
		return load(cfg, nil, false)
	}
	dir, err := os.MkdirTemp("", "attack-replay-image-rules-")
	if err != nil {
		return nil, nil, fmt.Errorf("load the falco image's rules (FALCO_IMAGE_RULES): %w", err)
	}
	// The index keeps only the path (reports list it with its digest):
	// nothing reads the file after the load.
	defer os.RemoveAll(dir)
	file, err := writeImageRules(ctx, cfg.FalcoImage, dir)
	if err != nil {
		return nil, nil, fmt.Errorf("load the falco image's rules (FALCO_IMAGE_RULES): %w", err)
	}
	return load(cfg, []string{file}, false)
}

// LoadOffline is Load without Docker, for listing the specs (Ginkgo's dry
// run) where no image need exist. With cfg.FalcoImageRules the image's
// rules are not read, so what only they could settle is a warning in the
// set instead of an error: a candidate item that appends to or overrides
// an item the candidates do not define, a macro no candidate defines, and
// a rule that scenarios name but the candidates do not define. Load checks
// them.
func LoadOffline(cfg Config) (*rules.Index, *scenario.Set, error) {
	return load(cfg, nil, cfg.FalcoImageRules)
}

// writeImageRules writes the image's rules file under dir, at a path that
// names the image: the index's positions, problems and reports show it.
func writeImageRules(ctx context.Context, image, dir string) (string, error) {
	data, err := falco.ReadImageRules(ctx, image)
	if err != nil {
		return "", err
	}
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == '@' {
			return '_'
		}
		return r
	}, image)
	file := filepath.Join(dir, name, filepath.FromSlash(falco.ImageRulesFile))
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return "", err
	}
	return file, nil
}

// load reads the upstream rules files, then the candidates, into one index
// (Falco's load order), and the scenarios against it. unread says the
// image's rules should have come first but were not read.
func load(cfg Config, upstream []string, unread bool) (*rules.Index, *scenario.Set, error) {
	var lines []string
	var deferred []scenario.Problem
	paths := append([]string(nil), upstream...)
	for _, p := range cfg.Rules {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			lines = append(lines, fmt.Sprintf("%s: RULES names it, but it does not exist (set RULES to rules files or directories, space or comma separated)", p))
			continue
		}
		paths = append(paths, p)
	}
	idx, err := rules.LoadPaths(paths...)
	lines = appendProblems(lines, err, func(e *rules.LoadError) []string {
		var out []string
		for _, p := range e.Problems {
			if unread && strings.Contains(p.Msg, notDefinedBefore) {
				deferred = append(deferred, unchecked(p, imageUnreadHint))
				continue
			}
			out = append(out, p.String())
		}
		return out
	})
	// What Falco finds only when it compiles the rules, found before it
	// starts (rules.Index.Check). A macro no file defines may be the
	// image's when its rules were not read; a problem in the image's own
	// rules is Falco's to judge, as this check's field table may lag the
	// image.
	for _, p := range idx.Check() {
		switch {
		case unread && p.Missing != "":
			deferred = append(deferred, unchecked(p, imageUnreadHint))
		case p.Warning:
			deferred = append(deferred, unchecked(p, ""))
		case slices.Contains(upstream, p.Pos.File):
			deferred = append(deferred, unchecked(p, imageRulesHint))
		default:
			lines = append(lines, p.String())
		}
	}
	var known scenario.RuleIndex = idx
	if unread {
		known = imageUnread{idx}
	}
	var set *scenario.Set
	if _, serr := os.Stat(cfg.Scenarios); errors.Is(serr, fs.ErrNotExist) {
		err = nil
		lines = append(lines, fmt.Sprintf("%s: SCENARIOS names it, but it does not exist (set SCENARIOS to the scenarios directory, e.g. scenarios/)", cfg.Scenarios))
	} else {
		set, err = scenario.LoadDir(cfg.Scenarios, scenario.Options{Rules: known})
	}
	lines = appendProblems(lines, err, func(e *scenario.LoadError) []string {
		out := make([]string, len(e.Problems))
		for i, p := range e.Problems {
			out[i] = p.String()
		}
		return out
	})
	if set != nil {
		set.Warnings = append(set.Warnings, deferred...)
	}
	if unread && set != nil {
		set.Warnings = append(set.Warnings, uncheckedRules(set, idx)...)
	}
	if len(lines) > 0 {
		what := strings.Join(cfg.Rules, " ")
		if len(upstream) > 0 {
			what += " (after the falco image's rules)"
		}
		return idx, set, fmt.Errorf("load rules %s and scenarios %s: %d problem(s):\n%s",
			what, cfg.Scenarios, len(lines), strings.Join(lines, "\n"))
	}
	return idx, set, nil
}

// notDefinedBefore is how rules.LoadPaths says that an item appends to or
// overrides one no earlier file defines: with the image's rules unread,
// they may define it.
const notDefinedBefore = "that is not defined before it"

// imageUnreadHint ends every warning of a load that did not read the
// image's rules.
const imageUnreadHint = "not checked: the Falco image's rules were not read; a run with FALCO_IMAGE_RULES reads them and checks it"

// imageRulesHint ends the warning of a problem the check found in the
// Falco image's own rules.
const imageRulesHint = "in the Falco image's own rules: Falco judges them when it starts"

// unchecked turns a rules problem into a warning of the run, with hint.
func unchecked(p rules.Problem, hint string) scenario.Problem {
	msg := p.Msg
	if p.Subject != "" {
		msg = p.Subject + ": " + msg
	}
	return scenario.Problem{File: p.Pos.File, Line: p.Pos.Line, Column: p.Pos.Column, Msg: msg, Hint: hint, Warning: true}
}

// imageUnread is the index of a load that did not read the image's rules:
// a rule the candidates do not define may be the image's, so the scenario
// loader is told it exists but failed to load, which it leaves unchecked.
type imageUnread struct{ *rules.Index }

func (x imageUnread) Failed(name string) bool { return !x.Has(name) || x.Index.Failed(name) }

// uncheckedRules warns of each matcher imageUnread left unchecked.
func uncheckedRules(set *scenario.Set, idx *rules.Index) []scenario.Problem {
	var out []scenario.Problem
	for _, sc := range set.Scenarios() {
		for _, list := range []struct {
			kind     string
			matchers []scenario.Matcher
		}{{"expect", sc.Expect}, {"forbid", sc.Forbid}} {
			for i, m := range list.matchers {
				if m.Rule == "" || m.Rule == scenario.AnyRule || idx.Has(m.Rule) || idx.Failed(m.Rule) {
					continue
				}
				out = append(out, scenario.Problem{
					File: sc.File, Line: m.Line, Column: m.Column, Scenario: sc.ID,
					Where: fmt.Sprintf("%s %d", list.kind, i+1), Warning: true,
					Msg:  fmt.Sprintf("rule %q is not in the candidate rules", m.Rule),
					Hint: imageUnreadHint,
				})
			}
		}
	}
	return out
}

func appendProblems[E error](lines []string, err error, each func(E) []string) []string {
	if err == nil {
		return lines
	}
	var typed E
	if errors.As(err, &typed) {
		return append(lines, each(typed)...)
	}
	return append(lines, err.Error())
}

// Preflight checks, within seconds, what a run needs before anything
// starts: the engine DOCKER_HOST names, when set; the Falco image (the
// error names FALCO_IMAGE) and the victim image
// (it names VICTIM_IMAGE and make victim-image). CheckVictimImages checks
// the images of the selected scenarios once they are known.
func Preflight(ctx context.Context, cfg Config) error {
	if err := checkDockerHost(ctx, os.Getenv("DOCKER_HOST")); err != nil {
		return err
	}
	if err := falco.CheckImage(ctx, cfg.FalcoImage); err != nil {
		return err
	}
	return CheckVictimImages(ctx, cfg, nil)
}

// CheckVictimImages checks that the engine holds every victim image the
// scenarios need (victim: {image: ...}), and the default one always. Every
// missing image is named in the error with how to get it: the variable that
// sets it and the make target that builds it, or, for an image a scenario
// names itself, which scenarios need it.
func CheckVictimImages(ctx context.Context, cfg Config, scenarios []*scenario.Scenario) error {
	victims := cfg.Victims()
	base := victims.ImageFor(&scenario.Scenario{})
	images := []string{base}
	needs := map[string][]string{base: nil} // image -> the scenarios that need it
	for _, sc := range scenarios {
		if sc.Skip != "" {
			continue // never run
		}
		img := victims.ImageFor(sc)
		if _, seen := needs[img]; !seen {
			images = append(images, img)
		}
		needs[img] = append(needs[img], sc.ID)
	}
	var missing []string
	for _, img := range images {
		ok, err := victim.ImagePresent(ctx, img)
		if err != nil {
			return fmt.Errorf("check victim images: %w", err)
		}
		if ok {
			continue
		}
		var how string
		switch img {
		case cfg.VictimImage:
			how = fmt.Sprintf("build it with `make victim-image`, or set %s to an image that is", victim.ImageEnv)
		case cfg.VictimToolsImage:
			how = fmt.Sprintf("victim: {image: tools} of %s; build it with `make victim-images`, or set %s to an image that is",
				quoteIDs(needs[img]), victim.ToolsImageEnv)
		default:
			how = fmt.Sprintf("named by the victim: image of %s; build or tag it yourself", quoteIDs(needs[img]))
		}
		missing = append(missing, fmt.Sprintf("%q is not in the Docker engine: %s", img, how))
	}
	if len(missing) > 0 {
		return fmt.Errorf("check victim images: %w: %s", victim.ErrImageMissing, strings.Join(missing, "; "))
	}
	return nil
}

// quoteIDs names up to three scenarios, then how many more.
func quoteIDs(ids []string) string {
	const shown = 3
	q := make([]string, 0, shown)
	for _, id := range ids[:min(len(ids), shown)] {
		q = append(q, fmt.Sprintf("%q", id))
	}
	s := "scenario " + strings.Join(q, ", ")
	if len(ids) > 1 {
		s = "scenarios " + strings.Join(q, ", ")
	}
	if len(ids) > shown {
		s += fmt.Sprintf(" and %d more", len(ids)-shown)
	}
	return s
}
