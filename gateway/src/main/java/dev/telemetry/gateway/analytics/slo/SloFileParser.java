package dev.telemetry.gateway.analytics.slo;

import dev.telemetry.gateway.config.ConfigNode;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads an SLO file, reporting every problem with its JSON path and the fix, all at once ({@link SloFileException}).
 * Availability and latency SLIs read the span_metrics connector's series, so they need one, and a latency threshold
 * must be one of its bucket bounds (a threshold between bounds cannot be counted exactly).
 */
public final class SloFileParser {
  public static final String CALLS = "traces_span_metrics_calls_total";
  public static final String DURATION = "traces_span_metrics_duration_milliseconds";
  public static final Duration MAX_WINDOW = Duration.ofDays(90);
  // At most 7 digits: the windows allowed (up to 90 days) need 6 at most, and a longer number must not overflow.
  private static final Pattern WINDOW = Pattern.compile("(\\d{1,7})(m|h|d|w)");
  private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
  private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");

  /**
   * What the gateway's config offers SLIs: the explicit bucket bounds (ms) of its span_metrics connectors; empty
   * when it has none (then only ratio SLIs are possible).
   */
  public record Catalog(List<double[]> spanMetricsBounds) {
    public static final Catalog NONE = new Catalog(List.of());

    public boolean hasSpanMetrics() {
      return !spanMetricsBounds.isEmpty();
    }
  }

  private SloFileParser() {
  }

  /** An SLO file that does not parse or validate; every problem with its JSON path. */
  public static final class SloFileException extends Exception {
    private final List<String> problems;

    public SloFileException(List<String> problems) {
      super(String.join("\n", problems));
      this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
      return problems;
    }
  }

  public static List<Slo> parse(String text, Catalog catalog) throws SloFileException {
    JsonObject json;
    try {
      json = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new SloFileException(List.of("not a JSON object: " + e.getMessage()));
    }
    return parse(json, catalog);
  }

  public static List<Slo> parse(JsonObject json, Catalog catalog) throws SloFileException {
    ConfigNode root = ConfigNode.literal(json);
    root.allowOnly("$schema", "slos");
    if (!(json.getValue("slos") instanceof JsonArray)) {
      root.error("slos", "expected a list of SLOs, e.g. [{\"name\": \"checkout-availability\", \"service\": "
          + "\"checkout\", \"sli\": {\"type\": \"availability\"}, \"objective\": 99.9, \"window\": \"30d\"}]");
    }
    List<Slo> out = new ArrayList<>();
    Map<String, String> names = new HashMap<>();
    for (ConfigNode n : root.objectList("slos")) {
      Slo slo = slo(n, catalog);
      if (slo != null) {
        String earlier = names.putIfAbsent(slo.name(), n.path());
        if (earlier != null) {
          n.error("name", "\"" + slo.name() + "\" is already the name of " + earlier + "; SLO names are unique");
        }
        out.add(slo);
      }
    }
    if (!root.problemList().isEmpty()) {
      throw new SloFileException(root.problemList());
    }
    return List.copyOf(out);
  }

  private static Slo slo(ConfigNode n, Catalog catalog) {
    n.allowOnly("name", "service", "tenant", "description", "sli", "objective", "window", "alerting");
    int before = n.problems();
    String name = n.string("name", null);
    if (name != null && !NAME.matcher(name).matches()) {
      n.error("name", "use letters, digits, '.', '_' and '-' (it becomes a label value and a file key), found \""
          + name + "\"");
    }
    String service = n.string("service", null);
    String tenant = n.has("tenant") ? n.string("tenant", null) : null;
    String description = n.string("description", "");
    if (!n.has("objective")) {
      n.error("objective", "required: the percentage of good events, e.g. 99.9");
    }
    double objective = n.number("objective", 99.9, 0, 100);
    if (n.has("objective") && (objective <= 0 || objective >= 100)) {
      n.error("objective", "must be above 0 and below 100 (a percentage such as 99.9), found " + objective);
    }
    Duration window = window(n, "window", Duration.ofDays(30));
    if (window != null && window.compareTo(MAX_WINDOW) > 0) {
      n.error("window", "at most 90d");
    }
    Slo.Sli sli = n.has("sli") ? sli(n.object("sli"), service, catalog) : null;
    if (!n.has("sli")) {
      n.error("sli", "required, e.g. {\"type\": \"availability\"}");
    }
    ConfigNode alerting = n.object("alerting");
    alerting.allowOnly("rules", "runbook_url", "dashboard_url");
    List<Slo.BurnRule> rules = alerting.has("rules") ? rules(alerting) : Slo.DEFAULT_RULES;
    String runbook = alerting.string("runbook_url", "");
    String dashboard = alerting.string("dashboard_url", "");
    if (n.problems() != before || name == null || service == null || sli == null || window == null) {
      return null;
    }
    return new Slo(name, service, tenant, description, sli, objective, window, rules, runbook, dashboard);
  }

