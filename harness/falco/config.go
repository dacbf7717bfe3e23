package falco

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/alert"
)

// Defaults of the rendered configuration.
const (
	DefaultEngine     = "modern_ebpf"
	DefaultHealthPort = 8765 // Falco's default webserver port
	// GRPCSocketDir is where the gRPC unix socket lives in the container; a
	// host temporary directory is mounted there.
	GRPCSocketDir = "/run/falco"
	// GRPCSocket is the socket's path in the container (Falco's default
	// bind address, FACTS.md "Transports").
	GRPCSocket = GRPCSocketDir + "/falco.sock"
	// GRPCPort is the TCP port of Falco's gRPC server in TCP mode (Falco's
	// documented default 0.0.0.0:5060).
	GRPCPort = 5060
)

// ConfigParams is everything the config drop-in depends on.
type ConfigParams struct {
	Version   Version   // the Falco that will read it
	Engine    string    // engine.kind; DefaultEngine when empty
	Transport Transport // TransportGRPC or TransportHTTP (resolved, not auto)
	// ContainerFields adds container.id and container.name to every
	// syscall alert. Falco ≥ 0.41 has them only with its container plugin
	// loaded: a Falco without it refuses to start on them (FACTS.md).
	ContainerFields bool
	// gRPC: GRPCSocket (container path) for a unix socket, else
	// GRPCAddress ("0.0.0.0:5060") with the mutual-TLS files (container
	// paths).
	GRPCSocket                                string
	GRPCAddress                               string
	GRPCServerCert, GRPCServerKey, GRPCCARoot string
	// HTTPURL is where http_output posts alerts.
	HTTPURL string
	// HealthPort is the webserver's port; 0 disables the webserver.
	HealthPort int
	// Rules, when not empty, becomes Falco's `rules:` selection, applied
	// in order (Falco ≥ 0.38).
	Rules []RuleSelection
	// Extra keys (WithConfig), applied last, in order; dotted keys
	// ("webserver.listen_port") address nested maps.
	Extra []ConfigValue
}

// ConfigValue is one extra configuration key.
type ConfigValue struct {
	Key   string
	Value any
}

// RuleSelection is one command of Falco's `rules:` config key
// (falco.org/docs/concepts/rules/controlling-rules): enable or disable the
// rules whose name matches Rule (a wildcard pattern) or that carry Tag.
type RuleSelection struct {
	Enable bool
	Rule   string
	Tag    string
}

