# Throughput over time of a chaos soak (issue 15): runs completed per 10 s, with a mark for every fault injected.
# Data: the JSON report that 'Cairn.CrashTest chaos ... --json FILE' writes, read through jq.
# Run from the repository root (apt-get install gnuplot-nox jq):
#   gnuplot -e "report='bench/results/issue-15/chaos-1800-seed-1805.json'; out='docs/chaos-soak.png'" bench/plot-chaos.gp
if (!exists("report")) report = "bench/results/issue-15/chaos-1800-seed-1805.json"
if (!exists("out")) out = "docs/chaos-soak.png"

summary = system("jq -r '\"seed \\(.seed), \\(.durationSeconds) s, \\(.rate) runs/s started, \\(.nodes) nodes: \\(.runs.started) runs, \\(.runs.completed) completed, \\(.runs.compensated) compensated, \\(.faultsInjected | add) faults, \\(.violations | length) violations\"' ".report)
rate = real(system("jq -r .rate ".report))
duration = real(system("jq -r .durationSeconds ".report))
buckets = "< jq -r '.throughput[] | \"\\(.fromSecond) \\(.completed)\"' ".report
# One row per injected fault: time, a row for its kind (1-5), the kind's name.
faults = "< jq -r '.faults[] | select(.injected) | \"\\(.at) \\({\"node-kill\":1,\"node-pause\":2,\"database-restart\":3,\"backend-terminate\":4,\"storage-fill\":5}[.kind] // 6) \\(.kind)\"' ".report

set terminal pngcairo size 1100,640 font "DejaVu Sans,11"
set output out
set multiplot layout 2,1 title "Cairn chaos soak on PostgreSQL: runs completed per 10 s while faults are injected\n".summary

set lmargin 14
set rmargin 4
set tmargin 1
set grid
set xrange [0:duration + 10]
set format x ""
set ylabel "runs completed\nper 10 s"
set yrange [0:*]
set key top right
set size 1,0.62
set origin 0,0.30
plot buckets using ($1+5):2 with steps lw 2 lc rgb "#1f77b4" title "completed per 10 s", \
     rate * 10 with lines lw 1 dt 3 lc rgb "#444444" title "started per 10 s (the load generator's rate)"

set size 1,0.30
set origin 0,0
set format x "%.0f"
set xlabel "seconds into the soak"
set ylabel ""
set yrange [0.5:5.5]
set ytics ("SIGKILL" 1, "SIGSTOP" 2, "PG restart" 3, "backend kill" 4, "folder full" 5)
set grid noytics
unset key
plot faults using 1:2 with impulses lw 1 lc rgb "#dddddd" notitle, \
     faults using 1:2 with points pt 7 ps 0.6 lc rgb "#d62728" notitle

unset multiplot
