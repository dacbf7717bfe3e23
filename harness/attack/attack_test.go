package attack

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestTableMatchesSharedCopy(t *testing.T) {
	// The embedded table is a copy of shared/attack/enterprise-techniques.json;
	// count its rows independently so a truncated or hand-edited copy fails.
	var raw struct {
		Source     string            `json:"source"`
		Techniques []json.RawMessage `json:"techniques"`
	}
	if err := json.Unmarshal(enterpriseJSON, &raw); err != nil {
		t.Fatal(err)
	}
	if got := len(Techniques()); got != len(raw.Techniques) {
		t.Errorf("Techniques() has %d rows, the JSON %d", got, len(raw.Techniques))
	}
	if len(raw.Techniques) < 600 {
		t.Errorf("table has only %d techniques; the Enterprise table has about 700", len(raw.Techniques))
	}
	if ReleaseDate() != "2026-05-12" {
		t.Errorf("ReleaseDate() = %q, want the date of the table's source line", ReleaseDate())
	}
	if Release() != raw.Source || !strings.Contains(Release(), "MITRE ATT&CK Enterprise") {
		t.Errorf("Release() = %q, want the table's source line %q", Release(), raw.Source)
	}
}

func TestLookup(t *testing.T) {
	tech, ok := Lookup("T1490")
	if !ok {
		t.Fatal("T1490 not found")
	}
	if tech.Name != "Inhibit System Recovery" || !reflect.DeepEqual(tech.Tactics, []Tactic{"impact"}) {
		t.Errorf("T1490 = %+v", tech)
	}
	sub, ok := Lookup("T1685.006")
	if !ok || sub.Tactics[0] != "defense-impairment" {
		t.Errorf("T1685.006 = %+v, %v", sub, ok)
	}
	if _, ok := Lookup("T1562.001"); ok {
		t.Error("T1562.001 was renumbered in this release and must be unknown")
	}
	// Callers must not be able to change the table through a returned slice.
	tech.Tactics[0] = "persistence"
	again, _ := Lookup("T1490")
	if again.Tactics[0] != "impact" {
		t.Error("Lookup returned the table's own slice")
	}
}

func TestTechniquesSorted(t *testing.T) {
	all := Techniques()
	for i := 1; i < len(all); i++ {
		if all[i-1].ID >= all[i].ID {
			t.Fatalf("not sorted at %d: %s then %s", i, all[i-1].ID, all[i].ID)
		}
	}
}

func TestTacticsKillChainOrder(t *testing.T) {
	got := Tactics()
	if got[0] != "reconnaissance" || got[len(got)-1] != "impact" {
		t.Errorf("Tactics() = %v, want reconnaissance first and impact last", got)
	}
	for i, tac := range got {
		if tac.Order() != i {
			t.Errorf("%s.Order() = %d, want %d", tac, tac.Order(), i)
		}
	}
	if Tactic("defense-evasion").Order() != -1 {
		t.Error("retired tactic has an order")
	}
	// Every technique lists its tactics in kill-chain order.
	for _, tech := range Techniques() {
		for i := 1; i < len(tech.Tactics); i++ {
			if tech.Tactics[i-1].Order() >= tech.Tactics[i].Order() {
				t.Errorf("%s tactics %v not in kill-chain order", tech.ID, tech.Tactics)
			}
		}
	}
}

