package falcotest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Repository is the repository of every stand-in image; each build gets a
// tag of its own (version and a random suffix), so test binaries running
// at once never remove each other's images.
const Repository = "attack-replay/falco-standin"

// Paths inside the stand-in image.
const (
	// Binary is the stand-in, where the official images have falco.
	Binary = "/usr/bin/falco"
	// ImageRulesFile holds ImageRules, where the official images have
	// their default rules.
	ImageRulesFile = "/etc/falco/falco_rules.yaml"
	// standinPackage is built into Binary. The go command enforces
	// internal/ only on imports, not on the packages it is asked to build.
	standinPackage = "./harness/falco/internal/standin"
	// fixturesDir holds the recordings the stand-in replays (-V verdicts,
	// start-up logs), relative to the module root.
	fixturesDir = "fixtures/falco"
)

// labelProject is harness/falco's LabelApp and harness/victim's
// LabelProject, spelt out because importing harness/falco here would be an
// import cycle for its own tests.
const labelProject = "attack-replay"

//go:embed falco_rules.yaml
var imageRules []byte

// ImageRules returns the content of the stand-in image's ImageRulesFile:
// upstream-shaped macros, lists and two rules, "Read sensitive file
// untrusted" (as it fired in fixtures/falco/http-0.44.1.jsonl) and "Image
// rule".
func ImageRules() []byte { return bytes.Clone(imageRules) }

// ErrEngineUnreachable is returned (wrapped) when no Docker engine
// answers: tests skip on it.
var ErrEngineUnreachable = errors.New("docker engine unreachable")

// Option changes the image BuildStandin builds.
type Option func(*options)

type options struct {
	replay string
}

// WithReplay makes every run of the image (not --version or -V) replay the
// recorded start-up log name from fixtures/falco/logs and exit with its
// recorded code, its recorded rules paths replaced by the -r files of the
// same base name. start-fails-invalid-rules-0.43.1.stderr is a rules error
// at line 4, column 11 of a file named rm_rf.yaml;
// start-fails-memlock-0.40.0.stderr a driver that cannot raise its memlock limit;
// start-fails-verifier-0.43.1.reconstructed.stderr a probe the kernel's verifier rejects.
func WithReplay(name string) Option {
	return func(o *options) { o.replay = name }
}

// BuildStandin builds a stand-in image of Falco version (what `falco
// --version` and the gRPC version service say) and returns its tag. Remove
// it when done. It must run inside the module's tree (as `go test` does):
// it compiles the stand-in from the module's source.
func BuildStandin(ctx context.Context, version string, opts ...Option) (string, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if strings.TrimSpace(version) == "" || strings.ContainsAny(version, " \n\"") {
		return "", fmt.Errorf("build stand-in image: version %q: want one such as 0.43.1", version)
	}
	cli, err := engine(ctx)
	if err != nil {
		return "", fmt.Errorf("build stand-in image: %w", err)
	}
	defer cli.Close()
	root, err := moduleRoot(ctx)
	if err != nil {
		return "", fmt.Errorf("build stand-in image: %w", err)
	}
	if o.replay != "" {
		if _, err := os.Stat(filepath.Join(root, fixturesDir, "logs", o.replay)); err != nil {
			return "", fmt.Errorf("build stand-in image: replay %q: no such recording in %s/logs (%w)", o.replay, fixturesDir, err)
		}
	}
	bin, err := standinBinary(ctx, root)
	if err != nil {
		return "", fmt.Errorf("build stand-in image: %w", err)
	}
	buildContext, err := contextTar(root, bin, version, o)
	if err != nil {
		return "", fmt.Errorf("build stand-in image: %w", err)
	}
	tag := Repository + ":" + version + "-" + randomHex(4)
	res, err := cli.ImageBuild(ctx, bytes.NewReader(buildContext), client.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true,
		Labels: map[string]string{labelProject: "1"},
	})
	if err != nil {
		return "", fmt.Errorf("build stand-in image %s: %w", tag, err)
	}
	defer res.Body.Close()
	if err := buildError(res.Body); err != nil {
		return "", fmt.Errorf("build stand-in image %s: %w", tag, err)
	}
	return tag, nil
}

// Remove deletes a stand-in image built by BuildStandin.
func Remove(ctx context.Context, image string) error {
	cli, err := engine(ctx)
	if err != nil {
		return fmt.Errorf("remove stand-in image %q: %w", image, err)
	}
	defer cli.Close()
	if _, err := cli.ImageRemove(ctx, image, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
		return fmt.Errorf("remove stand-in image %q: %w", image, err)
	}
	return nil
}

