package scenario

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/attack"
)

// Options of a load.
type Options struct {
	// Rules, when set, is the index of the candidate rules: every rule
	// named in expect and forbid must exist there ("*" always does), and
	// priorities, tags and fields must be able to match its alerts. Nil
	// skips those checks.
	Rules RuleIndex
}

// Set is what one load found.
type Set struct {
	Files []*File // in path order
	// Warnings are problems that do not stop the scenarios from running
	// (a deprecated technique, a field no alert will carry, a disabled
	// expected rule). Print them; they are not in the load error.
	Warnings []Problem
	// Library is the library the loaded directory is the root of (it holds
	// a library.yaml); nil for a plain scenarios directory.
	Library *Library
	// Skipped are the libraries below the loaded directory that the load
	// left out: each loads on its own. Print their Note.
	Skipped []Library
}

// Scenarios returns every scenario, in file order then file position.
func (s *Set) Scenarios() []*Scenario {
	var out []*Scenario
	for _, f := range s.Files {
		out = append(out, f.Scenarios...)
	}
	return out
}

// Load reads every *.yaml and *.yml file under dir in fsys (recursively,
// in lexical order) as a technique file, [<group>/...]<tactic>/<technique>.yaml
// (docs/scenario-format.md), and checks it. A directory below dir that holds
// a library.yaml is a library of its own: it is left out (Set.Skipped) and
// loads when dir is it or a directory inside it.
//
// Every problem of the load is returned together in a *LoadError, sorted by
// file and position. The Set holds whatever could be decoded even then, so
// a caller can still list it; run nothing from a load that failed.
func Load(fsys fs.FS, dir string, opts Options) (*Set, error) {
	root := ""
	if d := path.Clean(dir); d != "." {
		root = path.Base(d)
	}
	return load(fsys, dir, opts, root, func(p string) string { return p })
}

// LoadDir is Load on a directory of the OS, relative or absolute. Paths in
// problems and in Scenario.File are dir joined with the file's path below
// it, so they open from the caller's working directory.
func LoadDir(dir string, opts Options) (*Set, error) {
	root := ""
	if abs, err := filepath.Abs(dir); err == nil {
		root = filepath.Base(abs)
	}
	return load(os.DirFS(dir), ".", opts, root, func(p string) string {
		return filepath.Join(dir, filepath.FromSlash(p))
	})
}

func load(fsys fs.FS, dir string, opts Options, rootName string, display func(string) string) (*Set, error) {
	dir = path.Clean(dir)
	set := &Set{}
	var problems []Problem
	var paths []string
	// The walk reports its errors through the callback, which never stops
	// it but at an unreadable root, so WalkDir itself returns nil.
	_ = fs.WalkDir(fsys, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			problems = append(problems, Problem{File: display(p), Msg: "read scenarios: " + unwrapPath(err).Error(), Hint: "pass an existing scenarios directory"})
			if p == dir {
				return fs.SkipAll
			}
			return nil
		}
		switch {
		case e.IsDir():
			manifest := path.Join(p, LibraryFile)
			if _, err := fs.Stat(fsys, manifest); err != nil {
				return nil
			}
			lib, libProblems := readLibrary(fsys, manifest, display)
			problems = append(problems, libProblems...)
			if p == dir {
				set.Library = lib
				return nil
			}
			// A library below the loaded directory is a tree of its own
			// (scenarios/upstream): the parent's load leaves it out.
			if lib != nil {
				set.Skipped = append(set.Skipped, *lib)
			}
			return fs.SkipDir
		case isYAMLName(p) && !(path.Base(p) == LibraryFile && path.Dir(p) == dir):
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) == 0 && len(problems) == 0 {
		set.Warnings = append(set.Warnings, Problem{File: display(dir), Msg: "no technique files (*.yaml) found", Hint: "add scenarios/<tactic>/<technique>.yaml files", Warning: true})
	}
	seen := map[string]*Scenario{}
	generated := map[string]*File{} // by path below dir without extension
	type localFile struct {
		f   *File
		d   *decoder
		rel string
	}
	var locals []localFile
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			problems = append(problems, Problem{File: display(p), Msg: "read scenarios: " + unwrapPath(err).Error()})
			continue
		}
		rel := strings.TrimPrefix(p, dir+"/")
		if dir == "." {
			rel = p
		}
		d := &decoder{path: display(p), rules: opts.Rules}
		f := d.parse(data, layout{rel: rel, root: rootName, want: func(rel string) string { return display(path.Join(dir, rel)) }})
		if f != nil {
			for _, s := range f.Scenarios {
				if s.ID == "" {
					continue
				}
				if prev, dup := seen[s.ID]; dup {
					d.scenario = s.ID
					d.errorf(&yaml.Node{Line: s.Line, Column: s.Column}, "ids are unique across the whole scenarios tree; rename one",
						"id %q is already used by the scenario at %s:%d:%d", s.ID, prev.File, prev.Line, prev.Column)
					continue
				}
				seen[s.ID] = s
			}
			if isLocalName(rel) {
				locals = append(locals, localFile{f, d, rel})
			} else {
				generated[strings.TrimSuffix(rel, path.Ext(rel))] = f
				set.Files = append(set.Files, f)
			}
		}
		problems = d.sortInto(problems, set)
	}
	// A <technique>.local.yaml adds its scenarios to the technique file of
	// the same name next to it, which a generator may rewrite at will.
	for _, l := range locals {
		key := strings.TrimSuffix(l.rel, localSuffix+path.Ext(l.rel))
		main, ok := generated[key]
		switch {
		case !ok && path.Base(key) != string(l.f.Technique):
			continue // misnamed: checkPlacement said so
		case !ok:
			d := &decoder{path: l.f.Path}
			name := path.Base(key) + path.Ext(l.rel)
			d.errorf(&yaml.Node{Line: 1, Column: 1}, "add "+name+", or rename this file to it",
				"no %s next to it: a %s file adds scenarios to the technique file of the same name", name, localSuffix+path.Ext(l.rel))
			problems = d.sortInto(problems, set)
			continue
		}
		main.Scenarios = append(main.Scenarios, l.f.Scenarios...)
		main.Local = l.f.Path
	}
	sortProblems(set.Warnings)
	if len(problems) == 0 {
		return set, nil
	}
	sortProblems(problems)
	return set, &LoadError{Problems: problems}
}

