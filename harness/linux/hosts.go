package linux

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// HostEntry is one /etc/hosts line a container gets: Docker's --add-host "name:ip".
type HostEntry struct {
	Name string
	IP   netip.Addr
}

// String is the entry as Docker takes it, "name:ip".
func (h HostEntry) String() string { return h.Name + ":" + h.IP.String() }

// hostName is an RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// HostEntryForm says how a host entry is written, for hints.
const HostEntryForm = "name:ip, like metadata.test:198.51.100.9"

// ParseHostEntry reads "name:ip" (the IP may be IPv6: "name:::1"), as Docker splits it: at the
// first colon. Its errors say what is wrong; add HostEntryForm as the hint.
func ParseHostEntry(s string) (HostEntry, error) {
	name, ip, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return HostEntry{}, fmt.Errorf("host entry %q has no ip", s)
	}
	if len(name) > 253 || !hostName.MatchString(name) {
		return HostEntry{}, fmt.Errorf("host entry %q: %q is not a host name", s, name)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Zone() != "" {
		return HostEntry{}, fmt.Errorf("host entry %q: %q is not an IP address", s, ip)
	}
	return HostEntry{Name: name, IP: addr}, nil
}
