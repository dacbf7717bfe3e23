#!/usr/bin/env bash
# Builds a victim image that attack-replay starts one container of per scenario.
#
#   scripts/victim-image.sh [IMAGE]    # what `make victim-image` and `make victim-images` run
#
# IMAGE (default $VICTIM_IMAGE, else attack-replay/victim:bookworm) is one of the two images
# this script knows how to build:
#   attack-replay/victim:bookworm   fixtures/victim/packages.txt
#   attack-replay/victim:tools      packages.txt + packages-tools.txt (strace, gdb, sshd, ncat, ...)
# Any other name must already exist in the engine: a typo in VICTIM_IMAGE is an error here, not a
# new 150 MB image under the typo's name.
#
# Environment:
#   VICTIM_BUILD        auto (default) | dockerfile | offline
#   VICTIM_PULL_TIMEOUT seconds to wait for a pull of the base image (default 30)
#   DEBIAN_MIRROR       mirror for the offline build (default: debootstrap's own default)
#
# Does nothing when the image exists. Otherwise builds fixtures/victim/Dockerfile when the
# engine can get debian:bookworm-slim, and else builds offline: debootstrap a minbase rootfs
# with the same package lists, tar it and ADD it to an image FROM scratch.
set -euo pipefail

image=${1:-${VICTIM_IMAGE:-attack-replay/victim:bookworm}}
build=${VICTIM_BUILD:-auto}
pull_timeout=${VICTIM_PULL_TIMEOUT:-30}
mirror=${DEBIAN_MIRROR:-}
base=debian:bookworm-slim
suite=bookworm

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fixture=$root/fixtures/victim

say() { printf 'victim-image: %s\n' "$*"; }
die() {
	printf 'victim-image: %s\n' "$*" >&2
	exit 1
}

# packages prints the image's package lists without comments and blank lines, one name a line.
packages() {
	local list
	for list in $lists; do
		sed -e 's/#.*//' -e 's/[[:space:]]//g' "$fixture/$list"
	done | grep -v '^$'
}

command -v docker >/dev/null || die "docker is not installed: install the Docker CLI and engine"
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
	die "the Docker engine is unreachable: start it, or set DOCKER_HOST to its socket (e.g. unix:///var/run/docker.sock)"
case $image in
attack-replay/victim:bookworm) flavour=bookworm lists="packages.txt" ;;
attack-replay/victim:tools) flavour=tools lists="packages.txt packages-tools.txt" ;;
*)
	docker image inspect "$image" >/dev/null 2>&1 && {
		say "$image exists; nothing to do"
		exit 0
	}
	die "$image is not in the Docker engine, and this script builds only attack-replay/victim:bookworm and attack-replay/victim:tools: check VICTIM_IMAGE for a typo (docker images lists what exists), or build your own image and tag it $image"
	;;
esac
for list in $lists; do
	[[ -r $fixture/$list ]] || die "$fixture/$list is missing: restore it from git"
done

packages_sha=$(packages | sha256sum | cut -d' ' -f1)

if docker image inspect "$image" >/dev/null 2>&1; then
	built_sha=$(docker image inspect --format '{{index .Config.Labels "attack-replay.victim.packages-sha256"}}' "$image")
	say "$image exists; nothing to do"
	if [[ $built_sha != "$packages_sha" ]]; then
		say "note: $image was built from other package lists than $lists; run 'docker rmi $image' and build again to update it"
	fi
	exit 0
fi

# docker_build builds a context directory, with the legacy builder where buildx is missing
# (Debian's docker.io ships no buildx, and a recent CLI then refuses to build with BuildKit).
docker_build() {
	if docker buildx version >/dev/null 2>&1; then
		docker build "$@"
	else
		DOCKER_BUILDKIT=0 docker build "$@"
	fi
}

# can_pull_base tells whether the engine has or can get the Dockerfile's base image. A machine
# with no registry fails at once (name resolution); the timeout bounds a registry that hangs.
can_pull_base() {
	docker image inspect "$base" >/dev/null 2>&1 && return 0
	say "trying to pull $base (at most ${pull_timeout}s)"
	timeout "$pull_timeout" docker pull --quiet "$base" >/dev/null 2>&1
}

