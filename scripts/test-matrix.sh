#!/usr/bin/env bash
# `make test-matrix`: replay the scenarios once per FALCO_IMAGES entry, one after the
# other on this machine, each with `make test-rules` into REPORT_DIR/matrix/<entry>/ (every
# per-version report, plus run.log), then assemble REPORT_DIR/matrix/matrix.{md,html,json}
# with `attack-replay matrix`.
#
# An entry is IMAGE, IMAGE@grpc or IMAGE@http (IMAGE alone takes FALCO_TRANSPORT); entries
# are separated by spaces, newlines or commas. The list and every image are checked before
# anything runs.
#
# Exit status: 0 every entry's run passed (and, with MATRIX_FLAGS=--fail-on-diff, no row
# differs); 1 an entry's run failed, or a row differs under --fail-on-diff; 2 a bad
# FALCO_IMAGES, a missing image, or a matrix that could not be assembled; 130 interrupted.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
# ${a[@]+"${a[@]}"} below: an empty array under set -u, in the bash 3.2 of macOS too.

GO=${GO:-go}
MAKE=${MAKE:-make}
report_dir=${REPORT_DIR:-reports}
matrix_dir=$report_dir/matrix
default_transport=${FALCO_TRANSPORT:-auto}
read -ra matrix_flags <<<"${MATRIX_FLAGS:-}"

say() { printf 'attack-replay: %s\n' "$*" >&2; }
example='e.g. FALCO_IMAGES="falcosecurity/falco:0.40.0 falcosecurity/falco:0.43.1@grpc falcosecurity/falco:0.44.1@http"'

case $default_transport in
auto | grpc | http) ;;
*)
  say "FALCO_TRANSPORT=\"$default_transport\": want auto, grpc or http; nothing was run."
  exit 2
  ;;
esac

