package alert

import (
	"strings"
	"testing"
)

func TestAppendedFieldsCarryWhatAttributionReads(t *testing.T) {
	fields := AppendedFields()
	byName := map[string]AppendedField{}
	for i, f := range fields {
		if _, dup := byName[f.Name]; dup {
			t.Errorf("field %q appended twice", f.Name)
		}
		byName[f.Name] = f
		if isContainer := strings.HasPrefix(f.Name, "container."); f.Container != isContainer {
			t.Errorf("%s: Container = %v, want %v", f.Name, f.Container, isContainer)
		}
		// Falco renders container fields only where it has them, first.
		if i > 0 && f.Container && !fields[i-1].Container {
			t.Errorf("container field %s comes after %s", f.Name, fields[i-1].Name)
		}
	}
	// Alert.ContainerID, Token and EventTime and the barrier read these.
	for _, name := range []string{FieldContainerID, FieldToken, FieldBarrier, FieldEventTime} {
		if _, ok := byName[name]; !ok {
			t.Errorf("%s is not appended, so no alert carries it", name)
		}
	}
	for name, env := range map[string]string{FieldToken: EnvToken, FieldBarrier: EnvBarrier} {
		if want := "%proc.env[" + env + "]"; byName[name].Format != want {
			t.Errorf("%s: Format = %q, want %q", name, byName[name].Format, want)
		}
	}
	for _, f := range fields {
		if f.Format != "" && f.Name != FieldToken && f.Name != FieldBarrier {
			t.Errorf("%s: Format %q; only the harness's own fields are rendered from a format", f.Name, f.Format)
		}
	}

	fields[0].Name = "changed"
	if AppendedFields()[0].Name == "changed" {
		t.Error("AppendedFields shares its slice: a caller's change leaks into the next call")
	}
}
