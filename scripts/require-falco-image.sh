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
cat >&2 <<MSG
attack-replay: Falco image "$image" is not in the Docker engine and cannot be pulled:
  ${out##*$'\n'}
Set FALCO_IMAGE to a Falco image present here (see \`docker images\`), or load one
(\`docker load -i falco.tar\`), e.g.  make test-rules FALCO_IMAGE=falcosecurity/falco:0.43.1
MSG
exit 2
