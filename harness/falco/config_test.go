package falco

import (
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/alert"
)

var (
	v400 = Version{0, 40, 0, ""}
	v431 = Version{0, 43, 1, ""}
	v441 = Version{0, 44, 1, ""}
)

// One golden file per transport and version, with and without container
// fields.
func TestRenderConfigGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		p      ConfigParams
	}{
		{"config-grpc-0.40.0.yaml", ConfigParams{Version: v400, Transport: TransportGRPC, ContainerFields: true, GRPCSocket: GRPCSocket, HealthPort: DefaultHealthPort}},
		{"config-grpc-0.43.1.yaml", ConfigParams{Version: v431, Transport: TransportGRPC, ContainerFields: true, GRPCSocket: GRPCSocket, HealthPort: DefaultHealthPort}},
		{"config-grpc-0.43.1-no-container-fields.yaml", ConfigParams{Version: v431, Transport: TransportGRPC, GRPCSocket: GRPCSocket, HealthPort: DefaultHealthPort}},
		{"config-grpc-tcp-0.43.1.yaml", ConfigParams{
			Version: v431, Transport: TransportGRPC, ContainerFields: true, HealthPort: DefaultHealthPort,
			GRPCAddress: "0.0.0.0:5060", GRPCServerCert: "/c/server.crt", GRPCServerKey: "/c/server.key", GRPCCARoot: "/c/ca.crt",
		}},
		{"config-http-0.44.1.yaml", ConfigParams{Version: v441, Transport: TransportHTTP, ContainerFields: true, HTTPURL: "http://127.0.0.1:40123/", HealthPort: 40124}},
		{"config-http-0.44.1-no-container-fields.yaml", ConfigParams{Version: v441, Transport: TransportHTTP, HTTPURL: "http://127.0.0.1:40123/"}},
		{"config-grpc-0.43.1-selection.yaml", ConfigParams{
			Version: v431, Transport: TransportGRPC, ContainerFields: true, GRPCSocket: GRPCSocket, HealthPort: DefaultHealthPort,
			Engine: "kmod",
			Rules: []RuleSelection{
				{Rule: "*"}, {Enable: true, Rule: alert.BarrierRule}, {Enable: true, Rule: "Disable recovery features"}, {Enable: true, Tag: "T1490"},
			},
			Extra: []ConfigValue{{"webserver.threadiness", 1}, {"log_level", "debug"}, {"rule_matching", "first"}},
		}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			got, err := RenderConfig(tc.p)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, got)
			checkRenderedConfig(t, tc.p, got)
		})
	}
}

