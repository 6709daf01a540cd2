package dev.telemetry.gateway.exporter.prometheus;

import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.config.QueueConfig;
import dev.telemetry.gateway.config.RetryConfig;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The Prometheus remote-write 1.0 exporter (metrics only). Series are spread over {@code shards} concurrent senders
 * by label hash, so each series' samples stay in order; requests carry at most {@code maxSamplesPerSend} samples and
 * {@code maxBytesPerSend} uncompressed bytes. Delta points are turned into cumulative series with per-series state
 * bounded by {@code deltaMaxSeries} entries and {@code deltaTtl} idleness.
 */
public record PrometheusRemoteWriteExporterConfig(String name, URI endpoint, Duration timeout,
                                                  Map<String, String> headers, Map<String, String> externalLabels,
                                                  boolean addMetricSuffixes, boolean scopeLabels, boolean targetInfo,
                                                  List<String> promoteResourceAttributes, int shards,
                                                  int maxSamplesPerSend, long maxBytesPerSend, int deltaMaxSeries,
                                                  Duration deltaTtl, QueueConfig queue, BatchConfig batch,
                                                  RetryConfig retry, dev.telemetry.gateway.config.TlsClientConfig tls)
    implements ExporterConfig {
  public static final String TYPE = "prometheus_remote_write";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  public static final int DEFAULT_SHARDS = 4;
  public static final int DEFAULT_MAX_SAMPLES_PER_SEND = 2000;
  public static final long DEFAULT_MAX_BYTES_PER_SEND = 4L * 1024 * 1024;
  public static final int DEFAULT_DELTA_MAX_SERIES = 100_000;
  public static final Duration DEFAULT_DELTA_TTL = Duration.ofMinutes(10);
  /** One batch at a time keeps per-series order across batches; parallelism comes from the shards. */
  public static final QueueConfig DEFAULT_QUEUE = new QueueConfig(QueueConfig.DEFAULTS.maxItems(),
      QueueConfig.DEFAULTS.maxBytes(), 1);

  /** Without client TLS settings. */
  public PrometheusRemoteWriteExporterConfig(String name, URI endpoint, Duration timeout, Map<String, String> headers,
                                             Map<String, String> externalLabels, boolean addMetricSuffixes,
                                             boolean scopeLabels, boolean targetInfo,
                                             List<String> promoteResourceAttributes, int shards,
                                             int maxSamplesPerSend, long maxBytesPerSend, int deltaMaxSeries,
                                             Duration deltaTtl, QueueConfig queue, BatchConfig batch,
                                             RetryConfig retry) {
    this(name, endpoint, timeout, headers, externalLabels, addMetricSuffixes, scopeLabels, targetInfo,
        promoteResourceAttributes, shards, maxSamplesPerSend, maxBytesPerSend, deltaMaxSeries, deltaTtl, queue,
        batch, retry, dev.telemetry.gateway.config.TlsClientConfig.DEFAULTS);
  }

  public PrometheusRemoteWriteExporterConfig {
    if (tls != dev.telemetry.gateway.config.TlsClientConfig.DEFAULTS && !"https".equals(endpoint.getScheme())) {
      throw new IllegalArgumentException("tls: set for an http:// endpoint; use https://");
    }
    headers = Map.copyOf(headers);
    externalLabels = Map.copyOf(externalLabels);
    promoteResourceAttributes = List.copyOf(promoteResourceAttributes);
    if (queue.concurrency() != 1) {
      throw new IllegalArgumentException("queue.concurrency must be 1 for prometheus_remote_write: samples of a "
          + "series must arrive in order, so batches go one at a time (use \"shards\" for parallel sends)");
    }
    for (String label : externalLabels.keySet()) {
      if (!label.matches("[a-zA-Z_][a-zA-Z0-9_]*") || label.startsWith("__")) {
        throw new IllegalArgumentException("external_labels: \"" + label + "\" is not a valid Prometheus label name");
      }
    }
  }

  @Override
  public String type() {
    return TYPE;
  }

  /** Reads an exporter of type {@value #TYPE}. */
  public static PrometheusRemoteWriteExporterConfig read(String name, ConfigNode node) {
    int before = node.problems();
    QueueConfig queue = QueueConfig.read(node.object("queue"), DEFAULT_QUEUE);
    BatchConfig batch = BatchConfig.read(node.object("batch"));
    RetryConfig retry = RetryConfig.read(node.object("retry"));
    node.allowOnly("type", "endpoint", "timeout", "headers", "external_labels", "add_metric_suffixes",
        "scope_labels", "target_info", "promote_resource_attributes", "shards", "max_samples_per_send",
        "max_bytes_per_send", "delta", "queue", "batch", "retry", "tls");
    dev.telemetry.gateway.config.TlsClientConfig tls = dev.telemetry.gateway.config.TlsClientConfig.read(node, "tls");
    java.net.URI endpoint = node.url("endpoint");
    Duration timeout = node.duration("timeout", DEFAULT_TIMEOUT, Duration.ofMillis(1));
    Map<String, String> headers = node.stringMap("headers");
    Map<String, String> external = node.stringMap("external_labels");
    boolean suffixes = node.bool("add_metric_suffixes", true);
    boolean scope = node.bool("scope_labels", true);
    boolean targetInfo = node.bool("target_info", true);
    List<String> promote = node.stringList("promote_resource_attributes", List.of());
    int shards = (int) node.integer("shards", DEFAULT_SHARDS, 1, 256);
    int maxSamples = (int) node.integer("max_samples_per_send", DEFAULT_MAX_SAMPLES_PER_SEND, 1, 1_000_000);
    long maxBytes = node.bytes("max_bytes_per_send", DEFAULT_MAX_BYTES_PER_SEND, 1024);
    ConfigNode delta = node.object("delta");
    delta.allowOnly("max_series", "ttl");
    int deltaMax = (int) delta.integer("max_series", DEFAULT_DELTA_MAX_SERIES, 1, 100_000_000);
    Duration deltaTtl = delta.duration("ttl", DEFAULT_DELTA_TTL, Duration.ofSeconds(1));
    if (node.problems() > before) {
      return null;
    }
    return node.build(null, () -> new PrometheusRemoteWriteExporterConfig(name, endpoint, timeout, headers,
        external, suffixes, scope, targetInfo, promote, shards, maxSamples, maxBytes, deltaMax, deltaTtl, queue,
        batch, retry, tls));
  }
}
