#!/bin/sh
# Mean and count of the "value" column of a CSV with a header line.
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "value") col = i; next }
         { sum += $col; n++ }
         END { printf "rows=%d mean=%.3f\n", n, sum / n }' "$1"
