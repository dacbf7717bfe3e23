package falco

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/attack-replay/attack-replay/harness/falco/falcotest"
)

// TestReadImageRules reads the stand-in image's rules file: the bytes the
// image holds, and no container left behind (it is created, never started,
// and removed).
func TestReadImageRules(t *testing.T) {
	img := standinImage(t, "0.44.1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	got, err := ReadImageRules(ctx, img)
	t.Logf("read %d bytes in %s", len(got), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, falcotest.ImageRules()) {
		t.Errorf("ReadImageRules returned\n%s\nwant the stand-in's %s", got, ImageRulesFile)
	}
	cli := dockerClient(t)
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("ancestor", img)})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list.Items {
		if strings.HasPrefix(c.Labels[LabelRun], "image-rules-") {
			t.Errorf("container %s (%s) left behind", c.ID[:12], c.Labels[LabelRun])
		}
	}
}

func TestReadImageRulesErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli := dockerClient(t)
	const absent = "attack-replay/no-such-falco:0.0.0"
	_, err := ReadImageRules(ctx, absent)
	if !errors.Is(err, ErrImageUnavailable) || !strings.Contains(err.Error(), EnvImage) || !strings.Contains(err.Error(), `"`+absent+`"`) {
		t.Errorf("absent image: %v; want ErrImageUnavailable naming the image and %s", err, EnvImage)
	}

	// An image without the file: the victim image.
	const notFalco = "attack-replay/victim:bookworm"
	if _, err := cli.ImageInspect(ctx, notFalco); err != nil {
		t.Skipf("image %s not built (make victim-image): %v", notFalco, err)
	}
	_, err = ReadImageRules(ctx, notFalco)
	if err == nil || !strings.Contains(err.Error(), "the image has no "+ImageRulesFile) || !strings.Contains(err.Error(), EnvImage) {
		t.Errorf("image without rules: %v; want it to say the file is missing and name %s", err, EnvImage)
	}
}

// TestCopyFileOutFollowsLinks: the engine archives a symbolic link itself,
// so copyFileOut follows it, relative or absolute, and a loop fails.
func TestCopyFileOutFollowsLinks(t *testing.T) {
	img := standinImage(t, "0.44.1")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cli := dockerClient(t)
	links := map[string]string{
		"/etc/falco/relative.yaml": "falco_rules.yaml",
		"/etc/falco/absolute.yaml": "/etc/falco/relative.yaml",
		"/etc/falco/loop-a.yaml":   "loop-b.yaml",
		"/etc/falco/loop-b.yaml":   "loop-a.yaml",
	}
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	for name, target := range links {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target, Mode: 0o777}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	cfg := &container.Config{Image: img, Entrypoint: []string{falcoBinary}, Labels: falcoLabels("test-links-" + newID())}
	err := withContainer(ctx, cli, cfg, func(id string) error {
		if _, err := cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: &archive}); err != nil {
			return err
		}
		for _, p := range []string{"/etc/falco/relative.yaml", "/etc/falco/absolute.yaml"} {
			got, err := copyFileOut(ctx, cli, id, p)
			if err != nil || !bytes.Equal(got, falcotest.ImageRules()) {
				t.Errorf("copyFileOut(%s) = %d bytes, %v; want the rules file", p, len(got), err)
			}
		}
		// Docker 20.10 refuses the loop itself ("too many links"); the
		// bound is for engines that archive the link.
		if _, err := copyFileOut(ctx, cli, id, "/etc/falco/loop-a.yaml"); err == nil || !strings.Contains(err.Error(), "links") {
			t.Errorf("copyFileOut of a link loop = %v", err)
		}
		if _, err := copyFileOut(ctx, cli, id, "/etc/falco"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("copyFileOut of a directory = %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func dockerClient(t *testing.T) *testcontainers.DockerClient {
	t.Helper()
	cli, err := testcontainers.NewDockerClientWithOpts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}
