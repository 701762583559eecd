// PromQL functions and keywords: every other bare identifier in an expression is a metric name.
const NOT_METRICS = new Set([
  "abs", "absent", "absent_over_time", "avg", "avg_over_time", "bottomk", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
  "count", "count_over_time", "count_values", "day_of_month", "day_of_week", "days_in_month", "delta", "deriv", "exp", "floor",
  "group", "histogram_quantile", "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace", "last_over_time",
  "ln", "log10", "log2", "max", "max_over_time", "min", "min_over_time", "minute", "month", "predict_linear", "quantile",
  "quantile_over_time", "rate", "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sqrt", "stddev", "stddev_over_time",
  "stdvar", "stdvar_over_time", "sum", "sum_over_time", "time", "timestamp", "topk", "vector", "year",
  "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan",
]);

/**
 * The metric names a PromQL expression reads. Strings, label matchers, ranges and the label
 * lists of `by`/`without`/`on`/`ignoring`/`group_*` are removed first, so label names and
 * values never count as metrics.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const match of bare.matchAll(/(?<![\w:$.])([A-Za-z_:][\w:]*)(?![\w:])(?!\s*\()/g)) {
    const name = match[1] ?? "";
    if (!NOT_METRICS.has(name.toLowerCase()) && !/^\d/.test(name)) names.add(name);
  }
  return [...names].sort();
}
