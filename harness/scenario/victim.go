package scenario

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/attack-replay/attack-replay/harness/linux"
)

// imageReference is a plausible image name: [registry[:port]/]path[:tag][@digest], the path
// in lower case (Docker's reference grammar, simplified).
var imageReference = regexp.MustCompile(`^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?` +
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
	`(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`)

// newerCapabilities are Linux capabilities that Docker 20.10 (the engine of the machines this
// harness is proven on) does not know by name: it refuses a container that asks for them.
// Each was split off CAP_SYS_ADMIN, which still grants what they do where they are unknown.
var newerCapabilities = []string{"PERFMON", "BPF", "CHECKPOINT_RESTORE"}

// victim reads a scenario's victim: mapping.
func (d *decoder) victim(key, n *yaml.Node) Victim {
	v := Victim{Line: key.Line, Column: key.Column}
	if isNull(n) {
		return v
	}
	pairs, ok := d.mapping(n, "victim", victimKeys)
	if !ok {
		return v
	}
	for _, p := range pairs {
		switch p.name() {
		case "image":
			const hint = "use tools (the tools image), default, or a local image name like attack-replay/victim:tools"
			if img, ok := d.str(p.val, "image", hint); ok {
				img = strings.TrimSpace(img)
				if img != ImageDefault && img != ImageTools && !imageReference.MatchString(img) {
					d.errorf(p.val, hint, "image %q is not an image name", img)
					continue
				}
				v.Image = img
			}
		case "capabilities":
			v.CapAdd, v.CapDrop = d.capabilities(p.val)
		case "privileged":
			v.Privileged, _ = d.boolean(p.val, "privileged")
		case "extra_hosts":
			v.ExtraHosts = d.extraHosts(p.val)
		case "read_only":
			v.ReadOnly, _ = d.boolean(p.val, "read_only")
		case "network":
			const hint = "use none or bridge, or drop the key for the engine's default network"
			if nw, ok := d.str(p.val, "network", hint); ok {
				if nw != NetworkNone && nw != NetworkBridge {
					d.errorf(p.val, hint, "network %q is not one a victim can have", nw)
					continue
				}
				v.Network = nw
			}
		}
	}
	return v
}

// capabilities reads {add: [...], drop: [...]}.
func (d *decoder) capabilities(n *yaml.Node) (add, drop []string) {
	pairs, ok := d.mapping(n, "capabilities", capKeys)
	if !ok {
		return nil, nil
	}
	var dropNode *yaml.Node
	for _, p := range pairs {
		caps := d.capabilityList(p.val, p.name())
		if p.name() == "add" {
			add = caps
		} else {
			drop, dropNode = caps, p.val
		}
	}
	for _, c := range drop {
		if slices.Contains(add, c) {
			d.errorf(dropNode, "keep it in one of add and drop", "capability %s is both added and dropped", c)
		}
	}
	return add, drop
}

func (d *decoder) capabilityList(n *yaml.Node, key string) []string {
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, fmt.Sprintf("write a list: %s: [NET_ADMIN]", key), "capabilities %s must be a list, not %s", key, describe(n))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		c = deref(c)
		name, ok := d.str(c, "capability", "name a capability like NET_ADMIN")
		if !ok {
			continue
		}
		capName, err := linux.ParseCapability(name)
		switch {
		case err != nil:
			d.errorf(c, "e.g. SYS_ADMIN, NET_ADMIN, NET_RAW, SYS_PTRACE, SYS_MODULE, LINUX_IMMUTABLE; see capabilities(7)", "capability %q is not a Linux capability", name)
		case slices.Contains(newerCapabilities, capName):
			d.errorf(c, "ask for SYS_ADMIN: it covers "+strings.Join(newerCapabilities, ", ")+" where they are not split off",
				"capability %s is unknown to Docker 20.10, which refuses a container that asks for it", capName)
		case slices.Contains(out, capName):
			d.errorf(c, "keep one", "capability %s appears twice", capName)
		default:
			out = append(out, capName)
		}
	}
	return out
}

func (d *decoder) extraHosts(n *yaml.Node) []string {
	const hint = `write a list of name:ip, like extra_hosts: ["metadata.test:198.51.100.9"]`
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, hint, "extra_hosts must be a list, not %s", describe(n))
		return nil
	}
	var out []string
	for _, c := range n.Content {
		c = deref(c)
		s, ok := d.str(c, "host entry", hint)
		if !ok {
			continue
		}
		h, err := linux.ParseHostEntry(s)
		if err != nil {
			d.errorf(c, "write "+linux.HostEntryForm, "%v", err)
			continue
		}
		out = append(out, h.String())
	}
	return out
}
