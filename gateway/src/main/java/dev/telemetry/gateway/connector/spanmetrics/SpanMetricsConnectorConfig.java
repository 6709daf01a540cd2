package dev.telemetry.gateway.connector.spanmetrics;

import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ConnectorConfig;
import io.vertx.core.json.JsonArray;
import java.time.Duration;
import java.util.List;

/**
 * The span_metrics connector: RED metrics from every span the traces pipeline accepts, into a metrics pipeline.
 * {@code dimensions} are attribute names added as labels (span attribute first, then resource attribute);
 * {@code bucketsMs} the duration histogram's explicit bounds in milliseconds; {@code cardinalityLimit} the series
 * kept before new label sets go to the overflow series; series idle for {@code expiry} are forgotten.
 */
public record SpanMetricsConnectorConfig(String name, List<String> dimensions, List<Double> bucketsMs,
                                         Duration flushInterval, int cardinalityLimit, Duration expiry)
    implements ConnectorConfig {
  public static final String TYPE = "span_metrics";
  public static final Duration DEFAULT_FLUSH_INTERVAL = Duration.ofSeconds(15);
  public static final int DEFAULT_CARDINALITY_LIMIT = 10_000;
  public static final Duration DEFAULT_EXPIRY = Duration.ofMinutes(5);

  public SpanMetricsConnectorConfig {
    dimensions = List.copyOf(dimensions);
    bucketsMs = List.copyOf(bucketsMs);
  }

  @Override
  public String type() {
    return TYPE;
  }

  public static SpanMetricsConnectorConfig read(String name, ConfigNode node) {
    node.allowOnly("type", "dimensions", "buckets_ms", "flush_interval", "cardinality_limit", "expiry");
    List<String> dimensions = node.stringList("dimensions", List.of());
    double[] buckets = SpanMetrics.DEFAULT_BOUNDS_MS;
    if (node.has("buckets_ms")) {
      buckets = bounds(node);
    }
    Duration flush = node.duration("flush_interval", DEFAULT_FLUSH_INTERVAL, Duration.ofMillis(100));
    int limit = (int) node.integer("cardinality_limit", DEFAULT_CARDINALITY_LIMIT, 1, 1_000_000);
    Duration expiry = node.duration("expiry", DEFAULT_EXPIRY, Duration.ZERO);
    List<Double> b = java.util.Arrays.stream(buckets).boxed().toList();
    return node.build(null, () -> new SpanMetricsConnectorConfig(name, dimensions, b, flush, limit, expiry));
  }

  private static double[] bounds(ConfigNode node) {
    Object v = node.value("buckets_ms");
    if (!(v instanceof JsonArray a) || a.isEmpty()) {
      node.error("buckets_ms", "expected a non-empty list of increasing numbers (milliseconds), e.g. [5, 10, 100]");
      return SpanMetrics.DEFAULT_BOUNDS_MS;
    }
    double[] out = new double[a.size()];
    for (int i = 0; i < a.size(); i++) {
      if (!(a.getValue(i) instanceof Number n) || !(n.doubleValue() > 0)
          || i > 0 && !(n.doubleValue() > out[i - 1])) {
        node.error("buckets_ms[" + i + "]", "expected a number above 0 and above the one before it, found "
            + a.getValue(i));
        return SpanMetrics.DEFAULT_BOUNDS_MS;
      }
      out[i] = n.doubleValue();
    }
    return out;
  }
}
