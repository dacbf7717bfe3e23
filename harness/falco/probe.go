package falco

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"gopkg.in/yaml.v3"
)

// Paths in the official Falco images.
const (
	ImageRulesFile = "/etc/falco/falco_rules.yaml"
	falcoConfigDir = "/etc/falco"
	// ConfigDropInDir is the drop-in directory the images' falco.yaml lists
	// in config_files.
	ConfigDropInDir = "/etc/falco/config.d"
	// RulesDir is where the harness puts the rules files it loads.
	RulesDir        = "/etc/falco/rules.d"
	trueBinary      = "/bin/true"
	containerPlugin = "container"
)

// imageFacts is what the harness learns from a Falco image before starting
// it for real.
type imageFacts struct {
	Version Version
	// ContainerPlugin: the image's configuration loads the container
	// plugin (official images from 0.41), so container.* fields exist.
	ContainerPlugin bool
	// DropIns: the image's falco.yaml reads /etc/falco/config.d.
	DropIns bool
	// ImageRules: the image ships /etc/falco/falco_rules.yaml.
	ImageRules bool
	// HasTrue: the image has /bin/true (for the readiness marker).
	HasTrue bool
}

// probeImage runs `falco --version` in a throw-away container of image and
// reads the image's configuration from it.
func probeImage(ctx context.Context, cli *testcontainers.DockerClient, image string, labels map[string]string) (imageFacts, error) {
	var facts imageFacts
	shot := oneShot{
		image:  image,
		args:   []string{"--version"},
		labels: labels,
		after: func(ctx context.Context, id string) error {
			if _, err := cli.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: trueBinary}); err == nil {
				facts.HasTrue = true
			}
			cp, err := cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: falcoConfigDir})
			if err != nil {
				return fmt.Errorf("read %s from image %q: %w", falcoConfigDir, image, err)
			}
			defer cp.Content.Close()
			return readImageConfig(cp.Content, &facts)
		},
	}
	res, err := shot.run(ctx, cli)
	if err != nil {
		return facts, fmt.Errorf("probe image %q: %w", image, err)
	}
	if res.exitCode != 0 {
		return facts, fmt.Errorf("probe image %q: `%s --version` exited with code %d: %s", image, falcoBinary, res.exitCode,
			firstLines(res.stderr+res.stdout, 5))
	}
	if facts.Version, err = ParseVersionOutput(res.stdout); err != nil {
		return facts, fmt.Errorf("probe image %q: %w", image, err)
	}
	return facts, nil
}

// imageConfig is the part of falco.yaml and its drop-ins the harness reads.
type imageConfig struct {
	LoadPlugins []string  `yaml:"load_plugins"`
	ConfigFiles yaml.Node `yaml:"config_files"`
}

// readImageConfig reads the tar of /etc/falco (entries "falco/…").
func readImageConfig(r io.Reader, facts *imageFacts) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read image configuration: %w", err)
		}
		name := "/etc/" + strings.TrimPrefix(path.Clean(h.Name), "/")
		if name == ImageRulesFile {
			facts.ImageRules = true
			continue
		}
		isConfig := name == falcoConfigDir+"/falco.yaml" ||
			(path.Dir(name) == ConfigDropInDir && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")))
		if !isConfig || h.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, 1<<20))
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		var cfg imageConfig
		if err := yaml.Unmarshal(data, &cfg); err != nil {
			// A file Falco itself would refuse shows up when it starts.
			continue
		}
		if slices.Contains(cfg.LoadPlugins, containerPlugin) {
			facts.ContainerPlugin = true
		}
		if configFilesInclude(&cfg.ConfigFiles, ConfigDropInDir) {
			facts.DropIns = true
		}
	}
}

// configFilesInclude reports whether a config_files value (a path, or a
// list of paths or {path, strategy} maps) names dir.
func configFilesInclude(n *yaml.Node, dir string) bool {
	same := func(p string) bool { return path.Clean(p) == dir }
	switch n.Kind {
	case yaml.ScalarNode:
		return same(n.Value)
	case yaml.SequenceNode:
		for _, item := range n.Content {
			switch item.Kind {
			case yaml.ScalarNode:
				if same(item.Value) {
					return true
				}
			case yaml.MappingNode:
				for i := 0; i+1 < len(item.Content); i += 2 {
					if item.Content[i].Value == "path" && same(item.Content[i+1].Value) {
						return true
					}
				}
			}
		}
	}
	return false
}
