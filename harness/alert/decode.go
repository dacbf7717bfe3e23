package alert

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/falcosecurity/client-go/pkg/api/outputs"

	"github.com/attack-replay/attack-replay/harness/rules"
)

// Transports an Alert can come from.
const (
	TransportGRPC   = "grpc"
	TransportHTTP   = "http"
	TransportReplay = "replay"
)

// jsonAlert is Falco's JSON alert as json_output prints it on stdout and
// http_output posts it (fixtures/falco/FACTS.md "Alerts", fixtures/falco/http-*.jsonl), each
// key decoded on its own (DecodeJSON). Pointers tell a missing key from an empty one.
type jsonAlert struct {
	Hostname     string
	Output       string
	OutputFields map[string]any
	Priority     *string
	Rule         *string
	Source       string
	Tags         []string
	Time         *string
}

// DecodeJSON reads one Falco JSON alert (an http_output body or a stdout
// line). Output field values become strings: numbers keep their literal
// digits (evt.time has 19 of them, more than a float64 holds), booleans read
// true/false and null reads NA, the way gRPC and text output print them.
// A body that is not one JSON object, or lacks rule, priority or time, is an
// error. ReceivedAt and Transport are left for the source to set.
func DecodeJSON(b []byte) (Alert, error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if len(trimmed) == 0 {
		return Alert{}, errors.New("decode falco alert: empty body")
	}
	if trimmed[0] != '{' {
		return Alert{}, errors.New("decode falco alert: want one JSON object")
	}
	// Keys are matched exactly, as Falco writes them: encoding/json would match a struct field
	// case-insensitively ("prioritY") and let a later spelling overwrite an earlier one.
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var raw map[string]json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return Alert{}, fmt.Errorf("decode falco alert: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Alert{}, errors.New("decode falco alert: trailing data after the JSON object")
	}
	var j jsonAlert
	for key, v := range raw {
		var err error
		switch key {
		case "hostname":
			err = json.Unmarshal(v, &j.Hostname)
		case "output":
			err = json.Unmarshal(v, &j.Output)
		case "priority":
			err = json.Unmarshal(v, &j.Priority)
		case "rule":
			err = json.Unmarshal(v, &j.Rule)
		case "source":
			err = json.Unmarshal(v, &j.Source)
		case "tags":
			err = json.Unmarshal(v, &j.Tags)
		case "time":
			err = json.Unmarshal(v, &j.Time)
		case "output_fields":
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber() // evt.time has more digits than a float64 holds
			err = d.Decode(&j.OutputFields)
		}
		if err != nil {
			return Alert{}, fmt.Errorf("decode falco alert: %s: %w", key, err)
		}
	}
	var missing []string
	if j.Rule == nil || *j.Rule == "" {
		missing = append(missing, "rule")
	}
	if j.Priority == nil {
		missing = append(missing, "priority")
	}
	if j.Time == nil {
		missing = append(missing, "time")
	}
	if len(missing) > 0 {
		return Alert{}, fmt.Errorf("decode falco alert: missing %s (is this Falco's JSON output? set json_output: true)", strings.Join(missing, ", "))
	}
	prio, err := rules.ParsePriority(*j.Priority)
	if err != nil {
		return Alert{}, fmt.Errorf("decode falco alert %q: %w", *j.Rule, err)
	}
	ts, err := time.Parse(time.RFC3339Nano, *j.Time)
	if err != nil {
		return Alert{}, fmt.Errorf("decode falco alert %q: time: %w", *j.Rule, err)
	}
	fields := make(map[string]string, len(j.OutputFields))
	for k, v := range j.OutputFields {
		s, err := fieldString(v)
		if err != nil {
			return Alert{}, fmt.Errorf("decode falco alert %q: field %q: %w", *j.Rule, k, err)
		}
		fields[k] = s
	}
	return Alert{
		Time:     ts,
		Rule:     *j.Rule,
		Priority: prio,
		Source:   j.Source,
		Output:   j.Output,
		Fields:   fields,
		Tags:     j.Tags,
		Hostname: j.Hostname,
	}, nil
}

