package victim

import (
	"bytes"
	"strings"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	for name, tc := range map[string]struct {
		writes      []string
		max         int
		want        string
		wantDropped int64
	}{
		"fits":                {[]string{"ab", "cd"}, 8, "abcd", 0},
		"exactly full":        {[]string{"abcd", "efgh"}, 8, "abcdefgh", 0},
		"keeps the tail":      {[]string{"abcd", "efgh", "ij"}, 8, "cdefghij", 2},
		"one write too large": {[]string{"ab", "0123456789"}, 8, "23456789", 4},
		"many small writes":   {strings.Split(strings.Repeat("x", 99)+"yz", ""), 4, "xxyz", 97},
	} {
		t.Run(name, func(t *testing.T) {
			b := &tailBuffer{max: tc.max}
			for _, w := range tc.writes {
				if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", w, n, err)
				}
			}
			if string(b.buf) != tc.want || b.dropped != tc.wantDropped {
				t.Fatalf("kept %q dropping %d, want %q dropping %d", b.buf, b.dropped, tc.want, tc.wantDropped)
			}
		})
	}
}

func TestTailBufferMemoryStaysBounded(t *testing.T) {
	b := &tailBuffer{max: 1 << 10}
	chunk := bytes.Repeat([]byte("z"), 100)
	for range 100_000 {
		_, _ = b.Write(chunk)
	}
	if cap(b.buf) > 4*b.max {
		t.Fatalf("backing array grew to %d bytes for a %d-byte tail", cap(b.buf), b.max)
	}
	if len(b.buf) != b.max || b.dropped != 100*100_000-int64(b.max) {
		t.Fatalf("kept %d bytes dropping %d", len(b.buf), b.dropped)
	}
}

func TestUnknownCapabilityMessage(t *testing.T) {
	// The wording of Docker 20.10's create error, as the engine here prints it.
	msg := `Error response from daemon: invalid CapAdd: unknown capability: "CAP_BPF"`
	m := unknownCapability.FindStringSubmatch(msg)
	if m == nil || m[1] != "BPF" {
		t.Fatalf("parsed %q from %q, want BPF", m, msg)
	}
}
