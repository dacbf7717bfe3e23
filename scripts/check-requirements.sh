#!/usr/bin/env bash
# Checks, before `make test` starts, what its tests need from this machine, and names each
# missing thing with the command that installs it. It installs nothing (.ci/run does, on CI).
#
# Needed: a reachable Docker engine; chromium (report.html is checked in a real headless
# browser); and, only when the victim image is absent and no registry gives the Dockerfile's
# base image, what the offline victim build needs: debootstrap, run as root.
#
# Environment: VICTIM_IMAGE, VICTIM_TOOLS_IMAGE, VICTIM_BUILD, VICTIM_PULL_TIMEOUT (as the
# Makefile and scripts/victim-image.sh).
set -uo pipefail

images=("${VICTIM_IMAGE:-attack-replay/victim:bookworm}" "${VICTIM_TOOLS_IMAGE:-attack-replay/victim:tools}")
build=${VICTIM_BUILD:-auto}
pull_timeout=${VICTIM_PULL_TIMEOUT:-30}
base=debian:bookworm-slim

missing=()

engine=false
if ! command -v docker >/dev/null; then
	missing+=("the Docker CLI and engine (every test starts real containers): apt-get install docker.io")
elif ! docker info >/dev/null 2>&1; then
	missing+=("a running Docker engine (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock} does not answer): start it (systemctl start docker) or point DOCKER_HOST at it")
else
	engine=true
fi

if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && ! command -v google-chrome >/dev/null; then
	missing+=("chromium (report.html is checked in a real headless browser): apt-get install chromium")
fi

# absent_images lists the victim images `make victim-images` will have to build.
absent_images() {
	local image
	for image in "${images[@]}"; do
		docker image inspect "$image" >/dev/null 2>&1 || echo "$image"
	done
}

# offline_build_needed tells whether `make victim-images` will have to debootstrap.
offline_build_needed() {
	$engine || return 1
	absent=$(absent_images)
	[[ -n $absent ]] || return 1
	case $build in
	offline) return 0 ;;
	dockerfile) return 1 ;;
	esac
	docker image inspect "$base" >/dev/null 2>&1 && return 1
	! timeout "$pull_timeout" docker pull --quiet "$base" >/dev/null 2>&1
}
if offline_build_needed; then
	what="the victim image $absent is"
	[[ $absent == *$'\n'* ]] && what="the victim images ${absent//$'\n'/ and } are"
	why="$what absent and $base cannot be pulled, so they are built offline"
	[[ $absent == *$'\n'* ]] || why="$what absent and $base cannot be pulled, so it is built offline"
	command -v debootstrap >/dev/null ||
		missing+=("debootstrap ($why): apt-get install debootstrap")
	[[ $(id -u) == 0 ]] ||
		missing+=("root ($why, and debootstrap needs root): run 'sudo make victim-images' once, then make test")
fi

if ((${#missing[@]} == 0)); then
	exit 0
fi
{
	echo "make test needs what this machine lacks:"
	printf '  - %s\n' "${missing[@]}"
	echo "Install it and run make test again (README: Requirements); nothing was started."
} >&2
exit 1