// localSuffix marks a file of hand-written scenarios next to a generated
// technique file: T1070.003.local.yaml beside T1070.003.yaml.
const localSuffix = ".local"

// isLocalName reports whether a technique file's name is
// <technique>.local.yaml (or .yml): scenarios added to <technique>.yaml.
func isLocalName(p string) bool {
	return strings.HasSuffix(strings.TrimSuffix(path.Base(p), path.Ext(p)), localSuffix)
}

// sortInto adds the decoder's problems to the load's errors, which it
// returns, and its warnings to the set's.
func (d *decoder) sortInto(problems []Problem, set *Set) []Problem {
	for _, pr := range d.problems {
		if pr.Warning {
			set.Warnings = append(set.Warnings, pr)
		} else {
			problems = append(problems, pr)
		}
	}
	return problems
}

func isYAMLName(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".yaml" || ext == ".yml"
}

// unwrapPath drops a *fs.PathError's op and path: problems already start
// with the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// layout is where a file sits below the loaded directory, to check it
// against [<group>/...]<tactic>/<technique>.yaml.
type layout struct {
	rel  string                  // path below the loaded directory
	root string                  // base name of the loaded directory ("" when unknown)
	want func(rel string) string // the path to show for a path below the loaded directory
}

// parse decodes one file and checks where it lies.
func (d *decoder) parse(data []byte, l layout) *File {
	root := d.document(data)
	if root == nil {
		return nil
	}
	f := d.file(root)
	if f != nil {
		d.checkPlacement(f, root, l)
	}
	return f
}

// checkPlacement holds a file to [<group>/...]<tactic>/<technique>.yaml: its
// parent directory is its tactic, so that a tactic's directory lists all of
// its techniques and nothing else. Groups above it (a library's maturity
// levels: stable/, incubating/) are free.
func (d *decoder) checkPlacement(f *File, root *yaml.Node, l layout) {
	if f.Technique == "" || f.Tactic == "" {
		return
	}
	if _, ok := attack.Lookup(f.Technique); !ok || attack.CheckTactic(f.Technique, f.Tactic) != nil {
		return // already reported; the right place is not known
	}
	dir, base := path.Split(l.rel)
	dir = strings.TrimSuffix(dir, "/")
	wantBase := string(f.Technique) + path.Ext(base)
	if isLocalName(base) {
		wantBase = string(f.Technique) + localSuffix + path.Ext(base)
	}
	parent, groups := path.Base(dir), path.Dir(dir)
	if dir == "" {
		// The file is in the loaded directory itself, which may be the
		// tactic's (SCENARIOS=scenarios/impact): its parent is the root.
		parent, groups = l.root, ".."
	}
	tactic := string(f.Tactic)
	at := valueNode(root, "tactic")
	switch {
	case parent == tactic:
		if base != wantBase {
			d.errorf(valueNode(root, "technique"), "rename it to "+l.want(path.Join(dir, wantBase)),
				"file name %q does not match its technique %s", base, f.Technique)
		}
	case attack.Tactic(parent).Known():
		where := dir
		if where == "" {
			where = parent
		}
		d.errorf(at, "move it to "+l.want(path.Join(groups, tactic, wantBase)),
			"file is under %q but its tactic is %s", where+"/", f.Tactic)
	default:
		d.errorf(at, "move it to "+l.want(path.Join(dir, tactic, wantBase)),
			"file is not in a tactic directory but its tactic is %s", f.Tactic)
	}
}

// valueNode finds a top-level key's value for positioning a message.
func valueNode(root *yaml.Node, key string) *yaml.Node {
	root = deref(root)
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == key {
			return deref(root.Content[i+1])
		}
	}
	return root
}
