package dev.telemetry.gateway.exporter.prometheus;

import java.math.BigDecimal;
import java.util.Map;

/**
 * Metric and label naming per the OpenTelemetry "Prometheus and OpenMetrics compatibility" spec: invalid characters
 * become {@code _} (runs collapsed), names that would start with a digit are prefixed, and — when suffixes are on —
 * the unit is appended in Prometheus words ({@code s} → {@code _seconds}, {@code By/s} → {@code _bytes_per_second},
 * gauges in unit {@code 1} → {@code _ratio}) and monotonic counters get {@code _total}.
 */
public final class PrometheusNames {
  private PrometheusNames() {
  }

  private static final Map<String, String> UNITS = Map.ofEntries(
      Map.entry("d", "days"), Map.entry("h", "hours"), Map.entry("min", "minutes"), Map.entry("s", "seconds"),
      Map.entry("ms", "milliseconds"), Map.entry("us", "microseconds"), Map.entry("ns", "nanoseconds"),
      Map.entry("By", "bytes"), Map.entry("KiBy", "kibibytes"), Map.entry("MiBy", "mebibytes"),
      Map.entry("GiBy", "gibibytes"), Map.entry("TiBy", "tebibytes"), Map.entry("KBy", "kilobytes"),
      Map.entry("MBy", "megabytes"), Map.entry("GBy", "gigabytes"), Map.entry("TBy", "terabytes"),
      Map.entry("m", "meters"), Map.entry("V", "volts"), Map.entry("A", "amperes"), Map.entry("J", "joules"),
      Map.entry("W", "watts"), Map.entry("g", "grams"), Map.entry("Cel", "celsius"), Map.entry("Hz", "hertz"),
      Map.entry("%", "percent"));

  private static final Map<String, String> PER_UNITS = Map.of(
      "s", "second", "m", "minute", "h", "hour", "d", "day", "w", "week", "mo", "month", "y", "year");

  /** The Prometheus metric name for an OTLP metric. */
  public static String metricName(String name, String unit, boolean counter, boolean gauge, boolean addSuffixes) {
    String base = sanitize(name, true);
    if (!addSuffixes) {
      return base;
    }
    StringBuilder b = new StringBuilder(base);
    String unitSuffix = unitSuffix(unit, gauge);
    if (!unitSuffix.isEmpty() && !endsWithToken(b, unitSuffix)) {
      b.append('_').append(unitSuffix);
    }
    if (counter && !endsWithToken(b, "total")) {
      b.append("_total");
    }
    return b.toString();
  }

  /** {@code s} → seconds, {@code By/s} → bytes_per_second, {@code {request}} → nothing, {@code 1} → ratio (gauges). */
  static String unitSuffix(String unit, boolean gauge) {
    if (unit == null || unit.isEmpty()) {
      return "";
    }
    String u = unit.replaceAll("\\{[^}]*}", "").trim(); // annotations such as {request} carry no unit
    if (u.equals("1")) {
      return gauge ? "ratio" : "";
    }
    if (u.isEmpty()) {
      return "";
    }
    int slash = u.indexOf('/');
    if (slash >= 0) {
      String main = u.substring(0, slash).trim();
      String per = u.substring(slash + 1).trim();
      String mainWord = main.isEmpty() ? "" : UNITS.getOrDefault(main, main);
      String perWord = PER_UNITS.getOrDefault(per, per);
      String joined = (mainWord.isEmpty() ? "" : mainWord + "_") + "per_" + perWord;
      return sanitize(joined, false).replaceAll("^_+|_+$", "");
    }
    return sanitize(UNITS.getOrDefault(u, u), false).replaceAll("^_+|_+$", "");
  }

  private static boolean endsWithToken(CharSequence name, String token) {
    String n = name.toString();
    return n.equals(token) || n.endsWith("_" + token);
  }

  /**
   * A valid Prometheus label name: invalid characters become {@code _}; a leading digit gets the prefix
   * {@code key_}; a single leading underscore gets {@code key} (names starting {@code __} are left to Prometheus).
   */
  public static String labelName(String key) {
    String s = sanitize(key, false);
    if (s.isEmpty()) {
      return "key_empty";
    }
    char c = s.charAt(0);
    if (c >= '0' && c <= '9') {
      return "key_" + s;
    }
    if (c == '_' && !s.startsWith("__")) {
      return "key" + s;
    }
    return s;
  }

  /** Replaces characters outside [a-zA-Z0-9_] (and ':' in metric names) with '_'; metric names collapse '_' runs. */
  static String sanitize(String s, boolean metric) {
    StringBuilder b = new StringBuilder(s.length() + 1);
    boolean lastUnderscore = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
          || (metric && c == ':');
      char out = ok ? c : '_';
      if (out == '_') {
        if (lastUnderscore && metric) { // metric names collapse runs; label names keep them (as the Collector)
          continue;
        }
        lastUnderscore = true;
      } else {
        lastUnderscore = false;
      }
      b.append(out);
    }
    if (metric && b.length() > 0 && b.charAt(0) >= '0' && b.charAt(0) <= '9') {
      b.insert(0, '_');
    }
    return b.toString();
  }

  /**
   * Formats a float as Go's {@code strconv.FormatFloat(v, 'g', -1, 64)} does, which is how Prometheus writes
   * {@code le} and {@code quantile} values: {@code 5}, {@code 0.25}, {@code 1e+06}, {@code +Inf}.
   */
  /**
   * {@code base} plus the attributes as labels (by label name; strings, booleans, integers and doubles — other value
   * kinds are left out), as the translator turns data point attributes into labels.
   */
  public static Map<String, String> labels(java.util.List<io.opentelemetry.proto.common.v1.KeyValue> attrs,
                                           Map<String, String> base) {
    Map<String, String> out = new java.util.HashMap<>(Math.max(16, (base.size() + attrs.size()) * 2));
    out.putAll(base);
    for (io.opentelemetry.proto.common.v1.KeyValue kv : attrs) {
      io.opentelemetry.proto.common.v1.AnyValue v = kv.getValue();
      String s = switch (v.getValueCase()) {
        case STRING_VALUE -> v.getStringValue();
        case BOOL_VALUE -> String.valueOf(v.getBoolValue());
        case INT_VALUE -> String.valueOf(v.getIntValue());
        case DOUBLE_VALUE -> formatFloat(v.getDoubleValue());
        default -> null;
      };
      if (s != null) {
        out.put(labelName(kv.getKey()), s);
      }
    }
    return out;
  }

  public static String formatFloat(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == 0) {
      return (Double.doubleToRawLongBits(v) < 0) ? "-0" : "0";
    }
    BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
    String digits = d.unscaledValue().abs().toString();
    int nd = digits.length();
    int dp = nd - d.scale(); // position of the decimal point relative to the digits
    int exp = dp - 1;
    int eprec = 6;
    if (eprec > nd && nd >= dp) {
      eprec = nd;
    }
    String sign = v < 0 ? "-" : "";
    if (exp < -4 || exp >= eprec) {
      String mantissa = digits.substring(0, 1) + (nd > 1 ? "." + digits.substring(1) : "");
      String e = Integer.toString(Math.abs(exp));
      return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + (e.length() < 2 ? "0" + e : e);
    }
    return sign + d.abs().toPlainString();
  }
}
