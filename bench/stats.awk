# The benchmarks' summaries share these (bench_awk in bench/lib.sh puts
# them before each script's own program). A list is a string of numbers
# separated by spaces, one per round: list[key] = list[key] " " value.

# median(list): the median of the list; sets lo and hi to its min and max.
function median(list,   n, a, i, j, t) {
  n = split(list, a, " ")
  for (i = 2; i <= n; i++)
    for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
  lo = a[1]; hi = a[n]
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

# spread(list, fmt): "median (min–max)", each number printed with fmt.
function spread(list, fmt,   m) {
  m = median(list)
  return sprintf(fmt " (" fmt "–" fmt ")", m, lo, hi)
}

# wrk_ms(v): one of wrk's latencies ("812.00us", "1.21ms", "2.00s") in ms.
function wrk_ms(v) {
  if (v ~ /us$/) return v / 1000
  if (v ~ /ms$/) return v + 0
  if (v ~ /s$/) return v * 1000
  return v
}
