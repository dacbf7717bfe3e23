package scenario

import (
	"reflect"
	"strings"
	"testing"

	"github.com/attack-replay/attack-replay/harness/attack"
)

func TestParseSelection(t *testing.T) {
	sel, err := ParseSelection("T1490, t1003.008 T1053", "impact,mitre_credential_access")
	if err != nil {
		t.Fatal(err)
	}
	want := Selection{
		Techniques: []attack.TechniqueID{"T1490", "T1003.008", "T1053"},
		Tactics:    []attack.Tactic{"impact", "credential-access"},
	}
	if !reflect.DeepEqual(sel, want) {
		t.Errorf("sel = %+v", sel)
	}
	if sel, err := ParseSelection("", " "); err != nil || !sel.Empty() {
		t.Errorf("empty selection = %+v, %v", sel, err)
	}
	_, err = ParseSelection("T1490,T1562.001", "defense-evasion")
	if err == nil {
		t.Fatal("unknown technique and tactic accepted")
	}
	for _, part := range []string{"parse selection: ", "technique T1562.001 is not in ATT&CK", `tactic "defense-evasion" is not in ATT&CK`} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
}

func TestFilter(t *testing.T) {
	mk := func(id string, tech attack.TechniqueID, tac attack.Tactic) *Scenario {
		return &Scenario{ID: id, Technique: tech, Tactic: tac}
	}
	all := []*Scenario{
		mk("a", "T1490", "impact"),
		mk("b", "T1003.008", "credential-access"),
		mk("c", "T1053.003", "persistence"),
		mk("d", "T1053.003", "execution"),
		mk("e", "T1003", "credential-access"),
	}
	ids := func(s []*Scenario) []string {
		var out []string
		for _, x := range s {
			out = append(out, x.ID)
		}
		return out
	}
	cases := []struct {
		sel  Selection
		want []string
	}{
		{Selection{}, []string{"a", "b", "c", "d", "e"}},
		{Selection{Techniques: []attack.TechniqueID{"T1490"}}, []string{"a"}},
		{Selection{Techniques: []attack.TechniqueID{"T1003"}}, []string{"b", "e"}},
		{Selection{Techniques: []attack.TechniqueID{"T1003.008"}}, []string{"b"}},
		{Selection{Tactics: []attack.Tactic{"persistence", "impact"}}, []string{"a", "c"}},
		{Selection{Techniques: []attack.TechniqueID{"T1053"}, Tactics: []attack.Tactic{"execution"}}, []string{"d"}},
		{Selection{Techniques: []attack.TechniqueID{"T1490"}, Tactics: []attack.Tactic{"execution"}}, nil},
	}
	for _, c := range cases {
		if got := ids(Filter(all, c.sel)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Filter(%+v) = %q, want %q", c.sel, got, c.want)
		}
	}
}
