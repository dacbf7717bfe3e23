package alert

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falcosecurity/client-go/pkg/api/outputs"
	"github.com/falcosecurity/client-go/pkg/api/schema"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/attack-replay/attack-replay/harness/rules"
)

func TestDecodeJSONReadsEveryHTTPSample(t *testing.T) {
	for _, f := range sampleFiles(t, "http-*.jsonl") {
		for i, line := range sampleLines(t, f) {
			a, err := DecodeJSON(line)
			if err != nil {
				t.Fatalf("%s:%d: %v", f, i+1, err)
			}
			// An independent reading of the same line, for the string values.
			var raw struct {
				Rule, Priority, Time, Output, Hostname, Source string
				OutputFields                                   map[string]any `json:"output_fields"`
			}
			if err := json.Unmarshal(line, &raw); err != nil {
				t.Fatal(err)
			}
			wantPrio, err := rules.ParsePriority(raw.Priority)
			if err != nil {
				t.Fatal(err)
			}
			if a.Rule != raw.Rule || a.Priority != wantPrio || a.Output != raw.Output ||
				a.Hostname != raw.Hostname || a.Source != raw.Source {
				t.Errorf("%s:%d: got %+v", f, i+1, a)
			}
			if got := a.Time.Format("2006-01-02T15:04:05.000000000Z07:00"); got != raw.Time {
				t.Errorf("%s:%d: time %s, want %s", f, i+1, got, raw.Time)
			}
			digits, ok := rawEvtTime(line)
			if !ok {
				t.Fatalf("%s:%d: sample has no evt.time", f, i+1)
			}
			if a.Fields[FieldEventTime] != digits {
				t.Errorf("%s:%d: evt.time %q, want every digit of %s", f, i+1, a.Fields[FieldEventTime], digits)
			}
			ns, _ := strconv.ParseInt(digits, 10, 64)
			if !a.EventTime().Equal(time.Unix(0, ns)) {
				t.Errorf("%s:%d: EventTime %v, want %d ns", f, i+1, a.EventTime(), ns)
			}
			if len(a.Fields) != len(raw.OutputFields) {
				t.Errorf("%s:%d: %d fields, want %d", f, i+1, len(a.Fields), len(raw.OutputFields))
			}
			for k, v := range raw.OutputFields {
				switch v := v.(type) {
				case nil:
					if a.Fields[k] != NA {
						t.Errorf("%s:%d: null field %q = %q, want %q", f, i+1, k, a.Fields[k], NA)
					}
				case string:
					if a.Fields[k] != v {
						t.Errorf("%s:%d: field %q = %q, want %q", f, i+1, k, a.Fields[k], v)
					}
				}
			}
			if id, ok := raw.OutputFields[FieldContainerID].(string); ok && a.ContainerID() != id {
				t.Errorf("%s:%d: container id %q, want %q", f, i+1, a.ContainerID(), id)
			}
			if _, ok := raw.OutputFields[FieldContainerID]; !ok && a.ContainerID() != "" {
				t.Errorf("%s:%d: container id %q from an alert without one", f, i+1, a.ContainerID())
			}
		}
	}
}

