package falco

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
)

// The stand-in images: internal/standin installed as /usr/bin/falco in a
// scratch image with a falco.yaml that reads config.d, the container
// plugin's drop-in (as the official images from 0.41 have), a small
// falco_rules.yaml, and the recorded samples it replays. No /bin/true: the
// readiness marker falls back to `falco --version`.
const standinRepo = "attack-replay/falco-standin"

var standin struct {
	once   sync.Once
	err    error
	images map[string]string // version → tag
}

// standinImage builds the stand-in images once per test binary, or skips
// the test when Docker is unreachable.
func standinImage(t testing.TB, version string) string {
	t.Helper()
	standin.once.Do(func() { standin.images, standin.err = buildStandins("0.43.1", "0.44.1") })
	if standin.err != nil {
		if strings.Contains(standin.err.Error(), "docker") {
			t.Skipf("stand-in image not built: %v", standin.err)
		}
		t.Fatalf("build stand-in image: %v", standin.err)
	}
	img, ok := standin.images[version]
	if !ok {
		t.Fatalf("no stand-in image for %s", version)
	}
	return img
}

func TestMain(m *testing.M) {
	code := m.Run()
	if standin.images != nil {
		if cli, err := testcontainers.NewDockerClientWithOpts(context.Background()); err == nil {
			for _, img := range standin.images {
				_, _ = cli.ImageRemove(context.Background(), img, client.ImageRemoveOptions{Force: true, PruneChildren: true})
			}
			_ = cli.Close()
		}
	}
	os.Exit(code)
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

func buildStandins(versions ...string) (map[string]string, error) {
	ctx := context.Background()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("docker engine not reachable: %w", err)
	}
	defer cli.Close()

	dir, err := os.MkdirTemp("", "falco-standin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "falco")
	build := exec.Command(goTool(), "build", "-o", bin, "./internal/standin")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build the stand-in: %v\n%s", err, out)
	}

	files := map[string]string{ // path in the build context → source ("" = inline below)
		"rootfs/usr/bin/falco": bin,
	}
	inline := map[string]string{
		"Dockerfile": "FROM scratch\nARG VERSION\nENV STANDIN_FALCO_VERSION=${VERSION}\nCOPY rootfs/ /\n",
		"rootfs/etc/falco/falco.yaml": "# stand-in falco.yaml: the keys the harness reads\n" +
			"config_files:\n  - /etc/falco/config.d\nload_plugins: []\nrules_files:\n  - /etc/falco/falco_rules.yaml\n  - /etc/falco/rules.d\n",
		"rootfs/etc/falco/config.d/falco.container_plugin.yaml": "load_plugins: [container]\n",
		"rootfs/etc/falco/falco_rules.yaml": "- macro: spawned_process\n  condition: (evt.type in (execve, execveat))\n" +
			"- rule: Image rule\n  desc: an image rule the selection must disable\n  condition: spawned_process\n  output: x\n  priority: NOTICE\n",
	}
	for _, sub := range []string{"logs", "validate"} {
		entries, err := os.ReadDir(filepath.Join(fixtures, sub))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			files["rootfs/standin/"+sub+"/"+e.Name()] = filepath.Join(fixtures, sub, e.Name())
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte, mode int64) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for name, src := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		if err := add(name, data, 0o755); err != nil {
			return nil, err
		}
	}
	for name, text := range inline {
		if err := add(name, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}

	images := map[string]string{}
	for _, v := range versions {
		tag := standinRepo + ":" + v
		res, err := cli.ImageBuild(ctx, bytes.NewReader(buf.Bytes()), client.ImageBuildOptions{
			Tags: []string{tag}, BuildArgs: map[string]*string{"VERSION": &v}, Remove: true, ForceRemove: true,
			Labels: map[string]string{LabelApp: "1"},
		})
		if err != nil {
			return nil, fmt.Errorf("docker build %s: %w", tag, err)
		}
		out, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("docker build %s: %w", tag, err)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		for {
			var msg struct {
				Error string `json:"error"`
			}
			if err := dec.Decode(&msg); err != nil {
				break
			}
			if msg.Error != "" {
				return nil, fmt.Errorf("docker build %s: %s", tag, msg.Error)
			}
		}
		images[v] = tag
	}
	return images, nil
}

// execIn runs cmd in ctr and fails the test unless it exits 0.
func execIn(t *testing.T, ctr Execer, env []string, cmd ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var opts []tcexec.ProcessOption
	if len(env) > 0 {
		opts = append(opts, tcexec.WithEnv(env))
	}
	code, out, err := ctr.Exec(ctx, cmd, opts...)
	if err != nil || code != 0 {
		var b []byte
		if out != nil {
			b, _ = io.ReadAll(out)
		}
		t.Fatalf("exec %q: code %d, %v: %s", cmd, code, err, b)
	}
}