# Parse and check the whole list first: every problem at once, naming FALCO_IMAGES.
images=() transports=() labels=() dirs=() problems=()
n=0
list=${FALCO_IMAGES:-}
read -ra words <<<"${list//$'\n'/ }"
for word in ${words[@]+"${words[@]}"}; do
  if [[ $word == *,,* ]]; then
    problems+=("\"$word\": an empty entry between two commas")
  fi
  IFS=, read -ra pieces <<<"$word"
  for entry in "${pieces[@]}"; do
    [[ -n $entry ]] || continue
    n=$((n + 1))
    image=$entry transport=$default_transport
    if [[ $entry == *@* ]]; then
      suffix=${entry##*@}
      case $suffix in
      grpc | http | auto) image=${entry%@*} transport=$suffix ;;
      sha256:*) ;; # pinned by digest, no transport suffix
      "")
        problems+=("entry $n \"$entry\": nothing after @ (want IMAGE@grpc or IMAGE@http)")
        continue
        ;;
      *)
        problems+=("entry $n \"$entry\": unknown transport \"@$suffix\" (want @grpc or @http, or no suffix for FALCO_TRANSPORT=$default_transport)")
        continue
        ;;
      esac
    fi
    if [[ -z $image ]]; then
      problems+=("entry $n \"$entry\": no image before @$transport")
      continue
    fi
    if [[ $image == *@* && ${image#*@} != sha256:* ]]; then
      problems+=("entry $n \"$entry\": \"$image\" is not an image: only a digest (@sha256:...) may stand between the name and the transport")
      continue
    fi
    label=$image
    [[ $transport == auto ]] || label=$image@$transport
    # Artifact uploads refuse ':' and friends: keep what reads well, replace the rest.
    dir=${label//[^A-Za-z0-9._@-]/_}
    dup=""
    for i in "${!labels[@]}"; do
      if [[ ${labels[i]} == "$label" ]]; then
        dup="repeats entry $((i + 1)) (\"${labels[i]}\")"
      elif [[ ${dirs[i]} == "$dir" ]]; then
        dup="would share the report directory $dir with entry $((i + 1)) (\"${labels[i]}\")"
      fi
    done
    if [[ -n $dup ]]; then
      problems+=("entry $n \"$entry\": $dup")
      continue
    fi
    images+=("$image") transports+=("$transport") labels+=("$label") dirs+=("$dir")
  done
done
if ((${#problems[@]} == 0 && ${#labels[@]} == 0)); then
  problems+=("no entry: set it to the Falco images to compare, $example")
fi
if ((${#problems[@]} > 0)); then
  say "FALCO_IMAGES=\"${FALCO_IMAGES:-}\" has ${#problems[@]} problem(s); nothing was run:"
  printf '  %s\n' "${problems[@]}" >&2
  echo "Each entry is IMAGE, IMAGE@grpc or IMAGE@http, separated by spaces or commas, $example" >&2
  exit 2
fi

# Every image, before any run: a missing one would otherwise surface an hour in.
if ! docker info >/dev/null 2>&1; then
  say "the Docker engine is not reachable (DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}); start it or point DOCKER_HOST at it."
  exit 2
fi
missing=()
for image in $(printf '%s\n' "${images[@]}" | sort -u); do
  docker image inspect "$image" >/dev/null 2>&1 && continue
  if out=$(timeout 120 docker pull "$image" 2>&1); then
    continue
  fi
  missing+=("$image (${out##*$'\n'})")
done
if ((${#missing[@]} > 0)); then
  say "FALCO_IMAGES names ${#missing[@]} Falco image(s) that are not in the Docker engine and cannot be pulled; nothing was run:"
  printf '  %s\n' "${missing[@]}" >&2
  echo "Load them (docker load -i falco.tar) or take them out of FALCO_IMAGES (see \`docker images\`)." >&2
  exit 2
fi
"$MAKE" --no-print-directory victim-image || exit 2

# Ctrl-C reaches the running suite too, which removes its containers and writes its
# reports; the loop then stops and assembles what it has.
interrupted=0
trap 'interrupted=1' INT TERM
rm -rf "$matrix_dir"
entries=() failed=()
for i in "${!labels[@]}"; do
  dir=$matrix_dir/${dirs[i]}
  mkdir -p "$dir" || exit 2
  say "matrix entry $((i + 1)) of ${#labels[@]}: ${labels[i]} (transport ${transports[i]}) into $dir"
  # tee -i outlives Ctrl-C, so the suite can still print while it cleans up.
  "$MAKE" --no-print-directory test-rules FALCO_IMAGE="${images[i]}" FALCO_TRANSPORT="${transports[i]}" REPORT_DIR="$dir" 2>&1 |
    tee -i "$dir/run.log"
  status=${PIPESTATUS[0]}
  entries+=("${labels[i]}=$dir")
  if ((status != 0)); then
    failed+=("entry $((i + 1)) ${labels[i]}: make test-rules exited $status (see $dir/run.log)")
  fi
  if ((interrupted)); then
    say "interrupted: the matrix holds the $((i + 1)) of ${#labels[@]} entries that ran"
    break
  fi
done

echo
"$GO" run ./cmd/attack-replay matrix ${matrix_flags[@]+"${matrix_flags[@]}"} --markdown "$matrix_dir/matrix.md" --html "$matrix_dir/matrix.html" \
  --json "$matrix_dir/matrix.json" "${entries[@]}"
matrix_status=$?
echo
echo "matrix: $matrix_dir/matrix.md, matrix.html, matrix.json; each entry's reports in $matrix_dir/<entry>/"
if ((${#failed[@]} > 0)); then
  say "${#failed[@]} of ${#entries[@]} entries' runs failed:"
  printf '  %s\n' "${failed[@]}" >&2
fi
if ((interrupted)); then
  exit 130
fi
if ((matrix_status == 2)); then
  say "the matrix could not be assembled"
  exit 2
fi
if ((${#failed[@]} > 0 || matrix_status != 0)); then
  exit 1
fi
exit 0