// fieldString renders one output_fields value the way Falco's text and gRPC
// outputs print it.
func fieldString(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return NA, nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		return strconv.FormatBool(v), nil
	default:
		// Lists and objects have not been seen from Falco; keep them as
		// compact JSON rather than losing them.
		b, err := json.Marshal(v)
		return string(b), err
	}
}

// FromGRPC converts a response of Falco's gRPC outputs service. With
// json_output on, Falco puts the whole JSON alert into Output as a string
// (fixtures/falco/FACTS.md "Alerts", fixtures/falco/grpc-*.jsonl); its rendered line and typed
// fields (it has evt.time, the response's own output_fields do not) are
// taken from there. Otherwise the response's own fields are used.
// ReceivedAt is left for the source to set; Transport is "grpc".
func FromGRPC(res *outputs.Response) (Alert, error) {
	if res == nil {
		return Alert{}, errors.New("convert grpc response: nil response")
	}
	prio, err := rules.ParsePriority(res.GetPriority().String())
	if err != nil {
		return Alert{}, fmt.Errorf("convert grpc response %q: %w", res.GetRule(), err)
	}
	if res.GetTime() == nil {
		return Alert{}, fmt.Errorf("convert grpc response %q: no time", res.GetRule())
	}
	if err := res.GetTime().CheckValid(); err != nil {
		return Alert{}, fmt.Errorf("convert grpc response %q: time: %w", res.GetRule(), err)
	}
	a := Alert{
		Time:      res.GetTime().AsTime(),
		Rule:      res.GetRule(),
		Priority:  prio,
		Source:    res.GetSource(),
		Output:    res.GetOutput(),
		Fields:    make(map[string]string, len(res.GetOutputFields())),
		Tags:      res.GetTags(),
		Hostname:  res.GetHostname(),
		Transport: TransportGRPC,
	}
	for k, v := range res.GetOutputFields() {
		a.Fields[k] = v
	}
	return unwrapJSONOutput(a), nil
}

// unwrapJSONOutput replaces a's output and fields by those of the JSON alert
// its Output holds, when it holds one for the same rule (gRPC with
// json_output on). Anything else, e.g. a rule whose own text starts with a
// brace, is left as it is.
func unwrapJSONOutput(a Alert) Alert {
	if !strings.HasPrefix(a.Output, "{") {
		return a
	}
	inner, err := DecodeJSON([]byte(a.Output))
	if err != nil || inner.Rule != a.Rule {
		return a
	}
	a.Output = inner.Output
	a.Fields = inner.Fields
	a.Time = inner.Time
	if a.Hostname == "" {
		a.Hostname = inner.Hostname
	}
	if a.Source == "" {
		a.Source = inner.Source
	}
	if len(a.Tags) == 0 {
		a.Tags = inner.Tags
	}
	return a
}

// maxLine bounds one JSONL line; it matches the HTTP receiver's body limit.
const maxLine = MaxBodyBytes

// DecodeJSONL reads recorded alerts, one JSON object per line: Falco's JSON
// alerts (fixtures/falco/http-*.jsonl, stdout) or JSON renderings of gRPC responses
// (fixtures/falco/grpc-*.jsonl, whose output holds the JSON alert, unwrapped as
// FromGRPC does). Blank lines are skipped. name is used in errors, which
// read "name:line: what is wrong". Alerts get Transport "replay".
func DecodeJSONL(r io.Reader, name string) ([]Alert, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLine)
	var out []Alert
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		a, err := DecodeJSON(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w (each line must be one Falco JSON alert)", name, n, err)
		}
		a = unwrapJSONOutput(a)
		a.Transport = TransportReplay
		out = append(out, a)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return out, nil
}
