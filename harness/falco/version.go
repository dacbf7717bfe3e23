package falco

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a Falco release version ("0.43.1"). Pre holds what follows the
// patch number in development builds ("-rc1", "-12+abcdef"); it does not
// take part in comparisons, which only decide which features exist.
type Version struct {
	Major, Minor, Patch int
	Pre                 string
}

func (v Version) String() string {
	return fmt.Sprintf("%d.%d.%d%s", v.Major, v.Minor, v.Patch, v.Pre)
}

// IsZero reports whether v is unknown.
func (v Version) IsZero() bool { return v == Version{} }

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	if v.Major != major {
		return v.Major > major
	}
	return v.Minor >= minor
}

// Feature boundaries, from fixtures/falco/FACTS.md and Falco's changelogs.
//
//   - gRPC output and server: present up to 0.43 (deprecated there),
//     removed in 0.44.
//   - container.* fields: built into libs up to 0.40; from 0.41 they come
//     from the bundled container plugin, which the image must load.
//   - evt.dir: 0.43 dropped enter events, so `evt.dir = <` is always true
//     and using it raises LOAD_DEPRECATED_ITEM (samples/logs/err43c).

// MinVersion is the oldest Falco the harness drives: append_output, which
// attributes every alert, came in 0.39 (the rules selection in 0.38).
var MinVersion = Version{Minor: 39}

// HasGRPC reports whether Falco v still has its gRPC output.
func (v Version) HasGRPC() bool { return !v.AtLeast(0, 44) }

// BuiltinContainerFields reports whether v has container.* fields without
// the container plugin.
func (v Version) BuiltinContainerFields() bool { return !v.AtLeast(0, 41) }

// HasEnterEvents reports whether v still delivers syscall enter events, so
// a condition must say `evt.dir = <` to match an exec once.
func (v Version) HasEnterEvents() bool { return !v.AtLeast(0, 43) }

var versionRE = regexp.MustCompile(`(\d+)\.(\d+)\.(\d+)([-+][0-9A-Za-z.+-]*)?`)

// ParseVersion reads a version such as "0.40.0", "0.41.0-rc1" or
// "0.43.1 (x86_64)".
func ParseVersion(s string) (Version, error) {
	m := versionRE.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("parse falco version %q: want major.minor.patch", s)
	}
	var v Version
	for i, dst := range []*int{&v.Major, &v.Minor, &v.Patch} {
		n, err := strconv.Atoi(m[i+1])
		if err != nil {
			return Version{}, fmt.Errorf("parse falco version %q: %w", s, err)
		}
		*dst = n
	}
	v.Pre = m[4]
	return v, nil
}

// versionLinePrefix starts both the first line of `falco --version`
// (userspace/falco/app/actions/print_version.cpp: "Falco version: %s") and
// Falco's first start-up log line ("Falco version: 0.40.0 (x86_64)",
// samples/logs/start-and-stop-0.40.0.stderr, after the log timestamp).
const versionLinePrefix = "Falco version:"

// ParseVersionOutput finds Falco's version in the output of
// `falco --version` or in Falco's start-up log.
func ParseVersionOutput(out string) (Version, error) {
	for _, line := range strings.Split(out, "\n") {
		line = stripLogTimestamp(strings.TrimSpace(line))
		if rest, ok := strings.CutPrefix(line, versionLinePrefix); ok {
			return ParseVersion(strings.TrimSpace(rest))
		}
	}
	return Version{}, fmt.Errorf("parse falco version: no %q line in %q", versionLinePrefix, firstLines(out, 3))
}

// Transport is how alerts travel from Falco to the harness.
type Transport string

// Transports.
const (
	// TransportAuto picks gRPC where the Falco version has it, HTTP otherwise.
	TransportAuto Transport = "auto"
	// TransportGRPC uses Falco's gRPC output (Falco ≤ 0.43).
	TransportGRPC Transport = "grpc"
	// TransportHTTP uses Falco's http_output (every version).
	TransportHTTP Transport = "http"
)

// ParseTransport reads "auto", "grpc" or "http" (FALCO_TRANSPORT).
func ParseTransport(s string) (Transport, error) {
	switch t := Transport(strings.ToLower(strings.TrimSpace(s))); t {
	case TransportAuto, TransportGRPC, TransportHTTP:
		return t, nil
	case "":
		return TransportAuto, nil
	}
	return "", fmt.Errorf("parse transport %q: use auto, grpc or http", s)
}

// ChooseTransport resolves the requested transport for Falco v: under auto,
// gRPC up to 0.43 and HTTP from 0.44. Asking for gRPC from a Falco that has
// none is an error.
func ChooseTransport(requested Transport, v Version) (Transport, error) {
	switch requested {
	case TransportAuto, "":
		if v.HasGRPC() {
			return TransportGRPC, nil
		}
		return TransportHTTP, nil
	case TransportGRPC:
		if !v.HasGRPC() {
			return "", fmt.Errorf("choose transport: falco %s has no gRPC output (removed in 0.44); use transport http or auto", v)
		}
		return TransportGRPC, nil
	case TransportHTTP:
		return TransportHTTP, nil
	}
	return "", fmt.Errorf("choose transport %q: use auto, grpc or http", requested)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