// Exit makes the stand-in running in container exit with code, as Falco
// crashing mid-run. It returns once the request is sent, not once the
// container has exited: the exec is detached, because an exec racing its
// container's death may never report its own end.
func Exit(ctx context.Context, containerID string, code int) error {
	cli, err := engine(ctx)
	if err != nil {
		return fmt.Errorf("stop stand-in %s: %w", short(containerID), err)
	}
	defer cli.Close()
	ex, err := cli.ExecCreate(ctx, containerID, client.ExecCreateOptions{Cmd: []string{Binary, "standin-ctl", "exit", strconv.Itoa(code)}})
	if err != nil {
		return fmt.Errorf("stop stand-in %s: %w", short(containerID), err)
	}
	if _, err := cli.ExecStart(ctx, ex.ID, client.ExecStartOptions{Detach: true}); err != nil {
		return fmt.Errorf("stop stand-in %s: %w", short(containerID), err)
	}
	return nil
}

// engine connects to the Docker engine the way testcontainers resolves it,
// and checks that it answers: testcontainers hands out an unchecked client
// when its own probe fails.
func engine(ctx context.Context) (*testcontainers.DockerClient, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEngineUnreachable, err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		_ = cli.Close()
		return nil, fmt.Errorf("%w: %w", ErrEngineUnreachable, err)
	}
	return cli, nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// moduleRoot is the directory of the go.mod governing the working
// directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module root: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("find the module root: the working directory is outside a Go module; run from the attack-replay tree")
	}
	return filepath.Dir(gomod), nil
}

// built caches the compiled stand-in: every image of a process gets the
// same binary, and a failed build is retried by the next call.
var built struct {
	mu  sync.Mutex
	bin []byte
}

// standinBinary compiles the stand-in for Linux, statically (the image is
// scratch).
func standinBinary(ctx context.Context, root string) ([]byte, error) {
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.bin != nil {
		return built.bin, nil
	}
	dir, err := os.MkdirTemp("", "falco-standin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "falco")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-o", out, standinPackage)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build %s: %w\n%s", standinPackage, err, msg)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	built.bin = bin
	return bin, nil
}

// file is one entry of the build context.
type file struct {
	name string
	data []byte
	mode int64
}

// contextTar is the build context: the stand-in as /usr/bin/falco, a
// falco.yaml that reads config.d, the container plugin's drop-in (as the
// official images from 0.41 have), a small falco_rules.yaml (see ImageRules),
// and the recordings it replays. No /bin/true: the readiness marker falls back to
// `falco --version`.
func contextTar(root string, bin []byte, version string, o options) ([]byte, error) {
	dockerfile := "FROM scratch\nENV STANDIN_FALCO_VERSION=" + version + "\n"
	if o.replay != "" {
		dockerfile += "ENV STANDIN_REPLAY=" + o.replay + "\n"
	}
	dockerfile += "COPY rootfs/ /\n"
	files := []file{
		{"Dockerfile", []byte(dockerfile), 0o644},
		{"rootfs" + Binary, bin, 0o755},
		{"rootfs/etc/falco/falco.yaml", []byte("# stand-in falco.yaml: the keys the harness reads\n" +
			"config_files:\n  - /etc/falco/config.d\nload_plugins: []\nrules_files:\n  - /etc/falco/falco_rules.yaml\n  - /etc/falco/rules.d\n"), 0o644},
		{"rootfs/etc/falco/config.d/falco.container_plugin.yaml", []byte("load_plugins: [container]\n"), 0o644},
		{"rootfs" + ImageRulesFile, imageRules, 0o644},
	}
	for _, sub := range []string{"logs", "validate"} {
		dir := filepath.Join(root, fixturesDir, sub)
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("read the recordings: %w", err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("read the recordings: %w", err)
			}
			files = append(files, file{"rootfs/standin/" + sub + "/" + e.Name(), data, 0o644})
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// buildError reads the engine's build stream (JSON messages) to its end
// and returns the error it reported, if any.
func buildError(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var msg struct {
			Error string `json:"error"`
		}
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read the build output: %w", err)
		}
		if msg.Error != "" {
			return errors.New(msg.Error)
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b)
}

func short(id string) string { return id[:min(12, len(id))] }
