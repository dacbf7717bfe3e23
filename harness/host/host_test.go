package host

import "testing"

func TestParseRelease(t *testing.T) {
	for in, want := range map[string]Kernel{
		"6.18.44-fc-v1147":    {6, 18, 44},
		"5.4.0-150-generic":   {5, 4, 0},
		"6.8":                 {6, 8, 0},
		" 4.19.112+ ":         {4, 19, 112},
		"5.15.0-1057-azure\n": {5, 15, 0},
	} {
		got, err := ParseRelease(in)
		if err != nil || got != want {
			t.Errorf("ParseRelease(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "linux", "6", "v6.1"} {
		if _, err := ParseRelease(bad); err == nil {
			t.Errorf("ParseRelease(%q) succeeded", bad)
		}
	}
}

func TestKernelAtLeast(t *testing.T) {
	k := Kernel{5, 8, 0}
	for _, c := range []struct {
		major, minor int
		want         bool
	}{{5, 8, true}, {5, 7, true}, {4, 19, true}, {5, 9, false}, {6, 0, false}} {
		if got := k.AtLeast(c.major, c.minor); got != c.want {
			t.Errorf("%v.AtLeast(%d, %d) = %v", k, c.major, c.minor, got)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0 B", 1023: "1023 B", 1024: "1 KiB", 8 << 20: "8 MiB", 64 << 10: "64 KiB",
		85_100_000_000: "79.3 GiB", Unlimited: "unlimited",
	} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
