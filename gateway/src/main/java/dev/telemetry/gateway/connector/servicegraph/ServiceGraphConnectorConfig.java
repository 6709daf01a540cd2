package dev.telemetry.gateway.connector.servicegraph;

import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ConnectorConfig;
import dev.telemetry.gateway.connector.HistogramSpec;
import dev.telemetry.gateway.connector.spanmetrics.SpanMetricsConnectorConfig;
import java.time.Duration;
import java.util.List;

/**
 * The service_graph connector: edges between services from client/server span pairs, into a metrics pipeline.
 * {@code wait}: how long a span waits for its other half; {@code maxPending}: spans waiting at most;
 * {@code peerAttributes}: client span attributes naming an uninstrumented peer (first present wins);
 * {@code dimensions}: attributes added as {@code client_<d>}/{@code server_<d>} labels.
 */
public record ServiceGraphConnectorConfig(String name, List<String> dimensions, List<String> peerAttributes,
                                          Duration waitTime, int maxPending, HistogramSpec histogram,
                                          Duration flushInterval, int cardinalityLimit, Duration expiry)
    implements ConnectorConfig {
  public static final String TYPE = "service_graph";
  public static final Duration DEFAULT_WAIT = Duration.ofSeconds(10);
  public static final int DEFAULT_MAX_PENDING = 100_000;
  public static final int DEFAULT_CARDINALITY_LIMIT = 5_000;

  public ServiceGraphConnectorConfig {
    dimensions = List.copyOf(dimensions);
    peerAttributes = List.copyOf(peerAttributes);
  }

  @Override
  public String type() {
    return TYPE;
  }

  public static ServiceGraphConnectorConfig read(String name, ConfigNode node) {
    node.allowOnly("type", "dimensions", "virtual_node_peer_attributes", "wait", "max_pending", "histogram",
        "buckets_seconds", "max_buckets", "flush_interval", "cardinality_limit", "expiry");
    List<String> dimensions = node.stringList("dimensions", List.of());
    List<String> peers = node.stringList("virtual_node_peer_attributes", ServiceGraph.DEFAULT_PEER_ATTRIBUTES);
    Duration wait = node.duration("wait", DEFAULT_WAIT, Duration.ofMillis(100));
    int maxPending = (int) node.integer("max_pending", DEFAULT_MAX_PENDING, 1, 10_000_000);
    HistogramSpec histogram = SpanMetricsConnectorConfig.histogram(node, "buckets_seconds",
        ServiceGraph.DEFAULT_BOUNDS_S);
    Duration flush = node.duration("flush_interval", SpanMetricsConnectorConfig.DEFAULT_FLUSH_INTERVAL,
        Duration.ofMillis(100));
    int limit = (int) node.integer("cardinality_limit", DEFAULT_CARDINALITY_LIMIT, 1, 1_000_000);
    Duration expiry = node.duration("expiry", SpanMetricsConnectorConfig.DEFAULT_EXPIRY, Duration.ZERO);
    return node.build(null, () -> new ServiceGraphConnectorConfig(name, dimensions, peers, wait, maxPending,
        histogram, flush, limit, expiry));
  }
}
