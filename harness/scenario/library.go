package scenario

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// LibraryFile marks a directory as the root of a scenario library.
const LibraryFile = "library.yaml"

// Library is a scenario library: a directory tree of technique files whose root holds a
// library.yaml naming it (scenarios/upstream, the falcosecurity/rules library). A library
// loads on its own; loading a directory above it leaves it out.
type Library struct {
	Dir         string // the library's root, as shown
	Name        string
	Description string
}

var libraryKeys = []string{"name", "description"}

// Note says that a load left the library out, and how to load it.
func (l Library) Note() string {
	return fmt.Sprintf("%s: the scenario library %q is not loaded with its parent directory: load it on its own, with --scenarios %s (make: SCENARIOS=%s)",
		l.Dir, l.Name, l.Dir, l.Dir)
}

// readLibrary reads a library.yaml: name and description, nothing else.
func readLibrary(fsys fs.FS, file string, display func(string) string) (*Library, []Problem) {
	d := &decoder{path: display(file)}
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, []Problem{{File: d.path, Msg: "read scenario library: " + unwrapPath(err).Error()}}
	}
	lib := &Library{Dir: display(path.Dir(file))}
	if !d.library(data, lib) {
		return nil, d.problems
	}
	return lib, d.problems
}

func (d *decoder) library(data []byte, lib *Library) bool {
	const nameHint = `give the library's name, like "falcosecurity/rules 5.0.0 upstream library"`
	root := d.document(data)
	if root == nil {
		return false
	}
	pairs, ok := d.mapping(root, "a library file", libraryKeys)
	if !ok {
		return false
	}
	named := false
	for _, p := range pairs {
		switch p.name() {
		case "name":
			named = true
			if s, ok := d.str(p.val, "name", nameHint); ok && strings.TrimSpace(s) != "" {
				lib.Name = strings.TrimSpace(s)
			} else if ok {
				d.errorf(p.val, nameHint, "name is empty")
			}
		case "description":
			lib.Description, _ = d.str(p.val, "description", "say what the library holds and where it comes from, or drop the key")
		}
	}
	if !named {
		d.errorf(root, nameHint, `missing key "name"`)
	}
	return lib.Name != ""
}