func TestParseTactic(t *testing.T) {
	for in, want := range map[string]Tactic{
		"impact":                  "impact",
		"credential-access":       "credential-access",
		" Credential-Access ":     "credential-access",
		"mitre_credential_access": "credential-access",
		"command_and_control":     "command-and-control",
	} {
		got, err := ParseTactic(in)
		if err != nil || got != want {
			t.Errorf("ParseTactic(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseTactic("defense-evasion")
	var ue *UnknownTacticError
	if !errors.As(err, &ue) {
		t.Fatalf("ParseTactic(defense-evasion) error = %v, want *UnknownTacticError", err)
	}
	if want := `tactic "defense-evasion" is not in ATT&CK as of 2026-05-12: it was split into stealth and defense-impairment`; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q\nwant prefix %q", err, want)
	}
}

func TestParseTechniqueID(t *testing.T) {
	got, err := ParseTechniqueID(" t1490 ")
	if err != nil || got != "T1490" {
		t.Errorf("ParseTechniqueID = %q, %v", got, err)
	}
	for in, want := range map[string]string{
		"T1490.001": `technique T1490.001 is not in ATT&CK as of 2026-05-12; close ids: T1490 "Inhibit System Recovery"`,
		"T1070.002": `technique T1070.002 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685.006 "Disable or Modify Tools: Clear Linux or Mac System Logs" (defense-impairment)`,
		"T1562.001": `technique T1562.001 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685 "Disable or Modify Tools" (defense-impairment)`,
		"T1070.099": `technique T1070.099 is not in ATT&CK as of 2026-05-12; close ids: T1070 "Indicator Removal on Host", T1070.003 "Indicator Removal on Host: Clear Command History", `,
		"T9999":     `technique T9999 is not in ATT&CK as of 2026-05-12`,
		"1490":      `"1490" is not an ATT&CK technique id (ids look like T1490 or T1003.008)`,
		"T1490.1":   `"T1490.1" is not an ATT&CK technique id (ids look like T1490 or T1003.008)`,
	} {
		_, err := ParseTechniqueID(in)
		var ue *UnknownTechniqueError
		if !errors.As(err, &ue) {
			t.Errorf("ParseTechniqueID(%q) error = %v, want *UnknownTechniqueError", in, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseTechniqueID(%q) error =\n%q\nwant prefix\n%q", in, err, want)
		}
		if len(ue.Suggestions) > maxSuggestions {
			t.Errorf("%d suggestions, at most %d allowed", len(ue.Suggestions), maxSuggestions)
		}
	}
}

func TestCheckTactic(t *testing.T) {
	if err := CheckTactic("T1490", "impact"); err != nil {
		t.Errorf("T1490/impact: %v", err)
	}
	if err := CheckTactic("T1053.003", "persistence"); err != nil {
		t.Errorf("T1053.003/persistence: %v", err)
	}
	cases := map[[2]string]string{
		{"T1490", "persistence"}:   `technique T1490 "Inhibit System Recovery" belongs to tactic impact, not persistence`,
		{"T1053", "impact"}:        `technique T1053 "Scheduled Task/Job" belongs to tactics execution, persistence, privilege-escalation, not impact`,
		{"T1490", "bogus"}:         `tactic "bogus" is not in ATT&CK as of 2026-05-12; tactics: `,
		{"T1562.001", "stealth"}:   `technique T1562.001 is not in ATT&CK as of 2026-05-12`,
		{"T1070.004", "stealth"}:   "",
		{"T1070.004", "impact"}:    `technique T1070.004 "Indicator Removal on Host: File Deletion" belongs to tactic stealth, not impact`,
		{"T1003.008", "discovery"}: `technique T1003.008 "OS Credential Dumping: /etc/passwd, /etc/master.passwd and /etc/shadow" belongs to tactic credential-access, not discovery`,
	}
	for in, want := range cases {
		err := CheckTactic(TechniqueID(in[0]), Tactic(in[1]))
		if want == "" {
			if err != nil {
				t.Errorf("CheckTactic(%v) = %v", in, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("CheckTactic(%v) =\n%v\nwant prefix\n%s", in, err, want)
		}
	}
	var me *TacticMismatchError
	if err := CheckTactic("T1490", "persistence"); !errors.As(err, &me) || !reflect.DeepEqual(me.Want, []Tactic{"impact"}) {
		t.Errorf("mismatch error = %#v", err)
	}
}

func TestYAMLUnmarshalers(t *testing.T) {
	var ok struct {
		Technique TechniqueID `yaml:"technique"`
		Tactic    Tactic      `yaml:"tactic"`
	}
	if err := yaml.Unmarshal([]byte("technique: T1490\ntactic: impact\n"), &ok); err != nil {
		t.Fatal(err)
	}
	if ok.Technique != "T1490" || ok.Tactic != "impact" {
		t.Errorf("decoded %+v", ok)
	}
	for doc, want := range map[string]string{
		"technique: T1562.001\n":    "line 1: technique T1562.001 is not in ATT&CK",
		"technique: [T1490]\n":      `line 1: technique id must be a string like "T1490"`,
		"tactic: defense-evasion\n": `line 1: tactic "defense-evasion" is not in ATT&CK`,
		"\ntactic: {a: b}\n":        `line 2: tactic must be a string like "impact"`,
	} {
		var v struct {
			Technique TechniqueID `yaml:"technique"`
			Tactic    Tactic      `yaml:"tactic"`
		}
		err := yaml.Unmarshal([]byte(doc), &v)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Unmarshal(%q) = %v, want prefix %q", doc, err, want)
		}
	}
}

func TestClassifyTag(t *testing.T) {
	cases := []struct {
		tag     string
		kind    TagKind
		problem string
	}{
		{"T1490", KnownTechnique, ""},
		{"T1685.006", KnownTechnique, ""},
		{"mitre_impact", KnownTactic, ""},
		{"mitre_credential_access", KnownTactic, ""},
		{"mitre_command_and_control", KnownTactic, ""},
		{"container", NotATTACK, ""},
		{"inhibit_system_recovery", NotATTACK, ""},
		{"", NotATTACK, ""},
		{"mitre_", NotATTACK, ""},
		{"T", NotATTACK, ""},
		{"mitre\x00\xff", NotATTACK, ""},
		{"T1562.001", OutOfDate, `tag "T1562.001": technique T1562.001 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685 "Disable or Modify Tools" (use T1685 and mitre_defense_impairment)`},
		{"T1070.002", OutOfDate, `tag "T1070.002": technique T1070.002 is not in ATT&CK as of 2026-05-12: this release renumbered it T1685.006 "Disable or Modify Tools: Clear Linux or Mac System Logs" (use T1685.006 and mitre_defense_impairment)`},
		{"T1070.099", OutOfDate, `tag "T1070.099": technique T1070.099 is not in ATT&CK as of 2026-05-12; close ids: T1070 "Indicator Removal on Host"`},
		{"mitre_defense_evasion", OutOfDate, `tag "mitre_defense_evasion" names tactic "defense-evasion", which ATT&CK as of 2026-05-12 split into stealth, defense-impairment (use mitre_stealth or mitre_defense_impairment)`},
		{"mitre_Impact", OutOfDate, `tag "mitre_Impact" is not spelled the way Falco rules spell tactics (use mitre_impact)`},
		{"mitre_credential-access", OutOfDate, `tag "mitre_credential-access" is not spelled the way Falco rules spell tactics (use mitre_credential_access)`},
		{"mitre_bogus", OutOfDate, `tag "mitre_bogus" names tactic "bogus", which is not in ATT&CK as of 2026-05-12 (tactic tags: mitre_reconnaissance,`},
		{"t1490", OutOfDate, `tag "t1490" is not spelled the way ATT&CK spells technique ids (use T1490)`},
		{"t9999", OutOfDate, `tag "t9999": technique T9999 is not in ATT&CK`},
	}
	for _, c := range cases {
		got := ClassifyTag(c.tag)
		if got.Kind != c.kind || !strings.HasPrefix(got.Problem, c.problem) || (c.problem == "") != (got.Problem == "") {
			t.Errorf("ClassifyTag(%q) = %v %q, want %v %q", c.tag, got.Kind, got.Problem, c.kind, c.problem)
		}
	}
	if got := ClassifyTag("mitre_impact"); got.Tactic != "impact" {
		t.Errorf("mitre_impact tactic = %q", got.Tactic)
	}
	if got := ClassifyTag("T1490"); got.Technique != "T1490" {
		t.Errorf("T1490 technique = %q", got.Technique)
	}
}

func TestTacticTagRoundTrip(t *testing.T) {
	for _, tac := range Tactics() {
		info := ClassifyTag(tac.Tag())
		if info.Kind != KnownTactic || info.Tactic != tac {
			t.Errorf("%s: tag %q classified %v %q", tac, tac.Tag(), info.Kind, info.Tactic)
		}
	}
}

func TestParseTableRejectsBrokenTables(t *testing.T) {
	for name, doc := range map[string]string{
		"syntax":    `{`,
		"malformed": `{"tactics":["impact"],"techniques":[{"id":"X1","tactics":["impact"]}]}`,
		"duplicate": `{"tactics":["impact"],"techniques":[{"id":"T0001","tactics":["impact"]},{"id":"T0001","tactics":["impact"]}]}`,
		"tactic":    `{"tactics":["impact"],"techniques":[{"id":"T0001","tactics":["bogus"]}]}`,
	} {
		if _, err := parseTable([]byte(doc)); err == nil {
			t.Errorf("%s: parseTable accepted %s", name, doc)
		}
	}
}

func TestEmbeddedTableIsTheSharedOne(t *testing.T) {
	shared, err := os.ReadFile("../../../shared/attack/enterprise-techniques.json")
	if err != nil {
		t.Skipf("shared copy not beside the repository (%v); nothing to compare", err)
	}
	if string(shared) != string(enterpriseJSON) {
		t.Error("harness/attack/enterprise-techniques.json differs from shared/attack/enterprise-techniques.json")
	}
}

func FuzzClassifyTag(f *testing.F) {
	for _, s := range []string{"T1490", "mitre_impact", "mitre_", "T1562.001", "container", "t1490", "mitre_Defense_Evasion"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		info := ClassifyTag(tag)
		if info.Tag != tag {
			t.Fatalf("Tag = %q, want %q", info.Tag, tag)
		}
		if (info.Kind == OutOfDate) != (info.Problem != "") {
			t.Fatalf("kind %v with problem %q", info.Kind, info.Problem)
		}
	})
}
