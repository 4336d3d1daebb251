# Throughput of the three-recovery-point flow against concurrency, on SQLite with durability full.
# Data: the columns that 'cairn bench throughput --dat FILE' writes (concurrency, runs/s, checkpoints/s, p50 and p99 in ms).
# Run from the repository root after the two measurements in docs/benchmarks.md:
#   gnuplot bench/plot-throughput.gp        -> docs/throughput.png
on  = "bench/results/throughput.dat"
off = "bench/results/throughput-group-commit-off.dat"
fsync_per_s = 8300
target_checkpoints = 20000
target_runs = 6000

set terminal pngcairo size 1000,620 font "DejaVu Sans,11"
set output "docs/throughput.png"
set title "Cairn on SQLite, durability full: runs and checkpoints per second against concurrency\n2 vCPU AMD EPYC, ext4 virtual disk (pg\\_test\\_fsync: about 8,300 fsync/s), 2026-11-22"
set xlabel "runs in flight (concurrency)"
set ylabel "per second"
set logscale x 2
set xrange [0.8:320]
set xtics ("1" 1, "4" 4, "16" 16, "64" 64, "256" 256)
set yrange [0:22000]
set ytics 2000
set format y "%.0f"
set grid
set key outside right top vertical Left reverse width -2

plot on  using 1:3 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "checkpoints/s, group commit on", \
     on  using 1:2 with linespoints lw 2 pt 5 lc rgb "#ff7f0e" title "runs/s, group commit on", \
     off using 1:3 with linespoints lw 1 pt 6 dt 2 lc rgb "#1f77b4" title "checkpoints/s, group commit off", \
     off using 1:2 with linespoints lw 1 pt 4 dt 2 lc rgb "#ff7f0e" title "runs/s, group commit off", \
     fsync_per_s with lines lw 1.5 dt 3 lc rgb "#444444" title "disk: 8,300 fsync/s (pg\\_test\\_fsync)", \
     target_checkpoints with lines lw 1 dt 4 lc rgb "#1f77b4" title "target at C=64: 20,000 checkpoints/s", \
     target_runs with lines lw 1 dt 4 lc rgb "#ff7f0e" title "target at C=64: 6,000 runs/s"
