package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/falcosecurity/client-go/pkg/api/outputs"
	"github.com/falcosecurity/client-go/pkg/api/schema"
	"github.com/falcosecurity/client-go/pkg/api/version"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gopkg.in/yaml.v3"
)

const (
	controlSocket = "/falco-standin.sock"
	recordings    = "/standin"
	barrierRule   = "attack-replay barrier"
	dropRule      = "Falco internal: syscall event drop"
)

func main() {
	args := os.Args[1:]
	switch {
	case len(args) > 0 && args[0] == "standin-ctl":
		os.Exit(ctl(strings.Join(args[1:], " ")))
	case contains(args, "--version"):
		os.Exit(printVersion())
	case contains(args, "-V"):
		os.Exit(validate(args))
	default:
		os.Exit(run(args))
	}
}

func contains(args []string, s string) bool {
	for _, a := range args {
		if a == s {
			return true
		}
	}
	return false
}

func falcoVersion() string {
	if v := os.Getenv("STANDIN_FALCO_VERSION"); v != "" {
		return v
	}
	return "0.43.1"
}

// printVersion prints `falco --version` the way Falco does
// (userspace/falco/app/actions/print_version.cpp). A marker exec carries
// AR_BARRIER: that is the exec a real Falco would have seen.
func printVersion() int {
	fmt.Printf("Falco version: %s\n", falcoVersion())
	fmt.Printf("Libs version:  0.0.0-standin\n")
	fmt.Printf("Plugin API:    3.0.0\n")
	fmt.Printf("Engine:        0.0.0\n")
	fmt.Printf("Driver:\n")
	fmt.Printf("  API version:    8.0.0\n")
	fmt.Printf("  Schema version: 3.0.0\n")
	fmt.Printf("  Default driver: 0.0.0+driver\n")
	if tok := os.Getenv("AR_BARRIER"); tok != "" {
		// Not running is fine: then no Falco was watching.
		_ = send("barrier " + tok)
	}
	return 0
}

func ctl(cmd string) int {
	if err := send(cmd); err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		return 1
	}
	return 0
}

func send(cmd string) error {
	conn, err := net.DialTimeout("unix", controlSocket, 2*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := fmt.Fprintln(conn, cmd); err != nil {
		return err
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		return fmt.Errorf("%s", reply)
	}
	return nil
}

func logf(format string, v ...any) {
	fmt.Fprintf(os.Stderr, "%s: %s\n", time.Now().Format("Mon Jan _2 15:04:05 2006"), fmt.Sprintf(format, v...))
}

// baseName strips the module's "NN-" numbering from a file's base name.
var numbered = regexp.MustCompile(`^\d+-`)

func baseName(p string) string { return numbered.ReplaceAllString(path.Base(p), "") }

// validate replays a recorded `falco -V … -o json_output=true` verdict for
// the same files (fixtures/falco/validate).
func validate(args []string) int {
	var files []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-V" {
			files = append(files, args[i+1])
		}
	}
	logf("Falco version: %s (x86_64)", falcoVersion())
	logf("Validating rules file(s):")
	for _, f := range files {
		logf("   %s", f)
		if _, err := os.Stat(f); err != nil {
			fmt.Fprintf(os.Stderr, "Error: Could not open file %s for reading\n", f)
			return 1
		}
	}
	var key []string
	for _, f := range files {
		key = append(key, strings.TrimSuffix(baseName(f), ".yaml"))
	}
	recording := map[string]string{"good+bad_cond+warn": "json.out", "warn": "jw.out", "yaml_err": "jy.out"}[strings.Join(key, "+")]
	if recording == "" {
		fmt.Fprintf(os.Stderr, "standin: no recorded verdict for %s\n", strings.Join(key, "+"))
		return 2
	}
	out, err := os.ReadFile(filepath.Join(recordings, "validate", recording))
	if err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		return 2
	}
	s := string(out)
	for _, f := range files {
		s = strings.ReplaceAll(s, `"/v/`+baseName(f)+`"`, strconv.Quote(f))
	}
	fmt.Print(s)
	if strings.Contains(s, `"successful":false`) {
		return 1
	}
	return 0
}