// RenderConfig renders the config drop-in Falco loads from
// /etc/falco/config.d. It is a pure function of p.
func RenderConfig(p ConfigParams) ([]byte, error) {
	if p.Version.IsZero() {
		return nil, errors.New("render falco config: unknown falco version")
	}
	engine := p.Engine
	if engine == "" {
		engine = DefaultEngine
	}
	root := newMap()
	set(root, "engine.kind", engine)
	set(root, "json_output", true)
	set(root, "json_include_output_property", true)
	set(root, "json_include_tags_property", true)
	// debug is Falco's default and must stay: a higher minimum drops DEBUG
	// rules, the barrier among them, and the DEBUG drop alerts.
	set(root, "priority", "debug")
	// first (Falco's default) stops at the first matching rule: one rule
	// would hide another and a forbidden check would pass falsely.
	set(root, "rule_matching", "all")
	set(root, "buffered_outputs", false)
	// Alerts travel by the transport; stdout copies would fill the
	// container log with host noise, and syslog is absent in a container.
	set(root, "stdout_output.enabled", false)
	set(root, "syslog_output.enabled", false)
	set(root, "log_syslog", false)
	set(root, "log_stderr", true)
	// libs' logger carries libpman's and libbpf's own reasons when the driver does not
	// start (DiagnoseDriver tells memlock, verifier, CO-RE and BTF apart by them); older
	// images ship it off (falco.yaml: libs_logger.enabled: false).
	set(root, "libs_logger.enabled", true)
	set(root, "libs_logger.severity", "info")

	// The fields added to every syscall alert (append_output, Falco ≥ 0.39),
	// so an alert can be attributed and shown whatever the rule's own output
	// says; container.* only when this Falco has them.
	fields := newSeq()
	for _, f := range alert.AppendedFields() {
		switch {
		case f.Container && !p.ContainerFields:
		case f.Format != "":
			m := newMap()
			set(m, f.Name, f.Format)
			fields.Content = append(fields.Content, m)
		default:
			fields.Content = append(fields.Content, scalar(f.Name))
		}
	}
	entry := newMap()
	set(entry, "match.source", "syscall")
	setNode(entry, "extra_fields", fields)
	appendOutput := newSeq()
	appendOutput.Content = append(appendOutput.Content, entry)
	setNode(root, "append_output", appendOutput)

	// Any drop makes a run untrustworthy: report every second with drops
	// (threshold 0, a token per second) both as a log line and as an alert
	// the harness counts (userspace/falco/event_drops.cpp).
	set(root, "syscall_event_drops.threshold", 0)
	setNode(root, "syscall_event_drops.actions", flowSeq("log", "alert"))
	set(root, "syscall_event_drops.rate", 1)
	set(root, "syscall_event_drops.max_burst", 10)

	if p.HealthPort > 0 {
		set(root, "webserver.enabled", true)
		set(root, "webserver.listen_port", p.HealthPort)
		set(root, "webserver.k8s_healthz_endpoint", "/healthz")
	} else {
		set(root, "webserver.enabled", false)
	}

	switch p.Transport {
	case TransportGRPC:
		if !p.Version.HasGRPC() {
			return nil, fmt.Errorf("render falco config: falco %s has no gRPC output (removed in 0.44)", p.Version)
		}
		set(root, "grpc.enabled", true)
		switch {
		case p.GRPCSocket != "":
			set(root, "grpc.bind_address", "unix://"+p.GRPCSocket)
		case p.GRPCAddress != "":
			if p.GRPCServerCert == "" || p.GRPCServerKey == "" || p.GRPCCARoot == "" {
				return nil, fmt.Errorf("render falco config: gRPC on %q needs mutual TLS: set the server certificate, key and CA", p.GRPCAddress)
			}
			set(root, "grpc.bind_address", p.GRPCAddress)
			set(root, "grpc.private_key", p.GRPCServerKey)
			set(root, "grpc.cert_chain", p.GRPCServerCert)
			set(root, "grpc.root_certs", p.GRPCCARoot)
		default:
			return nil, errors.New("render falco config: gRPC needs a unix socket or a TCP address")
		}
		set(root, "grpc.threadiness", 2)
		set(root, "grpc_output.enabled", true)
	case TransportHTTP:
		if p.HTTPURL == "" {
			return nil, errors.New("render falco config: http_output needs the receiver's URL")
		}
		set(root, "http_output.enabled", true)
		set(root, "http_output.url", p.HTTPURL)
		set(root, "http_output.user_agent", "falcosecurity/falco")
		// echo: true would write the receiver's answers to Falco's stdout.
		// Nothing else is needed for the output not to block capture:
		// Falco's outputs run from a queue that is unbounded by default
		// (outputs_queue.capacity 0), so a slow receiver delays alerts but
		// never stops capture nor drops one, and the receiver answers each
		// POST as soon as the alert is handed over.
		set(root, "http_output.echo", false)
	default:
		return nil, fmt.Errorf("render falco config: transport %q: want grpc or http", p.Transport)
	}

	if len(p.Rules) > 0 {
		sel := newSeq()
		for _, r := range p.Rules {
			cmd := "disable"
			if r.Enable {
				cmd = "enable"
			}
			item := newMap()
			switch {
			case r.Rule != "" && r.Tag == "":
				set(item, cmd+".rule", r.Rule)
			case r.Tag != "" && r.Rule == "":
				set(item, cmd+".tag", r.Tag)
			default:
				return nil, fmt.Errorf("render falco config: rule selection %+v: set exactly one of rule and tag", r)
			}
			sel.Content = append(sel.Content, item)
		}
		setNode(root, "rules", sel)
	}

	for _, kv := range p.Extra {
		if kv.Key == "" || strings.HasPrefix(kv.Key, ".") || strings.HasSuffix(kv.Key, ".") || strings.Contains(kv.Key, "..") {
			return nil, fmt.Errorf("render falco config: extra key %q: want a dotted key such as webserver.listen_port", kv.Key)
		}
		v := &yaml.Node{}
		if err := v.Encode(kv.Value); err != nil {
			return nil, fmt.Errorf("render falco config: extra key %q: %w", kv.Key, err)
		}
		setNode(root, kv.Key, v)
	}

	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	doc.HeadComment = fmt.Sprintf("attack-replay config drop-in for Falco %s (transport %s), rendered by harness/falco.\n"+
		"Mounted as a single file: a directory over /etc/falco/config.d would hide the image's own\n"+
		"drop-ins (the container plugin's among them).", p.Version, p.Transport)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("render falco config: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render falco config: %w", err)
	}
	return buf.Bytes(), nil
}

func newMap() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }
func newSeq() *yaml.Node { return &yaml.Node{Kind: yaml.SequenceNode} }

func flowSeq(items ...string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, it := range items {
		n.Content = append(n.Content, scalar(it))
	}
	return n
}

func scalar(v any) *yaml.Node {
	n := &yaml.Node{}
	// Encoding a string, bool or int cannot fail.
	_ = n.Encode(v)
	return n
}

// set sets a dotted key of m to a scalar value.
func set(m *yaml.Node, key string, v any) { setNode(m, key, scalar(v)) }

// setNode sets a dotted key of m, creating the maps on its path and
// replacing what was there (a later value wins, as in Falco's -o).
func setNode(m *yaml.Node, key string, v *yaml.Node) {
	parts := strings.Split(key, ".")
	for i, part := range parts {
		last := i == len(parts)-1
		var found *yaml.Node
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == part {
				if last {
					m.Content[j+1] = v
					return
				}
				found = m.Content[j+1]
				if found.Kind != yaml.MappingNode {
					// A scalar where a map is wanted: the deeper key wins.
					found = newMap()
					m.Content[j+1] = found
				}
				break
			}
		}
		if found == nil {
			if last {
				m.Content = append(m.Content, scalar(part), v)
				return
			}
			found = newMap()
			m.Content = append(m.Content, scalar(part), found)
		}
		m = found
	}
}
