#!/bin/sh
# render_cli_test.sh MOEPROF MOEPROF_GUI WORKDIR: `moeprof-gui --render` without a display
# writes the image; bad arguments and bad traces exit 2 with one line naming the problem.
set -eu
moeprof=$1 gui=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$moeprof" synth --shape mixtral-8x7b --ranks 2 --steps 20 --tokens 128 --skew zipf:1.2 -o "$work/t.db" >/dev/null
env -u QT_QPA_PLATFORM -u DISPLAY -u WAYLAND_DISPLAY "$gui" --render heatmap --steps 0:10 --rank 1 --log \
  --size 800x500 --out "$work/h.png" "$work/t.db"
[ -s "$work/h.png" ] || { echo "no image written"; exit 1; }
"$gui" --render expert-steps --layer 3 --out "$work/e.svg" "$work/t.db"
grep -q "<svg" "$work/e.svg" || { echo "no SVG written"; exit 1; }
"$gui" --render a2a --layer 1 --out "$work/a.png" "$work/t.db"
[ -s "$work/a.png" ] || { echo "no a2a image written"; exit 1; }
for view in timeline overlap placement; do
  "$gui" --render "$view" --steps 2:6 --out "$work/$view.png" "$work/t.db"
  [ -s "$work/$view.png" ] || { echo "no $view image written"; exit 1; }
done

expect_refusal() {  # expect_refusal TEXT ARGS...: exits 2, one line on stderr containing TEXT
  text=$1
  shift
  if env -u DISPLAY "$gui" "$@" 2>"$work/err"; then echo "accepted: $*"; exit 1; fi
  [ "$(wc -l <"$work/err")" -eq 1 ] || { echo "not one line for $*:"; cat "$work/err"; exit 1; }
  grep -q "$text" "$work/err" || { echo "no '$text' for $*:"; cat "$work/err"; exit 1; }
}
expect_refusal "steps must be A:B" --render heatmap --steps x --out "$work/y.png" "$work/t.db"
expect_refusal "size must be WxH" --render heatmap --size 5x5 --out "$work/y.png" "$work/t.db"
expect_refusal "needs --out" --render heatmap "$work/t.db"
expect_refusal "layer must be a layer number" --render expert-steps --layer -2 --out "$work/y.png" "$work/t.db"
expect_refusal "unknown view 'pie'" --render pie --out "$work/y.png" "$work/t.db"
expect_refusal "missing.db: no such file" --render overview --out "$work/y.png" "$work/missing.db"
[ ! -e "$work/y.png" ] || { echo "a refused render left a file"; exit 1; }
echo "render CLI: ok"