type config struct {
	GRPC struct {
		Enabled     bool   `yaml:"enabled"`
		BindAddress string `yaml:"bind_address"`
		PrivateKey  string `yaml:"private_key"`
		CertChain   string `yaml:"cert_chain"`
		RootCerts   string `yaml:"root_certs"`
	} `yaml:"grpc"`
	GRPCOutput struct {
		Enabled bool `yaml:"enabled"`
	} `yaml:"grpc_output"`
	HTTPOutput struct {
		Enabled bool   `yaml:"enabled"`
		URL     string `yaml:"url"`
	} `yaml:"http_output"`
	LoadPlugins []string `yaml:"load_plugins"`
}

// loadConfig reads falco.yaml then the drop-ins in name order, the later
// keys winning (lists of plugins accumulate).
func loadConfig() (config, []string, error) {
	files := []string{"/etc/falco/falco.yaml"}
	drop, _ := filepath.Glob("/etc/falco/config.d/*.yaml")
	sort.Strings(drop)
	files = append(drop, files...)
	var cfg config
	var plugins []string
	for _, f := range append([]string{"/etc/falco/falco.yaml"}, drop...) {
		data, err := os.ReadFile(f)
		if err != nil {
			return cfg, nil, err
		}
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			return cfg, nil, fmt.Errorf("error reading config file (%s): %v", f, err)
		}
		plugins = append(plugins, cfg.LoadPlugins...)
		cfg.LoadPlugins = nil
	}
	cfg.LoadPlugins = plugins
	return cfg, files, nil
}

// replay prints a recorded start-up log, its rules paths replaced by the
// ones this run was given, and returns the recorded exit code.
func replay(name string, rules []string) int {
	data, err := os.ReadFile(filepath.Join(recordings, "logs", name))
	if err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		return 2
	}
	code := 1
	recorded := regexp.MustCompile(`(?:/[\w.-]+)+/[\w.-]+\.yaml`)
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if rc, ok := strings.CutPrefix(line, "rc="); ok {
			code, _ = strconv.Atoi(rc)
			continue
		}
		line = recorded.ReplaceAllStringFunc(line, func(p string) string {
			for _, r := range rules {
				if baseName(r) == path.Base(p) {
					return r
				}
			}
			return p
		})
		fmt.Fprintln(os.Stderr, line)
	}
	return code
}

func run(args []string) int {
	var rules []string
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-r" {
			rules = append(rules, args[i+1])
		}
	}
	if name := os.Getenv("STANDIN_REPLAY"); name != "" {
		return replay(name, rules)
	}
	logf("Falco version: %s (x86_64)", falcoVersion())
	cfg, files, err := loadConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return 1
	}
	logf("Falco initialized with configuration files:")
	for _, f := range files {
		logf("   %s | schema validation: ok", f)
	}
	for _, p := range cfg.LoadPlugins {
		logf("Loaded plugin '%s@0.0.0-standin'", p)
	}
	logf("Loading rules from:")
	barrier := false
	for _, r := range rules {
		data, err := os.ReadFile(r)
		if err != nil {
			fmt.Fprintf(os.Stderr, "Error: Could not open file %s for reading\n", r)
			return 1
		}
		logf("   %s | schema validation: ok", r)
		barrier = barrier || bytes.Contains(data, []byte("rule: "+barrierRule))
	}
	e := &emitter{queue: make(chan map[string]any, 1024), barrier: barrier}
	if cfg.HTTPOutput.Enabled {
		e.httpURL = cfg.HTTPOutput.URL
	}
	if cfg.GRPC.Enabled {
		srv, err := serveGRPC(cfg, e)
		if err != nil {
			fmt.Fprintf(os.Stderr, "Error: %v\n", err)
			return 1
		}
		defer srv.Stop()
	}
	logf("Enabled event sources: syscall")
	logf("Opening 'syscall' source with modern BPF probe.")
	go e.loop()
	ln, err := net.Listen("unix", controlSocket)
	if err != nil {
		fmt.Fprintf(os.Stderr, "standin: %v\n", err)
		return 1
	}
	exit := make(chan int, 1)
	go control(ln, e, exit)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case code := <-exit:
		return code
	case <-sig:
	}
	logf("SIGINT received, exiting...")
	fmt.Printf("Events detected: %d\n", e.count())
	fmt.Fprintf(os.Stderr, "Syscall event drop monitoring:\n   - event drop detected: %d occurrences\n   - num times actions taken: %d\n", e.drops(), e.drops())
	return 0
}

