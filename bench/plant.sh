#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Time to detect each planted bug: for every plant (or the ones named), run a campaign with it
# switched on until the first finding is stored (at most CAP seconds), REPS times, and print a
# table: the fraction of campaigns that found it and the median time to the first finding
# (a campaign that found nothing counts as CAP, so a median shown as ">CAP" means most did not).
#   bench/plant.sh [--reps 3] [--cap 120] [--engine afl|libfuzzer] [--jobs N] [--no-seeds]
#                  [--backends LIST] [PLANT...]
# --backends: the campaigns' --backends (default: every backend of the build; a build with your
# own kernel trees names the others, so a tree's own bugs do not stand in for the plant's).
# --no-seeds: the campaigns start from an empty corpus with only the dictionary, so the table
# measures the engine and the mutator; with seeds, a plant whose trigger a seed already holds is
# found while the seeds replay.
# The mmudiff binary: $MMUDIFF, else build/default/tools/mmudiff/mmudiff.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3 cap=120 engine=afl jobs=$(nproc)
seeds=()
backends=()
plants=()
while (($#)); do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --cap) cap=$2; shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --no-seeds) seeds=(--no-seeds); shift ;;
    --backends) backends=(--backends "$2"); shift 2 ;;
    -*) echo "bench/plant.sh: unknown option $1" >&2; exit 2 ;;
    *) plants+=("$1"); shift ;;
  esac
done
mmudiff=${MMUDIFF:-build/default/tools/mmudiff/mmudiff}
[ -x "$mmudiff" ] || { echo "bench/plant.sh: $mmudiff not built (tools/setup.sh default fuzz afl)" >&2; exit 2; }
# --list-plants: name, backend, profile, bug class. A backend name is only unique within an
# architecture ("legacy" exists for arm64 and x86-ept), so the table shows both. A plant needs no
# option: the campaign's seeds (corpus/seeds) hold streams of each architecture, its fuzz target
# runs each stream through its profile's backends, and a campaign with an arm64-6.12 plant fuzzes
# arm64-6.12 streams only, from the arm64 seeds put into 6.12.
declare -A backend
while IFS=$'\t' read -r name be arch _; do backend[$name]="$arch/$be"; done < <("$mmudiff" campaign --list-plants)
((${#plants[@]})) || plants=("${!backend[@]}")
mapfile -t plants < <(printf '%s\n' "${plants[@]}" | sort)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "# $engine, $jobs jobs, cap $cap s, $reps repetitions, $( ((${#seeds[@]})) && echo "no seeds (dictionary only)" || echo "seeded from corpus/seeds")"
printf '%-40s %-16s %-7s %-10s %s\n' plant backend found median_s "times (s)"
for p in "${plants[@]}"; do
  [ -n "${backend[$p]:-}" ] || { echo "bench/plant.sh: unknown plant $p" >&2; exit 2; }
  times=() found=0
  for ((r = 1; r <= reps; r++)); do
    out="$scratch/$p-$r"
    "$mmudiff" campaign --engine "$engine" --jobs "$jobs" --time "$cap" --plant "$p" \
      --stop-on-finding ${seeds[@]+"${seeds[@]}"} ${backends[@]+"${backends[@]}"} --out "$out" \
      >"$out.log" 2>&1 || true
    # The summary's "first at T s" of the earliest finding.
    t=$(awk '/ first at / { for (i = 1; i <= NF; i++) if ($i == "at") print $(i + 1) }' "$out.log" |
      sort -g | head -1)
    if [ -n "$t" ]; then
      found=$((found + 1))
      times+=("$t")
    else
      times+=(">$cap")
    fi
  done
  median=$(printf '%s\n' "${times[@]}" | sed "s/^>$cap$/999999/" | sort -g |
    awk -v cap="$cap" '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; print (m == 999999 ? ">" cap : m) }')
  printf '%-40s %-16s %d/%-5d %-10s %s\n' "$p" "${backend[$p]}" "$found" "$reps" "$median" "${times[*]}"
done
