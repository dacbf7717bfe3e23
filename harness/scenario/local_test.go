package scenario

import (
	"reflect"
	"testing"
)

// TestLoadLocalFile: <technique>.local.yaml adds its scenarios to the
// technique file of the same name, keeping its own path and lines; one
// without that file, or named for another technique, is an error.
func TestLoadLocalFile(t *testing.T) {
	benign := "technique: T1003.008\ntactic: credential-access\nscenarios:\n  - id: benign-read-passwd\n    benign: true\n    steps: [cat /etc/passwd]\n    forbid: [{rule: '*'}]\n"
	files := map[string]string{
		"scenarios/credential-access/T1003.008.yaml":       cred("generated-shadow"),
		"scenarios/credential-access/T1003.008.local.yaml": benign,
	}
	set, lines := loadLines(t, files, Options{})
	if len(lines) != 0 {
		t.Fatalf("problems: %q", lines)
	}
	if len(set.Files) != 1 {
		t.Fatalf("%d files, want the technique file alone with the local scenarios in it", len(set.Files))
	}
	f := set.Files[0]
	var ids, paths []string
	for _, s := range f.Scenarios {
		ids = append(ids, s.ID)
		paths = append(paths, s.File)
	}
	if want := []string{"generated-shadow", "benign-read-passwd"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if want := []string{"scenarios/credential-access/T1003.008.yaml", "scenarios/credential-access/T1003.008.local.yaml"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("scenario files %v, want %v", paths, want)
	}
	if f.Local != "scenarios/credential-access/T1003.008.local.yaml" || f.Scenarios[1].Line != 4 {
		t.Errorf("Local = %q, local scenario at line %d; want the local path and line 4", f.Local, f.Scenarios[1].Line)
	}

	for name, tc := range map[string]struct {
		files map[string]string
		want  []string
	}{
		"alone": {
			files: map[string]string{"scenarios/credential-access/T1003.008.local.yaml": benign},
			want:  []string{"scenarios/credential-access/T1003.008.local.yaml:1:1: no T1003.008.yaml next to it: a .local.yaml file adds scenarios to the technique file of the same name (add T1003.008.yaml, or rename this file to it)"},
		},
		"other technique": {
			files: map[string]string{
				"scenarios/credential-access/T1003.008.yaml":   cred("generated-shadow"),
				"scenarios/credential-access/T1003.local.yaml": benign,
			},
			want: []string{`scenarios/credential-access/T1003.local.yaml:1:12: file name "T1003.local.yaml" does not match its technique T1003.008 (rename it to scenarios/credential-access/T1003.008.local.yaml)`},
		},
		"duplicate id": {
			files: map[string]string{
				"scenarios/credential-access/T1003.008.yaml":       cred("same"),
				"scenarios/credential-access/T1003.008.local.yaml": cred("same"),
			},
			want: []string{`scenarios/credential-access/T1003.008.yaml:4:5: scenario "same": id "same" is already used by the scenario at scenarios/credential-access/T1003.008.local.yaml:4:5 (ids are unique across the whole scenarios tree; rename one)`},
		},
	} {
		if _, got := loadLines(t, tc.files, Options{}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: problems\n%q\nwant\n%q", name, got, tc.want)
		}
	}
}
