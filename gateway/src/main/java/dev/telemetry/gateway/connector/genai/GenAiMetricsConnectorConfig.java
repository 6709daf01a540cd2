package dev.telemetry.gateway.connector.genai;

import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ConnectorConfig;
import dev.telemetry.gateway.connector.spanmetrics.SpanMetricsConnectorConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The gen_ai_metrics connector: token usage, call durations and cost of model calls, into a metrics pipeline.
 * {@code priceTable}: the JSON price file (null: usage without cost), re-read every {@code reloadInterval} when it
 * changed; {@code allocation}: attributes that split cost (span, then resource); {@code tenantAttribute}: where the
 * tenant is read when the request carries none; {@code stateFile}: where month-to-date cost is kept across restarts
 * (null: not kept).
 */
public record GenAiMetricsConnectorConfig(String name, Path priceTable, Duration reloadInterval,
                                          List<String> allocation, String tenantAttribute, Path stateFile,
                                          Duration flushInterval, int cardinalityLimit, Duration expiry)
    implements ConnectorConfig {
  public static final String TYPE = "gen_ai_metrics";
  public static final Duration DEFAULT_RELOAD = Duration.ofSeconds(10);
  public static final int DEFAULT_CARDINALITY_LIMIT = 2_000;

  public GenAiMetricsConnectorConfig {
    allocation = List.copyOf(allocation);
  }

  @Override
  public String type() {
    return TYPE;
  }

  public static GenAiMetricsConnectorConfig read(String name, ConfigNode node) {
    node.allowOnly("type", "price_table", "reload_interval", "allocation_attributes", "tenant_attribute",
        "state_file", "flush_interval", "cardinality_limit", "expiry");
    String prices = node.has("price_table") ? node.string("price_table", null) : null;
    Duration reload = node.duration("reload_interval", DEFAULT_RELOAD, Duration.ZERO);
    List<String> allocation = node.stringList("allocation_attributes", List.of());
    String tenant = node.string("tenant_attribute", "tenant");
    String state = node.has("state_file") ? node.string("state_file", null) : null;
    Duration flush = node.duration("flush_interval", SpanMetricsConnectorConfig.DEFAULT_FLUSH_INTERVAL,
        Duration.ofMillis(100));
    int limit = (int) node.integer("cardinality_limit", DEFAULT_CARDINALITY_LIMIT, 1, 1_000_000);
    // Cost series are cumulative money: forgetting one would lose its total from the next remote-write.
    Duration expiry = node.duration("expiry", Duration.ZERO, Duration.ZERO);
    return node.build(null, () -> new GenAiMetricsConnectorConfig(name, prices == null ? null : Path.of(prices),
        reload, allocation, tenant, state == null ? null : Path.of(state), flush, limit, expiry));
  }
}
