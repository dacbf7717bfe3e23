#!/usr/bin/env bash
# Stops `make test-rules` within seconds, with one clear message, when the Falco
# image is neither in the engine nor pullable. The suite checks again itself,
# for users who run Ginkgo directly.
set -uo pipefail
image=${1:?usage: require-falco-image.sh IMAGE}

if ! docker info >/dev/null 2>&1; then
  echo "attack-replay: the Docker engine is not reachable (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}); start it or point DOCKER_HOST at it." >&2
  exit 2
fi
if docker image inspect "$image" >/dev/null 2>&1; then
  exit 0
fi
if out=$(timeout 120 docker pull "$image" 2>&1); then
  exit 0
fi
# Suggest a Falco image this engine has, never the one that just failed (nor the
# stand-in images the tests build, which only replay recordings).
others=$(docker images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -i falco | grep -v '^attack-replay/' | grep -vxF "$image" | grep -v ':<none>$' | head -n 3)
{
	echo "attack-replay: Falco image \"$image\" is not in the Docker engine and cannot be pulled:"
	echo "  ${out##*$'\n'}"
	if [[ -n $others ]]; then
		echo "Falco images in this engine: $(echo $others)"
		echo "Set FALCO_IMAGE to one of them, e.g.  make test-rules FALCO_IMAGE=${others%%$'\n'*}"
	else
		echo "No Falco image is in this engine. Set FALCO_IMAGE to one that is (see \`docker images\`),"
		echo "or load one saved where a registry answers: there \`docker pull $image && docker save -o falco.tar $image\`,"
		echo "here \`docker load -i falco.tar\`."
	fi
} >&2
exit 2
