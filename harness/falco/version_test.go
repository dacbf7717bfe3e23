package falco

import (
	"testing"
)

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]Version{
		"0.40.0":                {0, 40, 0, ""},
		"0.43.1 (x86_64)":       {0, 43, 1, ""},
		"0.41.0-rc1":            {0, 41, 0, "-rc1"},
		"0.42.0-12+abcdef0":     {0, 42, 0, "-12+abcdef0"},
		"1.2.3":                 {1, 2, 3, ""},
		"Falco version: 0.44.1": {0, 44, 1, ""},
	} {
		got, err := ParseVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0.40", "latest", "v"} {
		if v, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) = %v, want an error", bad, v)
		}
	}
	if s := (Version{0, 41, 0, "-rc1"}).String(); s != "0.41.0-rc1" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseVersionOutput(t *testing.T) {
	// `falco --version` prints these lines (print_version.cpp).
	versionOut := "Falco version: 0.40.0\nLibs version:  0.20.0\nPlugin API:    3.10.0\nEngine:        0.46.0\nDriver:\n" +
		"  API version:    8.0.0\n  Schema version: 3.0.0\n  Default driver: 8.0.0+driver\n"
	for name, tc := range map[string]struct {
		out  string
		want Version
	}{
		"--version":           {versionOut, Version{0, 40, 0, ""}},
		"start-up log 0.40.0": {readFixture(t, "logs/start-and-stop-0.40.0.stderr"), Version{0, 40, 0, ""}},
		"start-up log 0.43.1": {readFixture(t, "logs/err43c-0.43.1.stderr"), Version{0, 43, 1, ""}},
		"validate log":        {readFixture(t, "validate/bad_cond.err"), Version{0, 40, 0, ""}},
	} {
		got, err := ParseVersionOutput(tc.out)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v, %v; want %v", name, got, err, tc.want)
		}
	}
	if _, err := ParseVersionOutput(readFixture(t, "validate/d3.err")); err == nil {
		t.Error("a log without a version line parsed")
	}
}

func TestFeatures(t *testing.T) {
	for _, tc := range []struct {
		v                       Version
		grpc, builtin, enterEvt bool
	}{
		{Version{0, 39, 2, ""}, true, true, true},
		{Version{0, 40, 0, ""}, true, true, true},
		{Version{0, 41, 0, ""}, true, false, true},
		{Version{0, 42, 1, ""}, true, false, true},
		{Version{0, 43, 1, ""}, true, false, false},
		{Version{0, 44, 1, ""}, false, false, false},
		{Version{1, 0, 0, ""}, false, false, false},
	} {
		if tc.v.HasGRPC() != tc.grpc || tc.v.BuiltinContainerFields() != tc.builtin || tc.v.HasEnterEvents() != tc.enterEvt {
			t.Errorf("%v: grpc %v, builtin container fields %v, enter events %v; want %v, %v, %v",
				tc.v, tc.v.HasGRPC(), tc.v.BuiltinContainerFields(), tc.v.HasEnterEvents(), tc.grpc, tc.builtin, tc.enterEvt)
		}
	}
}

func TestChooseTransport(t *testing.T) {
	v40, v43, v44 := Version{0, 40, 0, ""}, Version{0, 43, 1, ""}, Version{0, 44, 1, ""}
	for _, tc := range []struct {
		req  Transport
		v    Version
		want Transport
		err  bool
	}{
		{TransportAuto, v40, TransportGRPC, false},
		{TransportAuto, v43, TransportGRPC, false},
		{TransportAuto, v44, TransportHTTP, false},
		{"", v44, TransportHTTP, false},
		{TransportGRPC, v43, TransportGRPC, false},
		{TransportGRPC, v44, "", true},
		{TransportHTTP, v40, TransportHTTP, false},
		{"carrier-pigeon", v40, "", true},
	} {
		got, err := ChooseTransport(tc.req, tc.v)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ChooseTransport(%q, %v) = %q, %v; want %q, error %v", tc.req, tc.v, got, err, tc.want, tc.err)
		}
	}
	for in, want := range map[string]Transport{"": TransportAuto, "AUTO": TransportAuto, " grpc ": TransportGRPC, "http": TransportHTTP} {
		if got, err := ParseTransport(in); err != nil || got != want {
			t.Errorf("ParseTransport(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseTransport("udp"); err == nil {
		t.Error("ParseTransport accepted udp")
	}
}