workdir=
cleanup() {
	[[ -n $workdir && -d $workdir ]] || return 0
	# An interrupted debootstrap can leave proc, sys or dev mounted inside the rootfs: unmount
	# them first so the removal never reaches into the host's filesystems.
	local target
	for target in $(findmnt -rn -o TARGET | grep -F "$workdir/" | sort -r || true); do
		umount -l "$target" || true
	done
	rm -rf --one-file-system "$workdir"
}
trap cleanup EXIT

build_dockerfile() {
	say "building $image from $fixture/Dockerfile"
	docker_build --build-arg "PACKAGES_SHA256=$packages_sha" --build-arg "PACKAGE_LISTS=$lists" \
		--build-arg "FLAVOUR=$flavour" -t "$image" "$fixture"
}

build_offline() {
	command -v debootstrap >/dev/null ||
		die "the offline build needs debootstrap: install the 'debootstrap' package (apt-get install debootstrap)"
	[[ $(id -u) == 0 ]] ||
		die "the offline build runs debootstrap, which needs root: run it as root (sudo make victim-image)"

	workdir=$(mktemp -d "${TMPDIR:-/tmp}/victim-image.XXXXXX")
	local rootfs=$workdir/rootfs context=$workdir/context
	mkdir -p "$context"
	local include
	include=$(packages | paste -sd, -)

	say "debootstrap $suite (minbase + $lists) into $rootfs; log: $workdir/debootstrap.log"
	local args=(--variant=minbase "--include=$include" "$suite" "$rootfs")
	[[ -n $mirror ]] && args+=("$mirror")
	if ! debootstrap "${args[@]}" >"$workdir/debootstrap.log" 2>&1; then
		tail -n 30 "$workdir/debootstrap.log" >&2
		# debootstrap writes the details of a failed package step here.
		[[ -f $rootfs/debootstrap/debootstrap.log ]] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
		die "debootstrap failed (output above); check that Debian's mirror is reachable or set DEBIAN_MIRROR"
	fi

	slim_rootfs "$rootfs"

	say "packing the rootfs"
	# security.capability keeps file capabilities that packages set with setcap.
	tar -C "$rootfs" --numeric-owner --xattrs --xattrs-include='security.capability' \
		-cf "$context/rootfs.tar" .
	rm -rf --one-file-system "$rootfs"

	cat >"$context/Dockerfile" <<EOF
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.title="attack-replay victim ($flavour)" \\
      org.opencontainers.image.description="Debian $suite with the tools attack-replay scenarios run ($lists); systemd is installed but never started" \\
      attack-replay.victim.build="offline" \\
      attack-replay.victim.flavour="$flavour" \\
      attack-replay.victim.packages-sha256="$packages_sha"
CMD ["sleep", "infinity"]
EOF
	say "building $image FROM scratch"
	docker_build -t "$image" "$context"
}

# slim_rootfs makes the debootstrap tree match debian:bookworm-slim: no package caches or lists,
# no documentation, and the slim image's dpkg excludes so later installs stay slim too.
slim_rootfs() {
	local r=$1
	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin "$r"/var/lib/apt/lists/*
	rm -rf "$r"/debootstrap
	find "$r"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
	find "$r"/usr/share/doc -mindepth 1 -type d -empty -delete
	rm -rf "$r"/usr/share/man/* "$r"/usr/share/info/* "$r"/usr/share/groff/* "$r"/usr/share/lintian/*
	find "$r"/usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
	cat >"$r"/etc/dpkg/dpkg.cfg.d/attack-replay-slim <<'EOF'
# Same excludes as debian:bookworm-slim, so packages installed in a victim stay small.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
	# The engine bind-mounts its own resolv.conf, hostname and hosts; the build host's copies
	# must not ship in the image. An empty machine-id keeps every victim identical.
	: >"$r"/etc/resolv.conf
	: >"$r"/etc/machine-id
	printf 'victim\n' >"$r"/etc/hostname
}

start=$SECONDS
case $build in
auto)
	if can_pull_base; then
		build_dockerfile
	else
		say "$base cannot be pulled here; building offline with debootstrap"
		build_offline
	fi
	;;
dockerfile) build_dockerfile ;;
offline) build_offline ;;
*) die "VICTIM_BUILD=$build is not known: use auto, dockerfile or offline" ;;
esac

size=$(docker image inspect --format '{{.Size}}' "$image")
say "built $image in $((SECONDS - start))s ($((size / 1000000)) MB)"