func TestDecodeJSONFieldValues(t *testing.T) {
	a, err := DecodeJSON([]byte(`{"rule":"r","priority":"Informational","time":"2026-11-25T20:44:19.000000001Z",
		"output_fields":{"n":-1,"big":18446744073709551615,"f":1.50,"t":true,"no":false,"null":null,"s":"x","list":["a",1]}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"n": "-1", "big": "18446744073709551615", "f": "1.50", "t": "true", "no": "false",
		"null": NA, "s": "x", "list": `["a",1]`}
	for k, v := range want {
		if a.Fields[k] != v {
			t.Errorf("field %q = %q, want %q", k, a.Fields[k], v)
		}
	}
	if a.Priority != rules.Informational || a.Time.Nanosecond() != 1 {
		t.Errorf("got priority %v, time %v", a.Priority, a.Time)
	}
}

func TestDecodeJSONRejects(t *testing.T) {
	const ok = `"rule":"r","priority":"Warning","time":"2026-11-25T20:44:19Z"`
	for name, body := range map[string]string{
		"empty":             "",
		"blank":             " \n",
		"null":              "null",
		"array":             "[]",
		"string":            `"x"`,
		"number":            "42",
		"not json":          "rm -rf seen",
		"cut short":         `{"rule":"r"`,
		"no rule":           `{"priority":"Warning","time":"2026-11-25T20:44:19Z"}`,
		"empty rule":        `{"rule":"","priority":"Warning","time":"2026-11-25T20:44:19Z"}`,
		"no priority":       `{"rule":"r","time":"2026-11-25T20:44:19Z"}`,
		"no time":           `{"rule":"r","priority":"Warning"}`,
		"bad priority":      `{"rule":"r","priority":"Loud","time":"2026-11-25T20:44:19Z"}`,
		"bad time":          `{"rule":"r","priority":"Warning","time":"yesterday"}`,
		"fields not map":    `{` + ok + `,"output_fields":[1]}`,
		"two objects":       `{` + ok + `}{` + ok + `}`,
		"trailing garbage":  `{` + ok + `} x`,
		"key in other case": `{"rule":"r","prioritY":"Warning","time":"2026-11-25T20:44:19Z"}`,
		"rule as Rule":      `{"Rule":"r","priority":"Warning","time":"2026-11-25T20:44:19Z"}`,
	} {
		if a, err := DecodeJSON([]byte(body)); err == nil {
			t.Errorf("%s: decoded %+v, want an error", name, a)
		}
	}
	if _, err := DecodeJSON([]byte("{" + ok + "}\n")); err != nil {
		t.Errorf("the valid base body: %v", err)
	}
}

func TestFromGRPCUnwrapsTheJSONOutputOfEverySample(t *testing.T) {
	responses, raw := grpcSamples(t)
	for i, res := range responses {
		a, err := FromGRPC(res)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		inner, err := DecodeJSON([]byte(res.GetOutput()))
		if err != nil {
			t.Fatalf("sample %d: output is not a JSON alert: %v", i, err)
		}
		if strings.HasPrefix(a.Output, "{") || a.Output != inner.Output {
			t.Errorf("sample %d: output %q, want the rendered line %q", i, a.Output, inner.Output)
		}
		digits, ok := rawEvtTime(raw[i])
		if !ok {
			t.Fatalf("sample %d has no evt.time", i)
		}
		if a.Fields[FieldEventTime] != digits {
			t.Errorf("sample %d: evt.time %q, want %s", i, a.Fields[FieldEventTime], digits)
		}
		if a.Priority != rules.Warning || a.Rule != res.GetRule() || a.Transport != TransportGRPC {
			t.Errorf("sample %d: got %+v", i, a)
		}
		if id, ok := res.GetOutputFields()[FieldContainerID]; a.ContainerID() != id || ok != (a.ContainerID() != "") {
			t.Errorf("sample %d: container id %q, response says %q", i, a.ContainerID(), id)
		}
		if !a.Time.Equal(res.GetTime().AsTime()) {
			t.Errorf("sample %d: time %v, want %v", i, a.Time, res.GetTime().AsTime())
		}
	}
}

func TestFromGRPCWithoutJSONOutputUsesTheResponseFields(t *testing.T) {
	ts := time.Date(2026, 11, 25, 20, 19, 22, 480159822, time.UTC)
	res := &outputs.Response{
		Time:         timestamppb.New(ts),
		Priority:     schema.Priority_CRITICAL,
		Rule:         "Disable recovery features",
		Output:       "20:19:22.480159822: Critical Disabling recovery features",
		OutputFields: map[string]string{"container.id": "c373d3f043fb", "proc.pid": "17584"},
		Hostname:     "vm",
		Tags:         []string{"T1490"},
		Source:       "syscall",
	}
	a, err := FromGRPC(res)
	if err != nil {
		t.Fatal(err)
	}
	if a.Output != res.Output || a.Priority != rules.Critical || a.ContainerID() != "c373d3f043fb" ||
		a.Fields["proc.pid"] != "17584" || !a.Time.Equal(ts) || !a.EventTime().Equal(ts) {
		t.Errorf("got %+v", a)
	}
	// A rule whose own text looks like JSON of another rule stays as sent.
	res.Output = `{"rule":"other","priority":"Debug","time":"2026-11-25T20:19:22Z"}`
	if a, err := FromGRPC(res); err != nil || a.Output != res.Output || a.ContainerID() != "c373d3f043fb" {
		t.Errorf("got %+v, %v", a, err)
	}
}

func TestFromGRPCRejects(t *testing.T) {
	for name, res := range map[string]*outputs.Response{
		"nil":          nil,
		"no time":      {Rule: "r", Priority: schema.Priority_DEBUG},
		"bad time":     {Rule: "r", Time: &timestamppb.Timestamp{Nanos: -1}},
		"bad priority": {Rule: "r", Time: timestamppb.Now(), Priority: schema.Priority(42)},
	} {
		if a, err := FromGRPC(res); err == nil {
			t.Errorf("%s: converted %+v, want an error", name, a)
		}
	}
}

func TestDecodeJSONLReadsEverySampleFile(t *testing.T) {
	for _, f := range sampleFiles(t, "*.jsonl") {
		lines := sampleLines(t, f)
		r, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		alerts, err := DecodeJSONL(r, filepath.Base(f))
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(alerts) != len(lines) {
			t.Fatalf("%s: %d alerts from %d lines", f, len(alerts), len(lines))
		}
		for i, a := range alerts {
			digits, _ := rawEvtTime(lines[i])
			// gRPC renderings are unwrapped: evt.time comes from the inner JSON.
			if a.Fields[FieldEventTime] != digits || a.Transport != TransportReplay || strings.HasPrefix(a.Output, "{") {
				t.Errorf("%s:%d: got %+v", f, i+1, a)
			}
		}
	}
}

func TestDecodeJSONLNamesTheBadLine(t *testing.T) {
	in := `{"rule":"r","priority":"Warning","time":"2026-11-25T20:44:19Z"}

Events detected: 3
`
	_, err := DecodeJSONL(bytes.NewBufferString(in), "alerts.jsonl")
	if err == nil || !strings.Contains(err.Error(), "alerts.jsonl:3:") {
		t.Fatalf("error %v, want one naming alerts.jsonl:3", err)
	}
}

func TestAlertCloneIsIndependent(t *testing.T) {
	a := Alert{Fields: map[string]string{FieldContainerID: "c373d3f043fb"}, Tags: []string{"T1490"}}
	b := a.Clone()
	b.Fields[FieldContainerID] = "014eda703fe5"
	b.Tags[0] = "x"
	if a.ContainerID() != "c373d3f043fb" || a.Tags[0] != "T1490" {
		t.Errorf("clone shares state with the original: %+v", a)
	}
}

// FuzzDecodeJSON: whatever Falco (or anything else) posts, decoding never
// panics, and what it accepts has the keys a Falco alert must have.
func FuzzDecodeJSON(f *testing.F) {
	for _, file := range sampleFiles(f, "*.jsonl") {
		for _, l := range sampleLines(f, file) {
			f.Add(l)
		}
	}
	f.Add([]byte(`{"rule":"r","priority":"Debug","time":"2026-11-25T20:44:19Z","output_fields":{"a":null,"b":[1,{"c":true}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeJSON(b)
		if err != nil {
			return
		}
		if a.Rule == "" || a.Priority < rules.Emergency || a.Priority > rules.Debug {
			t.Errorf("accepted %q as %+v", b, a)
		}
		// Only one valid JSON object with the three keys is accepted.
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("accepted invalid JSON %q: %v", b, err)
		}
		for _, k := range []string{"rule", "priority", "time"} {
			if _, ok := m[k]; !ok {
				t.Errorf("accepted %q without %q", b, k)
			}
		}
		if _, ok := m["output_fields"]; !ok && len(a.Fields) > 0 {
			t.Errorf("fields %v from a body without output_fields", a.Fields)
		}
	})
}