func control(ln net.Listener, e *emitter, exit chan<- int) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		line, _ := bufio.NewReader(conn).ReadString('\n')
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		reply := "ok"
		switch cmd {
		case "barrier":
			e.emitBarrier(arg)
		case "drop":
			n, _ := strconv.Atoi(arg)
			e.emitDrop(n)
		case "exit":
			code, _ := strconv.Atoi(arg)
			fmt.Fprintf(conn, "ok\n")
			conn.Close()
			logf("standin: exiting with code %d as asked", code)
			exit <- code
			return
		default:
			reply = "error unknown command " + strconv.Quote(cmd)
		}
		fmt.Fprintln(conn, reply)
		conn.Close()
	}
}

// emitter sends alerts, in order, to the configured outputs.
type emitter struct {
	queue   chan map[string]any
	barrier bool
	httpURL string

	mu        sync.Mutex
	grpcQueue []*outputs.Response
	emitted   int
	dropCount int
}

func (e *emitter) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.emitted
}

func (e *emitter) drops() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dropCount
}

func (e *emitter) emitBarrier(token string) {
	if !e.barrier {
		return
	}
	now := time.Now().UTC()
	e.queue <- map[string]any{
		"hostname": "standin",
		"output":   fmt.Sprintf("%s: Debug %s token=%s (cmdline=falco --version)", now.Format("15:04:05.000000000"), barrierRule, token),
		"output_fields": map[string]any{
			"ar_barrier": token, "ar_token": nil, "evt.time": now.UnixNano(),
			"proc.cmdline": "falco --version", "proc.env[AR_BARRIER]": token, "proc.name": "falco",
		},
		"priority": "Debug", "rule": barrierRule, "source": "syscall", "tags": []string{"attack-replay"},
		"time": now.Format(time.RFC3339Nano),
	}
}

// emitDrop emits Falco's internal drop alert
// (userspace/falco/event_drops.cpp: its fields are strings).
func (e *emitter) emitDrop(n int) {
	e.mu.Lock()
	e.dropCount++
	e.mu.Unlock()
	now := time.Now().UTC()
	e.queue <- map[string]any{
		"hostname": "standin",
		"output":   fmt.Sprintf("%s: Debug %s. %d system calls dropped in last second.", now.Format("15:04:05.000000000"), dropRule, n),
		"output_fields": map[string]any{
			"ebpf_enabled": "1", "n_drops": strconv.Itoa(n), "n_drops_buffer_total": strconv.Itoa(n), "n_evts": strconv.Itoa(10 * n),
		},
		"priority": "Debug", "rule": dropRule, "source": "internal",
		"time": now.Format(time.RFC3339Nano),
	}
}

func (e *emitter) loop() {
	client := &http.Client{Timeout: 10 * time.Second}
	for a := range e.queue {
		body, _ := json.Marshal(a)
		e.mu.Lock()
		e.emitted++
		e.mu.Unlock()
		if e.httpURL != "" {
			req, _ := http.NewRequest(http.MethodPost, e.httpURL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "falcosecurity/falco")
			resp, err := client.Do(req)
			if err != nil {
				logf("libcurl failed to perform call: %v", err)
			} else {
				resp.Body.Close()
			}
		}
		e.enqueueGRPC(a, string(body))
	}
}

