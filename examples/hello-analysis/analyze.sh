#!/bin/sh
# A tiny analysis: the mean of each numeric column of data/measurements.csv, written to out/summary.csv.
set -eu
mkdir -p out
awk -F, 'NR == 1 { for (i = 2; i <= NF; i++) name[i] = $i; next }
         { for (i = 2; i <= NF; i++) sum[i] += $i; n++ }
         END { print "column,mean"; for (i = 2; i in name; i++) printf "%s,%.4f\n", name[i], sum[i] / n }' \
  data/measurements.csv > out/summary.csv
cat out/summary.csv
