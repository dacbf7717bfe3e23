package atomics

import (
	"net/netip"
	"regexp"
	"strings"
)

// installers fetch from the network whatever their arguments: package
// managers, language package managers and git clone.
var installers = regexp.MustCompile(`\b(?:(?:apt-get|apt|yum|dnf|zypper|apk|pacman)(?:\s+-\S+)*\s+(?:install|update|upgrade|add|-S\S*)|(?:pip3?|python3?\s+-m\s+pip)(?:\s+-\S+)*\s+(?:install|download)|git\s+clone|npm\s+(?:install|i)|gem\s+install|go\s+(?:get|install)|cpanm?\s+\S+)\b`)

// urlHost finds the host of every URL a command names.
var urlHost = regexp.MustCompile(`\b(?:https?|ftps?|sftp|git|ssh)://(?:[^@/\s'"]+@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)`)

// hostTools reach the host they are given; hostArgTools only when an
// argument says user@host or host:path.
var (
	hostTools    = map[string]bool{"curl": true, "wget": true, "nc": true, "ncat": true, "netcat": true, "nc.traditional": true, "telnet": true, "ssh": true, "ping": true, "ping6": true, "nmap": true, "dig": true, "nslookup": true, "host": true, "ftp": true, "socat": true, "traceroute": true, "whois": true}
	hostArgTools = map[string]bool{"scp": true, "sftp": true, "rsync": true}
)

// hostName is a name with at least one dot whose last label is letters: a
// host, not a file (a file name after one of hostTools is rare, and
// redirections end the scan).
var hostName = regexp.MustCompile(`^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$`)

// reachesNetwork says whether a shell script reaches a host other than the
// victim itself, and names the first place that does ("yum -y install",
// "curl to example.com"). It reads the script the way a reviewer would,
// word by word; it does not run a shell parser, so it errs on the side of
// marking.
func reachesNetwork(script string) (string, bool) {
	if m := installers.FindString(script); m != "" {
		return strings.Join(strings.Fields(m), " "), true
	}
	for _, m := range urlHost.FindAllStringSubmatch(script, -1) {
		if host := strings.Trim(m[1], "[]"); !isLocal(host) {
			return "a URL on " + host, true
		}
	}
	for _, cmd := range simpleCommands(script) {
		words := strings.Fields(cmd)
		for i, w := range words {
			tool := w[strings.LastIndexByte(w, '/')+1:]
			if !hostTools[tool] && !hostArgTools[tool] {
				continue
			}
			for _, arg := range words[i+1:] {
				if strings.ContainsAny(arg[:1], "<>") {
					break
				}
				if host, ok := remoteHost(arg, hostArgTools[tool]); ok {
					return tool + " to " + host, true
				}
			}
		}
	}
	return "", false
}

// simpleCommands splits a script at newlines and the shell's command
// separators, so that a tool's arguments end where its command does.
func simpleCommands(script string) []string {
	return strings.FieldsFunc(script, func(r rune) bool { return strings.ContainsRune("\n;|&()`", r) })
}

// remoteHost reads one argument as a host: an IP address (with a /prefix or
// :port), a host name, or either after user@ or before :path. A host only
// after user@ or before :path counts when qualified is set.
func remoteHost(arg string, qualified bool) (string, bool) {
	arg = strings.Trim(arg, `'"`)
	if arg == "" || arg[0] == '-' {
		return "", false
	}
	at := strings.LastIndexByte(arg, '@')
	hostPart := arg[at+1:]
	colon := strings.IndexByte(hostPart, ':')
	if colon >= 0 && strings.Count(hostPart, ":") == 1 {
		hostPart = hostPart[:colon]
	}
	if qualified && at < 0 && colon < 0 {
		return "", false
	}
	if slash := strings.IndexByte(hostPart, '/'); slash >= 0 {
		// 10.0.0.0/24, or example.com/x.sh as wget takes it; /bin/sh is a path.
		if p, err := netip.ParsePrefix(hostPart); err == nil {
			hostPart = p.Addr().String()
		} else {
			hostPart = hostPart[:slash]
		}
	}
	_, ipErr := netip.ParseAddr(hostPart)
	switch {
	case ipErr != nil && !hostName.MatchString(hostPart) && !(at >= 0 && hostPart != ""):
		return "", false
	case isLocal(hostPart):
		return "", false
	}
	return hostPart, true
}

// isLocal reports whether host is the victim itself: localhost, a loopback
// or unspecified address.
func isLocal(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && (ip.IsLoopback() || ip.IsUnspecified())
}