// checkRenderedConfig reads the rendered YAML back and checks what the
// harness relies on, independently of the golden text.
func checkRenderedConfig(t *testing.T, p ConfigParams, out []byte) {
	t.Helper()
	var cfg struct {
		JSONOutput   bool   `yaml:"json_output"`
		Priority     string `yaml:"priority"`
		RuleMatching string `yaml:"rule_matching"`
		Engine       struct {
			Kind string `yaml:"kind"`
		} `yaml:"engine"`
		AppendOutput []struct {
			Match       map[string]string `yaml:"match"`
			ExtraFields []any             `yaml:"extra_fields"`
		} `yaml:"append_output"`
		Drops struct {
			Actions   []string `yaml:"actions"`
			Threshold float64  `yaml:"threshold"`
		} `yaml:"syscall_event_drops"`
		GRPC       map[string]any `yaml:"grpc"`
		GRPCOutput map[string]any `yaml:"grpc_output"`
		HTTPOutput map[string]any `yaml:"http_output"`
		Webserver  map[string]any `yaml:"webserver"`
		Rules      []map[string]map[string]string
		LibsLogger struct {
			Enabled  bool   `yaml:"enabled"`
			Severity string `yaml:"severity"`
		} `yaml:"libs_logger"`
	}
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("rendered config is not YAML: %v", err)
	}
	// libpman's and libbpf's lines (warnings and errors) tell the driver's failures apart.
	if !cfg.LibsLogger.Enabled || (cfg.LibsLogger.Severity != "info" && cfg.LibsLogger.Severity != "warning") {
		t.Errorf("libs_logger = %+v, want it on at warning or below", cfg.LibsLogger)
	}
	if !cfg.JSONOutput || cfg.Priority != "debug" {
		t.Errorf("json_output %v, priority %q", cfg.JSONOutput, cfg.Priority)
	}
	wantEngine := p.Engine
	if wantEngine == "" {
		wantEngine = DefaultEngine
	}
	if cfg.Engine.Kind != wantEngine {
		t.Errorf("engine.kind = %q, want %q", cfg.Engine.Kind, wantEngine)
	}
	if len(cfg.AppendOutput) != 1 || cfg.AppendOutput[0].Match["source"] != "syscall" {
		t.Fatalf("append_output = %+v", cfg.AppendOutput)
	}
	var plain []string
	named := map[string]any{}
	for _, f := range cfg.AppendOutput[0].ExtraFields {
		switch f := f.(type) {
		case string:
			plain = append(plain, f)
		case map[string]any:
			for k, v := range f {
				named[k] = v
			}
		}
	}
	if slices.Contains(plain, alert.FieldContainerID) != p.ContainerFields || slices.Contains(plain, alert.FieldContainerName) != p.ContainerFields {
		t.Errorf("container fields %v in %q", p.ContainerFields, plain)
	}
	for _, f := range []string{alert.FieldCmdline, alert.FieldPID, alert.FieldPPID, alert.FieldUser, alert.FieldEventTime, "proc.exepath", "fd.name"} {
		if !slices.Contains(plain, f) {
			t.Errorf("extra_fields lacks %s", f)
		}
	}
	if named[alert.FieldToken] != "%proc.env["+alert.EnvToken+"]" || named[alert.FieldBarrier] != "%proc.env["+alert.EnvBarrier+"]" {
		t.Errorf("named extra fields = %v", named)
	}
	if !slices.Equal(cfg.Drops.Actions, []string{"log", "alert"}) || cfg.Drops.Threshold != 0 {
		t.Errorf("syscall_event_drops = %+v", cfg.Drops)
	}
	switch p.Transport {
	case TransportGRPC:
		if cfg.GRPC["enabled"] != true || cfg.GRPCOutput["enabled"] != true || cfg.HTTPOutput != nil {
			t.Errorf("grpc %v, grpc_output %v, http_output %v", cfg.GRPC, cfg.GRPCOutput, cfg.HTTPOutput)
		}
		if p.GRPCSocket != "" && cfg.GRPC["bind_address"] != "unix://"+p.GRPCSocket {
			t.Errorf("grpc.bind_address = %v", cfg.GRPC["bind_address"])
		}
	case TransportHTTP:
		// 0.44 has no gRPC: no gRPC key at all.
		if cfg.GRPC != nil || cfg.GRPCOutput != nil || cfg.HTTPOutput["enabled"] != true || cfg.HTTPOutput["url"] != p.HTTPURL || cfg.HTTPOutput["echo"] != false {
			t.Errorf("grpc %v, grpc_output %v, http_output %v", cfg.GRPC, cfg.GRPCOutput, cfg.HTTPOutput)
		}
	}
	if p.HealthPort > 0 && (cfg.Webserver["enabled"] != true || cfg.Webserver["listen_port"] != p.HealthPort || cfg.Webserver["k8s_healthz_endpoint"] != "/healthz") {
		t.Errorf("webserver = %v", cfg.Webserver)
	}
	if p.HealthPort == 0 && cfg.Webserver["enabled"] != false {
		t.Errorf("webserver = %v, want disabled", cfg.Webserver)
	}
	if len(cfg.Rules) != len(p.Rules) {
		t.Errorf("rules selection = %v, want %d commands", cfg.Rules, len(p.Rules))
	}
	for i, r := range p.Rules {
		if i >= len(cfg.Rules) {
			break
		}
		cmd := map[bool]string{true: "enable", false: "disable"}[r.Enable]
		got := cfg.Rules[i][cmd]
		if got["rule"] != r.Rule || got["tag"] != r.Tag {
			t.Errorf("rules[%d] = %v, want %s %+v", i, cfg.Rules[i], cmd, r)
		}
	}
	if len(p.Extra) == 0 && cfg.RuleMatching != "all" {
		t.Errorf("rule_matching = %q, want all", cfg.RuleMatching)
	}
	for _, kv := range p.Extra {
		if kv.Key == "rule_matching" && cfg.RuleMatching != kv.Value {
			t.Errorf("extra rule_matching not applied: %q", cfg.RuleMatching)
		}
		if kv.Key == "webserver.threadiness" && cfg.Webserver["threadiness"] != kv.Value {
			t.Errorf("extra webserver.threadiness not applied: %v", cfg.Webserver)
		}
	}
}

func TestRenderConfigErrors(t *testing.T) {
	for name, p := range map[string]ConfigParams{
		"no version":           {Transport: TransportGRPC, GRPCSocket: GRPCSocket},
		"grpc on 0.44":         {Version: v441, Transport: TransportGRPC, GRPCSocket: GRPCSocket},
		"grpc nowhere":         {Version: v431, Transport: TransportGRPC},
		"grpc tcp without tls": {Version: v431, Transport: TransportGRPC, GRPCAddress: "0.0.0.0:5060"},
		"http without url":     {Version: v441, Transport: TransportHTTP},
		"auto not resolved":    {Version: v441, Transport: TransportAuto},
		"rule and tag":         {Version: v441, Transport: TransportHTTP, HTTPURL: "http://x/", Rules: []RuleSelection{{Enable: true, Rule: "a", Tag: "b"}}},
		"empty selection":      {Version: v441, Transport: TransportHTTP, HTTPURL: "http://x/", Rules: []RuleSelection{{Enable: true}}},
		"bad extra key":        {Version: v441, Transport: TransportHTTP, HTTPURL: "http://x/", Extra: []ConfigValue{{"webserver..port", 1}}},
	} {
		if out, err := RenderConfig(p); err == nil {
			t.Errorf("%s: rendered without error:\n%s", name, out)
		} else if !strings.HasPrefix(err.Error(), "render falco config") {
			t.Errorf("%s: error %q", name, err)
		}
	}
}

func TestSetNode(t *testing.T) {
	root := newMap()
	set(root, "a.b", 1)
	set(root, "a.c", "x")
	set(root, "a.b", 2) // replaces
	set(root, "d", true)
	set(root, "d.e", 3) // a scalar where a map is wanted: the deeper key wins
	out, err := yaml.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := "a:\n    b: 2\n    c: x\nd:\n    e: 3\n"; string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