// enqueueGRPC queues the alert the way Falco's gRPC output does with
// json_output: output holds the whole JSON alert, fields are strings.
func (e *emitter) enqueueGRPC(a map[string]any, jsonText string) {
	res := &outputs.Response{Output: jsonText, OutputFields: map[string]string{}, Hostname: "standin"}
	res.Rule, _ = a["rule"].(string)
	res.Source, _ = a["source"].(string)
	if p, ok := a["priority"].(string); ok {
		res.Priority = schema.Priority(schema.Priority_value[strings.ToUpper(p)])
	}
	if t, ok := a["time"].(string); ok {
		if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
			res.Time = timestamppb.New(ts)
		}
	}
	if tags, ok := a["tags"].([]any); ok {
		for _, t := range tags {
			res.Tags = append(res.Tags, fmt.Sprint(t))
		}
	} else if tags, ok := a["tags"].([]string); ok {
		res.Tags = tags
	}
	if fields, ok := a["output_fields"].(map[string]any); ok {
		for k, v := range fields {
			if k == "evt.time" {
				continue
			}
			if v == nil {
				res.OutputFields[k] = "<NA>"
			} else {
				res.OutputFields[k] = fmt.Sprint(v)
			}
		}
	}
	e.mu.Lock()
	e.grpcQueue = append(e.grpcQueue, res)
	e.mu.Unlock()
}

func (e *emitter) popAll() []*outputs.Response {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.grpcQueue
	e.grpcQueue = nil
	return q
}

type outputsServer struct {
	outputs.UnimplementedServiceServer
	e *emitter
}

// Sub sends what the queue holds each time the client sends a request, as
// Falco does (fixtures/falco/FACTS.md).
func (s outputsServer) Sub(stream outputs.Service_SubServer) error {
	for {
		if _, err := stream.Recv(); err != nil {
			return err
		}
		for _, res := range s.e.popAll() {
			if err := stream.Send(res); err != nil {
				return err
			}
		}
	}
}

func (s outputsServer) Get(_ *outputs.Request, stream outputs.Service_GetServer) error {
	for _, res := range s.e.popAll() {
		if err := stream.Send(res); err != nil {
			return err
		}
	}
	return nil
}

type versionServer struct {
	version.UnimplementedServiceServer
}

func (versionServer) Version(context.Context, *version.Request) (*version.Response, error) {
	v := falcoVersion()
	res := &version.Response{Version: v}
	if m := regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(v); m != nil {
		for i, dst := range []*uint32{&res.Major, &res.Minor, &res.Patch} {
			n, _ := strconv.Atoi(m[i+1])
			*dst = uint32(n)
		}
	}
	return res, nil
}

func serveGRPC(cfg config, e *emitter) (*grpc.Server, error) {
	var opts []grpc.ServerOption
	var ln net.Listener
	var err error
	if sock, ok := strings.CutPrefix(cfg.GRPC.BindAddress, "unix://"); ok {
		_ = os.Remove(sock)
		ln, err = net.Listen("unix", sock)
	} else {
		cert, cerr := tls.LoadX509KeyPair(cfg.GRPC.CertChain, cfg.GRPC.PrivateKey)
		if cerr != nil {
			return nil, cerr
		}
		ca, cerr := os.ReadFile(cfg.GRPC.RootCerts)
		if cerr != nil {
			return nil, cerr
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{
			Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert,
		})))
		ln, err = net.Listen("tcp", cfg.GRPC.BindAddress)
	}
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(opts...)
	if cfg.GRPCOutput.Enabled {
		outputs.RegisterServiceServer(srv, outputsServer{e: e})
	}
	version.RegisterServiceServer(srv, versionServer{})
	logf("standin: serving gRPC at %s", cfg.GRPC.BindAddress)
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}
