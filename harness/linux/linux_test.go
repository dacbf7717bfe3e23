package linux

import (
	"strings"
	"testing"
)

func TestParseCapability(t *testing.T) {
	for in, want := range map[string]string{"cap_sys_admin": "SYS_ADMIN", " NET_RAW ": "NET_RAW", "CAP_BPF": "BPF"} {
		if got, err := ParseCapability(in); err != nil || got != want {
			t.Errorf("ParseCapability(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"SYS_EVERYTHING", "", "CAP_"} {
		if _, err := ParseCapability(in); err == nil || !strings.Contains(err.Error(), "is not a Linux capability") {
			t.Errorf("ParseCapability(%q) error %v", in, err)
		}
	}
	if c := Capabilities(); len(c) != 41 || c[21] != "SYS_ADMIN" || c[40] != "CHECKPOINT_RESTORE" {
		t.Errorf("capability numbers are off: %d names, [21] %s", len(c), c[21])
	}
	if got := SortCapabilities([]string{"BPF", "CHOWN", "NET_RAW"}); strings.Join(got, ",") != "CHOWN,NET_RAW,BPF" {
		t.Errorf("sorted %v", got)
	}
}

func TestParseHostEntry(t *testing.T) {
	for in, want := range map[string]string{
		"metadata.test:198.51.100.9":                     "metadata.test:198.51.100.9",
		"kubernetes.default.svc.cluster.local:127.0.0.1": "kubernetes.default.svc.cluster.local:127.0.0.1",
		"v6:::1":        "v6:::1",
		" a-b:10.0.0.1": "a-b:10.0.0.1",
	} {
		h, err := ParseHostEntry(in)
		if err != nil || h.String() != want {
			t.Errorf("ParseHostEntry(%q) = %v, %v; want %s", in, h, err, want)
		}
	}
	for in, want := range map[string]string{
		"metadata.test":     "has no ip",
		"meta data:1.2.3.4": `"meta data" is not a host name`,
		":1.2.3.4":          `"" is not a host name`,
		"-x:1.2.3.4":        `"-x" is not a host name`,
		"x:999.1.1.1":       `"999.1.1.1" is not an IP address`,
		"x:host-gateway":    `"host-gateway" is not an IP address`,
		"x:fe80::1%eth0":    `is not an IP address`,
	} {
		if _, err := ParseHostEntry(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseHostEntry(%q) error %v, want %q", in, err, want)
		}
	}
}