  private static Slo.Sli sli(ConfigNode s, String service, Catalog catalog) {
    String type = s.string("type", null);
    if (type == null) {
      return null;
    }
    switch (type) {
      case "availability", "latency" -> {
        s.allowOnly("type", "match", "span_kind", "threshold_ms");
        if (!catalog.hasSpanMetrics()) {
          s.error("type", "a " + type + " SLI counts the span_metrics connector's series: add a connector of type "
              + "span_metrics to the gateway config (connectors), or use a ratio SLI over your own metrics");
        }
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("service_name", service == null ? "" : service);
        labels.put("span_kind", s.string("span_kind", "SPAN_KIND_SERVER"));
        labels.putAll(labels(s, "match"));
        if (type.equals("availability")) {
          if (s.has("threshold_ms")) {
            s.error("threshold_ms", "applies to latency SLIs only; remove it or set \"type\": \"latency\"");
          }
          Map<String, String> bad = new LinkedHashMap<>(labels);
          bad.put("status_code", "STATUS_CODE_ERROR");
          return new Slo.Sli(type, new Slo.Selector(CALLS, labels, null), new Slo.Selector(CALLS, bad, null), null);
        }
        if (!s.has("threshold_ms")) {
          s.error("threshold_ms", "required: the duration in milliseconds a good request stays within");
          return null;
        }
        double threshold = s.number("threshold_ms", 0, 0, Double.MAX_VALUE);
        if (catalog.hasSpanMetrics() && catalog.spanMetricsBounds().stream().noneMatch(b -> contains(b, threshold))) {
          s.error("threshold_ms", "must be a bucket bound of the span_metrics duration histogram, so good calls "
              + "are counted exactly; bounds: " + Arrays.toString(catalog.spanMetricsBounds().get(0))
              + " (or add " + threshold + " to the connector's buckets_ms)");
        }
        return new Slo.Sli(type, new Slo.Selector(DURATION + "_count", labels, null), null,
            new Slo.Selector(DURATION, labels, threshold));
      }
      case "ratio" -> {
        s.allowOnly("type", "good", "bad", "total");
        Slo.Selector total = selector(s, "total");
        if (!s.has("total")) {
          s.error("total", "required: the series counting every event, e.g. {\"metric\": \"http_requests_total\"}");
        }
        if (s.has("good") == s.has("bad")) {
          s.error(null, "give exactly one of good and bad (the other is total minus it)");
        }
        Slo.Selector good = s.has("good") ? selector(s, "good") : null;
        Slo.Selector bad = s.has("bad") ? selector(s, "bad") : null;
        return total == null ? null : new Slo.Sli(type, total, bad, good);
      }
      default -> {
        s.error("type", "expected availability, latency or ratio, found \"" + type + "\"");
        return null;
      }
    }
  }

  private static boolean contains(double[] bounds, double v) {
    for (double b : bounds) {
      if (b == v) {
        return true;
      }
    }
    return false;
  }

