package dev.telemetry.gateway.connector.spanmetrics;

import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ConnectorConfig;
import dev.telemetry.gateway.connector.HistogramSpec;
import io.vertx.core.json.JsonArray;
import java.time.Duration;
import java.util.List;

/**
 * The span_metrics connector: RED metrics from every span the traces pipeline accepts, into a metrics pipeline.
 * {@code dimensions} are attribute names added as labels (span attribute first, then resource attribute);
 * {@code histogram} the duration histogram's buckets (explicit bounds in milliseconds, or exponential);
 * {@code cardinalityLimit} the series kept before new label sets go to the overflow series; series idle for
 * {@code expiry} are forgotten.
 */
public record SpanMetricsConnectorConfig(String name, List<String> dimensions, HistogramSpec histogram,
                                         Duration flushInterval, int cardinalityLimit, Duration expiry)
    implements ConnectorConfig {
  public static final String TYPE = "span_metrics";
  public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(15);
  public static final int DEFAULT_CARDINALITY_LIMIT = 10_000;
  public static final Duration DEFAULT_EXPIRY = Duration.ofMinutes(5);

  public SpanMetricsConnectorConfig {
    dimensions = List.copyOf(dimensions);
  }

  @Override
  public String type() {
    return TYPE;
  }

  public static SpanMetricsConnectorConfig read(String name, ConfigNode node) {
    node.allowOnly("type", "dimensions", "histogram", "buckets_ms", "max_buckets", "flush_interval",
        "cardinality_limit", "expiry");
    List<String> dimensions = node.stringList("dimensions", List.of());
    HistogramSpec histogram = histogram(node, "buckets_ms", SpanMetrics.DEFAULT_BOUNDS_MS);
    Duration flush = node.duration("flush_interval", DEFAULT_FLUSH_INTERVAL, Duration.ofMillis(100));
    int limit = (int) node.integer("cardinality_limit", DEFAULT_CARDINALITY_LIMIT, 1, 1_000_000);
    Duration expiry = node.duration("expiry", DEFAULT_EXPIRY, Duration.ZERO);
    return node.build(null, () -> new SpanMetricsConnectorConfig(name, dimensions, histogram, flush, limit,
        expiry));
  }

  /**
   * {@code histogram}: "explicit" (default; bounds under {@code boundsKey}) or "exponential" (at most
   * {@code max_buckets} buckets, default 160; Prometheus native histograms through remote-write).
   */
  public static HistogramSpec histogram(ConfigNode node, String boundsKey, double[] defaultBounds) {
    String kind = node.string("histogram", "explicit");
    if ("exponential".equals(kind)) {
      if (node.has(boundsKey)) {
        node.error(boundsKey, "explicit bounds do not apply to an exponential histogram; remove " + boundsKey
            + " or set \"histogram\": \"explicit\"");
      }
      int max = (int) node.integer("max_buckets", HistogramSpec.DEFAULT_MAX_BUCKETS, 2, 2048);
      return HistogramSpec.exponential(max);
    }
    if (!"explicit".equals(kind)) {
      node.error("histogram", "expected \"explicit\" or \"exponential\", found \"" + kind + "\"");
    }
    if (node.has("max_buckets")) {
      node.error("max_buckets", "applies to exponential histograms only; set \"histogram\": \"exponential\" or "
          + "remove max_buckets");
    }
    return HistogramSpec.explicit(node.has(boundsKey) ? bounds(node, boundsKey, defaultBounds) : defaultBounds);
  }

  private static double[] bounds(ConfigNode node, String key, double[] defaults) {
    Object v = node.value(key);
    if (!(v instanceof JsonArray a) || a.isEmpty()) {
      node.error(key, "expected a non-empty list of increasing numbers, e.g. [5, 10, 100]");
      return defaults;
    }
    double[] out = new double[a.size()];
    for (int i = 0; i < a.size(); i++) {
      if (!(a.getValue(i) instanceof Number n) || !(n.doubleValue() > 0)
          || i > 0 && !(n.doubleValue() > out[i - 1])) {
        node.error(key + "[" + i + "]", "expected a number above 0 and above the one before it, found "
            + a.getValue(i));
        return defaults;
      }
      out[i] = n.doubleValue();
    }
    return out;
  }
}
