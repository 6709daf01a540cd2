package dev.telemetry.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Anomaly detection over metric series (section {@code anomalies}): which series (RED series of the span_metrics
 * connector per service and span, and configured {@code streams} of any metric in the metrics pipeline), the
 * {@code method} ({@code seasonal_median} or {@code holt_winters}), the {@code step} values are judged at (it must
 * divide a day), at most {@code maxSeries} series (more are counted, not tracked), forgotten after
 * {@code seriesExpiry} without data, state kept in {@code stateFile}; the detection {@code rules} and the
 * {@code maintenance} windows that suppress.
 */
public record AnomaliesConfig(String method, Duration step, Duration evaluationInterval, int maxSeries,
                              Duration seriesExpiry, Path stateFile, Red red, List<Stream> streams, Rules rules,
                              List<Maintenance> maintenance) {
  public static final List<String> METHODS = List.of("seasonal_median", "holt_winters");

  public AnomaliesConfig {
    streams = List.copyOf(streams);
    maintenance = List.copyOf(maintenance);
  }

  /** RED series from span_metrics: rate, error ratio and latency quantiles per {@code groupBy} labels. */
  public record Red(boolean enabled, List<String> groupBy, Set<String> spanKinds, List<Double> latencyQuantiles,
                    double minRequests) {
    public Red {
      groupBy = List.copyOf(groupBy);
      spanKinds = Set.copyOf(spanKinds);
      latencyQuantiles = List.copyOf(latencyQuantiles);
    }
  }

  /**
   * A configured metric: a counter judged on its increase per step, or a gauge on its value; read from the metrics
   * pipeline ({@code source} {@code pipeline}) or from the gateway's own metrics ({@code self}: queue age, refusals).
   */
  public record Stream(String name, String metric, Type type, List<String> groupBy, Map<String, String> match,
                       String scale, String direction, Source source) {
    public enum Type { COUNTER, GAUGE }

    public enum Source { PIPELINE, SELF }

    public Stream(String name, String metric, Type type, List<String> groupBy, Map<String, String> match,
                  String scale, String direction) {
      this(name, metric, type, groupBy, match, scale, direction, Source.PIPELINE);
    }

    public Stream {
      groupBy = List.copyOf(groupBy);
      match = Map.copyOf(match);
    }
  }

  /** The detection rules (docs/anomaly.md explains each; the defaults were chosen on the committed benchmark). */
  public record Rules(double threshold, double sustainedThreshold, int sustainedSteps, double driftThreshold,
                      int driftSteps, double closeThreshold, int closeAfter, int cooldownSteps, double minSupport,
                      double criticalThreshold) {
    public static final Rules DEFAULTS = new Rules(5.5, 2.5, 3, 4, 12, 2.5, 3, 6, 0.5, 12);
  }

  /** No anomaly opens between {@code start} and {@code end} for series whose labels include {@code match}. */
  public record Maintenance(Instant start, Instant end, Map<String, String> match) {
    public Maintenance {
      match = Map.copyOf(match);
    }

    public boolean covers(long epochMillis, Map<String, String> labels) {
      if (epochMillis < start.toEpochMilli() || epochMillis >= end.toEpochMilli()) {
        return false;
      }
      return match.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }
  }

  static AnomaliesConfig read(ConfigNode n) {
    n.allowOnly("method", "step", "evaluation_interval", "max_series", "series_expiry", "state_file", "red",
        "streams", "rules", "maintenance");
    String method = n.string("method", "seasonal_median");
    if (method != null && !METHODS.contains(method)) {
      n.error("method", "unknown method \"" + method + "\" (known: " + String.join(", ", METHODS) + ")");
    }
    Duration step = n.duration("step", Duration.ofMinutes(5), Duration.ofSeconds(10));
    if (step.toMillis() > 3_600_000 || 86_400_000L % step.toMillis() != 0) {
      n.error("step", "must divide a day and be at most 1h (e.g. \"1m\", \"5m\", \"15m\"), found " + step);
    }
    Duration every = n.duration("evaluation_interval", Duration.ofSeconds(15), Duration.ofSeconds(1));
    int max = (int) n.integer("max_series", 2000, 1, 1_000_000);
    Duration expiry = n.duration("series_expiry", Duration.ofDays(1), step);
    String state = n.has("state_file") ? n.string("state_file", null) : null;

    ConfigNode r = n.object("red");
    r.allowOnly("enabled", "group_by", "span_kinds", "latency_quantiles", "min_requests");
    Red red = new Red(r.bool("enabled", true), r.stringList("group_by", List.of("service.name", "span.name")),
        Set.copyOf(r.stringList("span_kinds", List.of("SPAN_KIND_SERVER", "SPAN_KIND_CONSUMER"))),
        quantiles(r), r.number("min_requests", 20, 0, 1e12));

    List<Stream> streams = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    for (ConfigNode s : n.objectList("streams")) {
      s.allowOnly("name", "metric", "type", "group_by", "match", "scale", "direction", "source");
      String name = s.nonBlankString("name");
      if (!s.has("name")) {
        s.error("name", "required: the stream's name (the alert's stream label), e.g. \"genai-cost\"");
      } else if (name != null && (name.equals("red") || !names.add(name))) {
        s.error("name", "\"" + name + "\" is used by another stream (or is \"red\", the RED series' name): names "
            + "must be unique");
      }
      String metric = s.nonBlankString("metric");
      if (!s.has("metric")) {
        s.error("metric", "required: the metric's Prometheus name, e.g. \"gen_ai_client_cost_usd_total\"");
      }
      Stream.Type type = s.enumValue("type", Stream.Type.class, Stream.Type.COUNTER);
      String scale = s.string("scale", "log");
      if (scale != null && !List.of("count", "log", "linear").contains(scale)) {
        s.error("scale", "expected \"count\" (events per step), \"log\" (positive amounts: seconds, dollars) or "
            + "\"linear\" (ratios), found \"" + scale + "\"");
      }
      String direction = direction(s, "up");
      Stream.Source source = s.enumValue("source", Stream.Source.class, Stream.Source.PIPELINE);
      streams.add(new Stream(name, metric, type, s.stringList("group_by", List.of()), s.stringMap("match"), scale,
          direction, source));
    }

    ConfigNode ru = n.object("rules");
    ru.allowOnly("threshold", "sustained_threshold", "sustained_steps", "drift_threshold", "drift_steps",
        "close_threshold", "close_after", "cooldown_steps", "min_support", "critical_threshold");
    Rules d = Rules.DEFAULTS;
    double threshold = ru.number("threshold", d.threshold(), 0.5, 1000);
    double sustained = ru.number("sustained_threshold", d.sustainedThreshold(), 0.5, 1000);
    double close = ru.number("close_threshold", d.closeThreshold(), 0.1, 1000);
    double critical = ru.number("critical_threshold", d.criticalThreshold(), 0.5, 1000);
    if (sustained > threshold) {
      ru.error("sustained_threshold", "must not exceed threshold (" + threshold + "), found " + sustained);
    }
    if (close > sustained) {
      ru.error("close_threshold", "must not exceed sustained_threshold (" + sustained + "): an anomaly must be able "
          + "to close, found " + close);
    }
    if (critical < threshold) {
      ru.error("critical_threshold", "must be at least threshold (" + threshold + "), found " + critical);
    }
    Rules rules = new Rules(threshold, sustained, (int) ru.integer("sustained_steps", d.sustainedSteps(), 1, 1000),
        ru.number("drift_threshold", d.driftThreshold(), 0.5, 1000),
        (int) ru.integer("drift_steps", d.driftSteps(), 1, 10_000), close,
        (int) ru.integer("close_after", d.closeAfter(), 1, 1000),
        (int) ru.integer("cooldown_steps", d.cooldownSteps(), 0, 10_000),
        ru.number("min_support", d.minSupport(), 0, 1), critical);

    List<Maintenance> windows = new ArrayList<>();
    for (ConfigNode m : n.objectList("maintenance")) {
      m.allowOnly("start", "end", "match");
      Instant start = instant(m, "start");
      Instant end = instant(m, "end");
      if (start != null && end != null && !end.isAfter(start)) {
        m.error("end", "must be after start (" + start + "), found " + end);
      }
      Map<String, String> match = m.stringMap("match");
      if (start != null && end != null && end.isAfter(start)) {
        windows.add(new Maintenance(start, end, match));
      }
    }
    return n.build(null, () -> new AnomaliesConfig(method, step, every, max, expiry,
        state == null ? null : Path.of(state), red, streams, rules, windows));
  }

  static String direction(ConfigNode s, String def) {
    String d = s.string("direction", def);
    if (d != null && !List.of("up", "down", "both").contains(d)) {
      s.error("direction", "expected \"up\", \"down\" or \"both\", found \"" + d + "\"");
      return def;
    }
    return d;
  }

  private static List<Double> quantiles(ConfigNode r) {
    Object v = r.value("latency_quantiles");
    if (v == null) {
      return List.of(0.99);
    }
    List<Double> out = new ArrayList<>();
    if (v instanceof io.vertx.core.json.JsonArray a) {
      for (int i = 0; i < a.size(); i++) {
        if (a.getValue(i) instanceof Number q && q.doubleValue() > 0 && q.doubleValue() < 1) {
          out.add(q.doubleValue());
        } else {
          r.error("latency_quantiles", "element " + i + ": expected a quantile between 0 and 1 (e.g. 0.99), found "
              + a.getValue(i));
        }
      }
    } else {
      r.error("latency_quantiles", "expected a list of quantiles such as [0.5, 0.99]");
    }
    return out;
  }

  static Instant instant(ConfigNode n, String key) {
    String s = n.nonBlankString(key);
    if (s == null) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (java.time.format.DateTimeParseException e) {
      n.error(key, "expected a UTC time such as \"2026-12-24T00:00:00Z\", found \"" + s + "\"");
      return null;
    }
  }
}