  private static Slo.Selector selector(ConfigNode parent, String key) {
    if (!parent.has(key)) {
      return null;
    }
    ConfigNode s = parent.object(key);
    s.allowOnly("metric", "labels", "le");
    String metric = s.string("metric", null);
    if (metric != null && !LABEL.matcher(metric.replace(":", "_")).matches()) {
      s.error("metric", "expected a Prometheus metric name, e.g. http_requests_total, found \"" + metric + "\"");
    }
    Map<String, String> labels = labels(s, "labels");
    Double le = s.has("le") ? s.number("le", 0, 0, Double.MAX_VALUE) : null;
    return metric == null ? null : new Slo.Selector(metric, labels, le);
  }

  private static Map<String, String> labels(ConfigNode n, String key) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (!n.has(key)) {
      return labels;
    }
    Object v = n.value(key);
    if (!(v instanceof JsonObject o)) {
      n.error(key, "expected an object of label names to values, e.g. {\"http_route\": \"/checkout\"}");
      return labels;
    }
    for (String label : o.fieldNames()) {
      Object value = o.getValue(label);
      if (!LABEL.matcher(label).matches()) {
        n.errorAt(ConfigNode.child(n.pathOf(key), label), "not a Prometheus label name (letters, digits and _; "
            + "an attribute http.route is the label http_route)");
      } else if (!(value instanceof String str)) {
        n.errorAt(ConfigNode.child(n.pathOf(key), label), "expected a string value (labels match exactly)");
      } else {
        labels.put(label, str);
      }
    }
    return labels;
  }

  private static List<Slo.BurnRule> rules(ConfigNode alerting) {
    List<Slo.BurnRule> out = new ArrayList<>();
    if (!(alerting.value("rules") instanceof JsonArray)) {
      alerting.error("rules", "expected a list of burn-rate rules, e.g. [{\"severity\": \"page\", \"long_window\": "
          + "\"1h\", \"short_window\": \"5m\", \"burn_rate\": 14.4}] (an empty list: no alerts)");
      return out;
    }
    for (ConfigNode r : alerting.objectList("rules")) {
      r.allowOnly("severity", "long_window", "short_window", "burn_rate");
      String severity = r.string("severity", null);
      Duration longWindow = window(r, "long_window", null);
      Duration shortWindow = window(r, "short_window", null);
      double factor = r.number("burn_rate", 1, 0, 10_000);
      if (!r.has("burn_rate")) {
        r.error("burn_rate", "required: how many times faster than sustainable the budget burns, e.g. 14.4");
      }
      if (longWindow != null && shortWindow != null && shortWindow.compareTo(longWindow) >= 0) {
        r.error("short_window", "must be shorter than long_window (the workbook uses 1/12 of it)");
      }
      if (longWindow != null && longWindow.compareTo(Duration.ofDays(3)) > 0) {
        r.error("long_window", "at most 3d (burn rates are kept at minute resolution for 3 days)");
      }
      if (severity != null && longWindow != null && shortWindow != null) {
        out.add(new Slo.BurnRule(severity, longWindow, shortWindow, factor));
      }
    }
    return out;
  }

  /** A window such as 5m, 1h, 30d or 4w (whole minutes at least). */
  static Duration window(ConfigNode n, String key, Duration def) {
    if (!n.has(key)) {
      if (def == null) {
        n.error(key, "required, e.g. \"1h\"");
      }
      return def;
    }
    Object v = n.value(key);
    Matcher m = v instanceof String s ? WINDOW.matcher(s.trim()) : null;
    if (m == null || !m.matches() || Long.parseLong(m.group(1)) == 0) {
      n.error(key, "expected a duration of whole minutes, hours, days or weeks, e.g. \"5m\", \"1h\", \"30d\"; found "
          + v);
      return null;
    }
    long count = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "m" -> Duration.ofMinutes(count);
      case "h" -> Duration.ofHours(count);
      case "d" -> Duration.ofDays(count);
      default -> Duration.ofDays(7 * count);
    };
  }

  /** The Prometheus form of a window: the largest whole unit (30d, 6h, 5m). */
  public static String promDuration(Duration d) {
    long minutes = d.toMinutes();
    if (minutes % (60 * 24) == 0) {
      return minutes / (60 * 24) + "d";
    }
    if (minutes % 60 == 0) {
      return minutes / 60 + "h";
    }
    return minutes + "m";
  }
}
